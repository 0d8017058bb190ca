"""What an apply reports: one event per change as it runs, and the result at the end.

Plain data in a leaf module, so renderers (``report``, the progress line) take
them without importing the executor and, through it, the HTTP client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from reconciler.model import Change, ResourceId

EventKind = Literal["started", "succeeded", "failed", "skipped"]


@dataclass(frozen=True)
class ChangeEvent:
    """Progress of one change, for the CLI; ``message`` holds the error or skip reason."""

    kind: EventKind
    change: Change
    message: str = ""


@dataclass
class ApplyResult:
    """What happened to every change, each list and dict in plan order."""

    applied: list[ResourceId] = field(default_factory=list)
    failed: dict[ResourceId, str] = field(default_factory=dict)
    skipped: dict[ResourceId, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped

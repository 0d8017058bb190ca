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
    """What happened to every change, each list and dict in plan order.

    An apply that was stopped (:class:`reconciler.interrupt.StopRequest`) says why in
    ``stopped``; changes it never began are ``not_started``, and those cancelled
    while in flight are ``unknown``: their calls may or may not have landed.
    """

    applied: list[ResourceId] = field(default_factory=list)
    failed: dict[ResourceId, str] = field(default_factory=dict)
    skipped: dict[ResourceId, str] = field(default_factory=dict)
    not_started: list[ResourceId] = field(default_factory=list)
    unknown: dict[ResourceId, str] = field(default_factory=dict)
    stopped: str | None = None
    """Why the apply stopped before its end (``SIGINT``...); None when it ran to the end."""
    verify_error: str | None = None
    """The error of the re-read that verifies the writes, when it failed (the results
    above still hold: they are what the writes did)."""

    @property
    def ok(self) -> bool:
        return not (
            self.failed
            or self.skipped
            or self.not_started
            or self.unknown
            or self.stopped
            or self.verify_error
        )

"""What the engine may do beyond "make live match the specs": prune, grace, ignore, protect.

Kept in its own module so configuration can import the types without pulling
in the diff machinery.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Literal, get_args

from reconciler.model import Kind, ResourceId

PrunePolicy = Literal["ignore", "suspend", "delete", "suspend-then-delete"]
"""``ignore`` leaves unmanaged objects alone; ``suspend`` suspends them (lifecycle
kinds only); ``delete`` deletes them; ``suspend-then-delete`` suspends first and
deletes once the object has been suspended for its kind's grace period."""

PRUNE_POLICIES: Final[tuple[str, ...]] = get_args(PrunePolicy)
"""Every valid policy name, for validation and help text."""

DEFAULT_PRUNE: Final[PrunePolicy] = "ignore"
"""The policy of every kind the configuration does not name: safe by default."""

DEFAULT_GRACE: Final[timedelta] = timedelta(days=30)

_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``2w``, ``45s`` → a timedelta; ValueError otherwise."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"'{text}' is not a duration like 30d, 12h, 90m, 2w or 45s")
    number, unit = match.groups()
    return timedelta(**{_UNITS[unit]: int(number)})


@dataclass(frozen=True)
class Rules:
    """Per-target rules of the diff: removals, their grace, fields left alone, protection.

    ``now`` is fixed per run (and injectable in tests) so a plan is reproducible.
    """

    prune: Mapping[Kind, PrunePolicy] = field(default_factory=dict)
    grace: Mapping[Kind, timedelta] = field(default_factory=dict)
    ignore_fields: Mapping[Kind, frozenset[str]] = field(default_factory=dict)
    protect: frozenset[ResourceId] = frozenset()
    now: datetime | None = None

    def grace_for(self, kind: Kind) -> timedelta:
        return self.grace.get(kind, DEFAULT_GRACE)

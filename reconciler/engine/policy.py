"""What the engine does with live objects no spec mentions.

Kept in its own module so configuration can import the type without pulling
in the diff machinery.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

PrunePolicy = Literal["ignore", "suspend", "delete"]
"""``ignore`` leaves unmanaged objects alone; ``suspend`` suspends them (lifecycle
kinds only); ``delete`` deletes them."""

PRUNE_POLICIES: Final[tuple[str, ...]] = get_args(PrunePolicy)
"""Every valid policy name, for validation and help text."""

DEFAULT_PRUNE: Final[PrunePolicy] = "ignore"
"""The policy of every kind the configuration does not name: safe by default."""

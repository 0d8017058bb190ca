"""The engine: diff desired against live state, order the changes, apply them.

``diff`` → ``order`` → :class:`Plan` → ``execute``. Nothing here knows HTTP;
providers do the calls, the engine decides what and when.
"""

from __future__ import annotations

from reconciler.engine.diff import DiffResult, diff
from reconciler.engine.executor import ApplyResult, ChangeEvent, execute
from reconciler.engine.graph import dependencies, order
from reconciler.engine.plan import Plan, check_supported, make_plan
from reconciler.engine.policy import DEFAULT_PRUNE, PrunePolicy

__all__ = [
    "DEFAULT_PRUNE",
    "ApplyResult",
    "ChangeEvent",
    "DiffResult",
    "Plan",
    "PrunePolicy",
    "check_supported",
    "dependencies",
    "diff",
    "execute",
    "make_plan",
    "order",
]

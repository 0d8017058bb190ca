"""The engine: diff desired against live state, order the changes, apply them.

``Planner(rules, capabilities).plan(desired, live)`` → :class:`Plan` →
``execute``. Nothing here knows HTTP; providers do the calls, the engine
decides what and when.

Only the light names are imported here: importing the engine (or the spec
language, which needs none of it) does not load the executor, the journal or
the HTTP client. ``execute`` and friends come from
:mod:`reconciler.engine.executor`.
"""

from __future__ import annotations

from reconciler.engine.diff import DiffResult, diff
from reconciler.engine.graph import dependencies, order
from reconciler.engine.plan import Plan, change_support_problems
from reconciler.engine.planner import Planner, PlannerCapabilities

__all__ = [
    "DiffResult",
    "Plan",
    "Planner",
    "PlannerCapabilities",
    "change_support_problems",
    "dependencies",
    "diff",
    "order",
]

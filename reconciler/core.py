"""The library API: validate, plan and apply, usable without the CLI.

A thin orchestrator, in the manner of octoDNS's ``Manager``: each step is
done by the module that owns it, and this one only puts them in order.

- specs and ``reconciler.yaml``: :mod:`reconciler.spec`, checked against what the
  target's API supports before any call;
- the target and how to reach it: :mod:`reconciler.targets`, :mod:`reconciler.transport`;
- the connection, the live state and the journal: :mod:`reconciler.session`;
- the plan: :class:`reconciler.engine.planner.Planner`, the only way one is made
  (``Session.planner()`` gives it the target's rules and the API's capabilities);
- guards and execution: :mod:`reconciler.engine.guards`, :mod:`reconciler.engine.executor`;
- what comes back: :mod:`reconciler.runs` (``PlanRun``, ``ApplyRun``, ``Review``).

The steps themselves are in three modules, in the order a run takes them, and
re-exported here: :mod:`reconciler.preparing` (load the specs, resolve the target,
connect), :mod:`reconciler.planning` (plan, preview, review, save) and
:mod:`reconciler.applying` (guards, apply, verify). Import them from here.

Nothing here prints. Importing this module loads what ``validate`` needs (the
spec language, the targets, the providers' registry); the engine, the session
and the saved-plan format are imported by the functions that use them, and the
names re-exported from them come on first access (issue 15, "CLI import time").

Example::

    from reconciler import core
    run = core.plan("specs")              # embedded sandbox when no target is configured
    print(run.plan.summary())
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.applying import apply, apply_planned, apply_saved, check_guards
from reconciler.errors import GuardError, MalformedResponse, StalePlanError, UnsupportedError
from reconciler.planning import plan, preview_calls, read_plan, review, save_plan
from reconciler.preparing import check_support, load, resolve
from reconciler.providers import provider_class
from reconciler.spec.config import Config
from reconciler.targets import Target, TargetChoice, resolve_target

if TYPE_CHECKING:  # imported where used: ``validate`` needs none of them (issue 15)
    from reconciler.engine.planner import paused_gc
    from reconciler.interrupt import StopRequest
    from reconciler.model import State
    from reconciler.runs import ApplyRun, PlanRun, Preview, Review
    from reconciler.session import Session, journal_path, open_session, read_live
    from reconciler.transport import check_transport

__all__ = [  # the library API; the names from other modules stay importable from here
    "ApplyRun",
    "GuardError",
    "MalformedResponse",
    "PlanRun",
    "Preview",
    "Review",
    "Session",
    "StalePlanError",
    "StopRequest",
    "TargetChoice",
    "apply",
    "apply_planned",
    "apply_saved",
    "check_guards",
    "check_support",
    "check_transport",
    "journal_path",
    "load",
    "open_session",
    "paused_gc",
    "plan",
    "preview_calls",
    "read_live",
    "read_plan",
    "resolve_for_export",
    "review",
    "save_plan",
    "validate",
]


def __getattr__(name: str) -> object:
    """The names re-exported from modules a run imports only once it plans or applies
    (the engine, the session and its HTTP client), imported on first use."""
    if name in ("ApplyRun", "PlanRun", "Preview", "Review"):
        from reconciler import runs

        return getattr(runs, name)
    if name in ("Session", "journal_path", "open_session", "read_live"):
        from reconciler import session

        return getattr(session, name)
    if name == "StopRequest":
        from reconciler.interrupt import StopRequest

        return StopRequest
    if name == "check_transport":
        from reconciler.transport import check_transport

        return check_transport
    if name == "paused_gc":
        from reconciler.engine.planner import paused_gc

        return paused_gc
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def validate(spec_path: Path | str, choice: TargetChoice | None = None) -> State:
    """Check specs, config and what the target's API supports, without any call or token.

    The target is the one chosen, else the one a ``plan`` would use (the default, the
    only one, or the embedded sandbox); with several and no default, every one of them.
    """
    desired, config = load(spec_path)
    choice = choice or TargetChoice()
    if not choice.names_a_target and config.targets and config.default_target is None:
        targets = [
            resolve_target(config, TargetChoice(name=name), need_token=False)
            for name in config.targets
        ]
    else:
        targets = [resolve_target(config, choice, need_token=False)]
    problems = [p for t in targets for p in provider_class(t.dialect).support_problems(desired)]
    if problems:
        raise UnsupportedError(list(dict.fromkeys(problems)))
    return desired


def resolve_for_export(config: Config | None, choice: TargetChoice) -> Target:
    """The target to export from (no specs yet, so maybe no reconciler.yaml either)."""
    return resolve(config or Config(), choice)

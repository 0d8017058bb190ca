"""The apply half of the library API: guards, approval, execution and verification.

:func:`apply` plans and applies a spec tree, :func:`apply_saved` a saved plan
exactly as it was reviewed; both share the steps once they have a plan
(:func:`check_guards`, ask, :func:`apply_planned`). All re-exported by
:mod:`reconciler.core`, the library API, which callers import instead.

Nothing here prints. As light as ``validate`` needs (issue 15, "CLI import time"):
the engine, the session, the transport and the saved-plan format are imported by
the functions that use them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.errors import GuardError, PlanError, ReconcilerError, StalePlanError
from reconciler.planning import apply_context, guarded, read_plan
from reconciler.preparing import Loaded, connected, prepared
from reconciler.providers import provider_class
from reconciler.spec import load_specs
from reconciler.targets import TargetChoice, read_token
from reconciler.workdir import spec_root

if TYPE_CHECKING:  # imported where used: ``validate`` needs none of them (issue 15)
    from reconciler.engine.results import ChangeEvent
    from reconciler.interrupt import StopRequest
    from reconciler.model import ResourceId, State
    from reconciler.runs import ApplyRun, PlanRun
    from reconciler.session import Session


def check_guards(run: PlanRun, allow_mass_changes: bool) -> None:
    """Raise GuardError if the plan trips a guard (mass changes can be allowed once)."""
    problems = list(run.lockout)
    if not allow_mass_changes and run.mass_changes:
        problems += run.mass_changes
        problems.append("re-run with --allow-mass-changes if this is really intended")
    if problems:
        raise GuardError(
            "apply refused, nothing was changed:\n" + "\n".join(f"  {p}" for p in problems)
        )


async def apply_planned(
    session: Session,
    run: PlanRun,
    *,
    on_event: Callable[[ChangeEvent], None] | None = None,
    stop: StopRequest | None = None,
) -> ApplyRun:
    """Execute a plan, journaling every write, then re-read to verify the target converged.

    A requested ``stop`` ends the run early (``result.stopped``; the re-read is left to
    the next plan). A re-read that fails keeps what the writes did: ``result.verify_error``
    holds its error and ``remaining`` stays None (not verified).
    """
    from reconciler.engine.executor import execute
    from reconciler.engine.select import selected
    from reconciler.runs import ApplyRun
    from reconciler.session import journaled

    ctx = apply_context(run)
    with journaled(session, ctx.origin) as journal:
        result = await execute(
            run.plan,
            session.provider,
            ctx,
            parallelism=session.target.parallelism,
            on_event=on_event,
            protected=session.target.rules.protect,
            stop=stop,
        )
        if result.unknown and not (stop is not None and stop.at_once):
            journal.unanswered("cancelled in flight when the apply stopped: outcome unknown")
    del ctx  # a server id per object (11 MB at 110,000): not needed by the re-read
    if result.stopped:
        return ApplyRun(planned=run, result=result)
    try:
        if stop is None:
            after: PlanRun | None = await read_plan(
                session, run.desired, selected(run.plan), partial=True
            )
        else:
            with stop.attached():
                after = await stop.unless_stopped(
                    read_plan(session, run.desired, selected(run.plan), partial=True)
                )
    except ReconcilerError as exc:
        result.verify_error = str(exc)
        return ApplyRun(planned=run, result=result)
    if after is None:
        result.stopped = stop.reason if stop is not None else "stop requested"
        return ApplyRun(planned=run, result=result)
    return ApplyRun(planned=run, result=result, remaining=after.plan)


async def _guard_approve_apply(
    session: Session,
    planned: PlanRun,
    approve: Callable[[PlanRun], bool],
    on_event: Callable[[ChangeEvent], None] | None,
    allow_mass_changes: bool,
    stop: StopRequest | None = None,
) -> ApplyRun:
    """The steps every apply shares once it has a plan: guards, approval, apply, verify."""
    from reconciler.engine.select import warn
    from reconciler.runs import ApplyRun

    warn(planned.plan.selection)
    if not planned.plan.has_changes:
        return ApplyRun(planned=planned, remaining=planned.plan)
    check_guards(planned, allow_mass_changes)
    if not approve(planned):
        return ApplyRun(planned=planned, approved=False)
    return await apply_planned(session, planned, on_event=on_event, stop=stop)


def apply(
    spec_path: Path | str,
    choice: TargetChoice | None = None,
    *,
    approve: Callable[[PlanRun], bool] = lambda run: True,
    on_event: Callable[[ChangeEvent], None] | None = None,
    workdir: Path | None = None,
    allow_mass_changes: bool = False,
    stop: StopRequest | None = None,
    only: Sequence[ResourceId] = (),
) -> ApplyRun:
    """Plan, check the guards, ask ``approve`` (the CLI shows the plan), apply, verify.

    ``stop``: request it (from any thread) to stop the apply early, losing nothing
    (:mod:`reconciler.interrupt`); ``run.result.stopped`` then says so. As for
    :func:`~reconciler.planning.plan`, a spec problem stops it before any write, reads
    perhaps sent.
    """

    async def work(session: Session, loaded: Loaded, live: State) -> ApplyRun:
        planned = await read_plan(session, loaded.desired, only, live=live)
        return await _guard_approve_apply(
            session, planned, approve, on_event, allow_mass_changes, stop
        )

    return prepared(spec_path, choice, workdir, work)


def apply_saved(
    plan_path: Path | str,
    *,
    approve: Callable[[PlanRun], bool] = lambda run: True,
    on_event: Callable[[ChangeEvent], None] | None = None,
    workdir: Path | None = None,
    env: dict[str, str] | None = None,
    allow_mass_changes: bool = False,
    tls: TargetChoice | None = None,
    stop: StopRequest | None = None,
    only: Sequence[ResourceId] = (),
) -> ApplyRun:
    """Apply exactly a saved plan; refuse if the specs or the live state moved.

    Refused before any call (SpecsChangedError) when the spec tree at the plan's
    spec path is not the one it was made from; after reading (StalePlanError)
    when a live object it read moved.

    The plan was made by the planner when it was saved and is executed as it
    was reviewed; the re-read that verifies it plans with the rules saved with
    it. ``tls`` carries this run's TLS choices (the file names its own target);
    ``stop`` is as for :func:`apply`. ``only``, if given, must be the selection the
    plan was made with (``plan --only``): a saved plan is never narrowed again.
    """
    from reconciler import planfile
    from reconciler.engine.planner import PlannerCapabilities
    from reconciler.session import read_live
    from reconciler.transport import use_transport

    path = Path(plan_path)
    saved = planfile.load(path)
    made_with = saved.plan.selection.only if saved.plan.selection is not None else ()
    if only and tuple(only) != made_with:
        made = " ".join(f"--only {r}" for r in made_with) or "no --only"
        raise PlanError(f"{path} is applied exactly as it was planned ({made}); drop --only")
    target = saved.target
    if PlannerCapabilities.of(provider_class(target.dialect)).sensitive:
        problems = planfile.restore_secrets(saved, load_specs(saved.specs))
        if problems:
            raise PlanError("\n".join(problems))
    planfile.check_spec_tree(saved, path)  # made from exactly the specs here, else refused
    use_transport(target, tls or TargetChoice(), keep=False)  # the file holds none
    if not target.embedded:
        environ = os.environ if env is None else env
        target.token = read_token(
            environ,
            target.token_env,
            f"the plan's target '{target.name}' needs a token: set {target.token_env}",
        )

    async def work(session: Session) -> ApplyRun:
        live = await read_live(session)
        moved = planfile.moved(saved.fingerprints, live)
        if moved:
            raise StalePlanError(path, moved)
        planned = await guarded(session, saved.desired, live, saved.plan)
        return await _guard_approve_apply(
            session, planned, approve, on_event, allow_mass_changes, stop
        )

    specs = Path(saved.specs)  # the spec root it was planned from, else where the file is
    return connected(target, workdir or spec_root(specs if specs.exists() else path), work)

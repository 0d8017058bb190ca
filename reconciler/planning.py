"""The plan half of the library API: read, plan, guard, preview, review and save.

:func:`plan` and :func:`review` are what ``reconciler plan`` and ``reconciler
review`` run; :func:`read_plan` plans inside an open session (the apply's verifying
re-read too); :func:`preview_calls` is ``--show-calls``. All re-exported by
:mod:`reconciler.core`, the library API, which callers import instead.

Nothing here prints. As light as ``validate`` needs (issue 15, "CLI import time"):
the engine, the session and the saved-plan format are imported by the functions
that use them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.errors import PlanError
from reconciler.preparing import Loaded, prepared
from reconciler.providers import provider_class
from reconciler.targets import TargetChoice

if TYPE_CHECKING:  # imported where used: ``validate`` needs none of them (issue 15)
    from reconciler.engine.plan import Plan, Selection
    from reconciler.engine.results import ChangeEvent
    from reconciler.model import ResourceId, State
    from reconciler.providers.base import ApplyContext
    from reconciler.runs import PlanRun, Preview, Review
    from reconciler.session import Session


async def read_plan(
    session: Session,
    desired: State,
    only: Sequence[ResourceId] | Selection | None = (),
    *,
    partial: bool = False,
    live: State | None = None,
) -> PlanRun:
    """Read live state, plan against ``desired``, and find what guards would refuse.

    Every external object must exist live. ``only`` (``--only``) narrows the plan to
    those objects and what they need (:mod:`reconciler.engine.select`). ``partial``:
    ``desired`` is a part of the specs (a library caller's few objects), so a
    reference to a live object outside it resolves; a spec tree's references must
    name an object in the specs or declared external for this target. ``live``: the
    live state already read (after the specs loaded), else it is read here.
    """
    from reconciler.engine.external import require_external
    from reconciler.engine.select import narrow
    from reconciler.session import read_live

    live = await read_live(session) if live is None else live
    plan = session.planner().plan(desired, live)
    require_external(plan.external, desired, live if partial else None)
    plan = narrow(plan, only, desired, live)
    return await guarded(session, desired, live, plan)


async def guarded(session: Session, desired: State, live: State, plan: Plan) -> PlanRun:
    """Check a plan against the API's support and the guards; refuse protected removals."""
    from reconciler.engine.guards import lockout_problems, mass_change_problems
    from reconciler.engine.plan import change_support_problems
    from reconciler.runs import PlanRun

    provider = session.provider
    problems = plan.protected + change_support_problems(plan, provider)
    if problems:
        raise PlanError("\n".join(problems))
    me = await provider.whoami() if plan.has_changes else None
    return PlanRun(
        target=session.target,
        desired=desired,
        live=live,
        plan=plan,
        mass_changes=mass_change_problems(plan, live, session.target.guards),
        lockout=lockout_problems(plan, live, provider.capabilities.admin_role, me),
    )


def apply_context(run: PlanRun) -> ApplyContext:
    """What an apply of ``run`` knows besides its changes: the live objects' server ids
    and where the run comes from. The preview runs in the same, to show the same calls."""
    from reconciler.origin import describe_origin
    from reconciler.providers.base import ApplyContext

    return ApplyContext(
        ids={r.id: sid for r in run.live if (sid := r.server_id) is not None},
        origin=describe_origin(),
        changes=run.plan.changes,
    )


async def preview_calls(session: Session, run: PlanRun) -> Preview:
    """The writes an apply of ``run`` would send, found by running it without sending."""
    from reconciler.engine.executor import execute
    from reconciler.providers.preview import previewing
    from reconciler.runs import Preview

    provider_type = type(session.provider)
    client, calls = previewing(
        session.client,
        session.provider.preview_answer,
        provider_type.capabilities.sensitive_body_keys,
    )
    # The same options as the real run: the calls shown are the calls an apply sends.
    provider = provider_type(client, session.provider.options)

    def follow(event: ChangeEvent) -> None:
        if event.kind == "started":
            calls.current = str(event.change.id)

    async with client:
        result = await execute(
            run.plan, provider, apply_context(run), parallelism=1, on_event=follow
        )
    unknown = {str(rid): why for rid, why in {**result.failed, **result.skipped}.items()}
    return Preview(calls=calls.calls, unknown=unknown)


def plan(
    spec_path: Path | str,
    choice: TargetChoice | None = None,
    *,
    workdir: Path | None = None,
    show_calls: bool = False,
    only: Sequence[ResourceId] = (),
) -> PlanRun:
    """Load specs, read the target and return what would change.

    With ``show_calls``, also the exact writes an apply would send (``run.preview``);
    with ``only``, just those objects' changes and what they need. The specs load
    first: a spec problem is raised before any API call
    (:func:`reconciler.preparing.prepared`).
    """
    return prepared(
        spec_path,
        choice,
        workdir,
        lambda s, loaded, live: _plan_in(s, loaded.desired, show_calls, only, live),
    )


async def _plan_in(
    session: Session,
    desired: State,
    show_calls: bool,
    only: Sequence[ResourceId] = (),
    live: State | None = None,
) -> PlanRun:
    from reconciler.engine.select import warn

    planned = await read_plan(session, desired, only, live=live)
    warn(planned.plan.selection)
    if show_calls:
        planned.preview = await preview_calls(session, planned)
    return planned


def review(
    spec_path: Path | str,
    choice: TargetChoice | None = None,
    *,
    base: str | None = None,
    workdir: Path | None = None,
    show_calls: bool = False,
    only: Sequence[ResourceId] = (),
) -> Review:
    """Plan, and with ``base`` (a git ref or directory) split the PR's changes from drift.

    Both halves of the split are planned like the main plan: the target's rules
    (prune, ``ignoreFields``, ``protect``) and the API's capabilities hold in each.
    """
    from reconciler.runs import Review

    async def work(session: Session, loaded: Loaded, live: State) -> Review:
        desired, base_state = loaded.desired, loaded.base
        run = await _plan_in(session, desired, show_calls, only, live)
        if base_state is None:
            return Review(run=run, spec_path=str(spec_path), drift=run.plan)
        from reconciler.engine.select import narrow

        # with --only, each half shows the selection's part of it, as the plan does
        planner, selection = session.planner(), run.plan.selection
        return Review(
            run=run,
            spec_path=str(spec_path),
            base_label=base,
            pr_changes=narrow(planner.plan(desired, base_state), selection, desired, base_state),
            drift=narrow(planner.plan(base_state, run.live), selection, base_state, run.live),
        )

    return prepared(spec_path, choice, workdir, work, base=base)


def save_plan(run: PlanRun, out: Path | str, spec_path: Path | str) -> None:
    """Write ``run`` as a saved plan that ``apply_saved`` can execute exactly."""
    from reconciler import planfile
    from reconciler.engine.planner import PlannerCapabilities
    from reconciler.origin import describe_origin

    capabilities = PlannerCapabilities.of(provider_class(run.target.dialect))
    document = planfile.dump(
        run.plan,
        run.target,
        run.desired,
        run.live,
        str(spec_path),
        describe_origin(),
        capabilities.sensitive,
    )
    planfile.write(Path(out), document)

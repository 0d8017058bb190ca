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

import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from reconciler.errors import (
    GuardError,
    MalformedResponse,
    PlanError,
    ReconcilerError,
    StalePlanError,
    UnsupportedError,
)
from reconciler.providers import provider_class
from reconciler.spec import load_specs
from reconciler.spec.cache import SpecCache
from reconciler.spec.config import Config, load_config
from reconciler.targets import Target, TargetChoice, read_token, resolve_target
from reconciler.workdir import spec_root

if TYPE_CHECKING:  # imported where used: ``validate`` needs none of them (issue 15)
    from reconciler.engine.plan import Plan, Selection
    from reconciler.engine.planner import paused_gc
    from reconciler.engine.results import ChangeEvent
    from reconciler.interrupt import StopRequest
    from reconciler.model import ResourceId, State
    from reconciler.providers.base import ApplyContext
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


T = TypeVar("T")


# ---- specs and target -------------------------------------------------------------------


def load(spec_path: Path | str) -> tuple[State, Config]:
    """Load and validate the specs and their ``reconciler.yaml``; raises SpecError.

    Files already parsed are taken from the spec root's cache (``.reconciler/cache/``,
    :mod:`reconciler.spec.cache`) unless ``RECONCILER_NO_CACHE`` is set.
    """
    path = Path(spec_path)
    desired = _load_desired(path)
    config = load_config(path if path.is_dir() else path.parent)
    return desired, config


def _load_desired(path: Path) -> State:
    from reconciler.engine.planner import paused_gc

    with paused_gc():
        return load_specs(path, cache=SpecCache.for_specs(path))


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


def check_support(desired: State, target: Target) -> None:
    """Refuse, before any call, specs that ask the target's API for what it cannot do."""
    problems = provider_class(target.dialect).support_problems(desired)
    if problems:
        raise UnsupportedError(problems)


def resolve_for_export(config: Config | None, choice: TargetChoice) -> Target:
    """The target to export from (no specs yet, so maybe no reconciler.yaml either)."""
    return _resolve(config or Config(), choice)


def _resolve(config: Config, choice: TargetChoice) -> Target:
    from reconciler.transport import use_transport

    target = resolve_target(config, choice)
    use_transport(target, choice, keep=True)
    return target


@dataclass
class _Loaded:
    """What a run loads from files before it may write: the specs, and the base specs."""

    desired: State
    base: State | None = None


def _planned(
    spec_path: Path | str,
    choice: TargetChoice | None,
    workdir: Path | None,
    work: Callable[[Session, _Loaded, State], Awaitable[T]],
    *,
    base: str | None = None,
) -> T:
    """Load the specs (and the ``base`` specs), check them against what the API
    supports, then connect, read the live state and ``work(session, loaded, live)``.

    The specs load first, always: a malformed spec fails before any API call
    (README, "Bad input"). Loading beside the read would gain ~0.3 s at 50 ms
    latency (docs/performance.md), at the price of reads sent for a plan that
    then fails; the cache keeps the load itself short instead.
    """
    from reconciler.basespecs import load_base
    from reconciler.session import read_live

    path = Path(spec_path)
    try:
        config = load_config(path if path.is_dir() else path.parent)
        target = _resolve(config, choice or TargetChoice())
    except ReconcilerError:
        load(path)  # a spec problem is reported first, as when the specs load first
        raise
    workdir = workdir or spec_root(spec_path)
    desired = _load_desired(path)
    check_support(desired, target)
    loaded = _Loaded(desired, load_base(base, path) if base is not None else None)

    async def read_then_work(session: Session) -> T:
        return await work(session, loaded, await read_live(session))

    return _connected(target, workdir, read_then_work)


def _run(main: Callable[[], Awaitable[T]]) -> T:
    """``asyncio.run(main())``, the result handed back beside the task, not as its result.

    On Python 3.11, ``asyncio.run`` restoring the SIGINT handler at the end formats
    the repr of its main task, result included: every object of a plan's states
    (a tenth of a second at 110,000 objects, seconds under a profiler).
    """
    import asyncio

    result: list[T] = []

    async def boxed() -> None:
        result.append(await main())

    asyncio.run(boxed())
    return result[0]


def _connected(target: Target, workdir: Path | None, work: Callable[[Session], Awaitable[T]]) -> T:
    """Run ``work`` in a session with ``target``, from synchronous code.

    ``workdir`` is where local state lives (:mod:`reconciler.workdir`): callers pass
    the spec root, never the current directory.
    """
    from reconciler.session import open_session, warn_unfinished

    async def run() -> T:
        async with open_session(target, workdir) as session:
            warn_unfinished(session)  # the last apply's writes without an outcome
            return await work(session)

    return _run(run)


# ---- plan -------------------------------------------------------------------------------


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
    return await _guarded(session, desired, live, plan)


async def _guarded(session: Session, desired: State, live: State, plan: Plan) -> PlanRun:
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
        result = await execute(run.plan, provider, _context(run), parallelism=1, on_event=follow)
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
    first: a spec problem is raised before any API call (:func:`_planned`).
    """
    return _planned(
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

    async def work(session: Session, loaded: _Loaded, live: State) -> Review:
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

    return _planned(spec_path, choice, workdir, work, base=base)


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


# ---- apply ------------------------------------------------------------------------------


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


def _context(run: PlanRun) -> ApplyContext:
    from reconciler.origin import describe_origin
    from reconciler.providers.base import ApplyContext

    return ApplyContext(
        ids={r.id: sid for r in run.live if (sid := r.server_id) is not None},
        origin=describe_origin(),
        changes=run.plan.changes,
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

    ctx = _context(run)
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
    :func:`plan`, a spec problem stops it before any write, reads perhaps sent.
    """

    async def work(session: Session, loaded: _Loaded, live: State) -> ApplyRun:
        planned = await read_plan(session, loaded.desired, only, live=live)
        return await _guard_approve_apply(
            session, planned, approve, on_event, allow_mass_changes, stop
        )

    return _planned(spec_path, choice, workdir, work)


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
        planned = await _guarded(session, saved.desired, live, saved.plan)
        return await _guard_approve_apply(
            session, planned, approve, on_event, allow_mass_changes, stop
        )

    specs = Path(saved.specs)  # the spec root it was planned from, else where the file is
    return _connected(target, workdir or spec_root(specs if specs.exists() else path), work)

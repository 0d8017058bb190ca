"""The library API: validate, plan and apply, usable without the CLI.

Each step keeps to its room: specs are loaded and checked against what the
target's API supports before any call; the provider reads live state; the
engine diffs, orders and executes; nothing here prints.

Example::

    from reconciler import core
    run = core.plan("specs")              # embedded sandbox when no target is configured
    print(run.plan.summary())
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import secrets
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx

from reconciler import planfile
from reconciler.basespecs import load_base
from reconciler.engine.executor import ApplyResult, ChangeEvent, execute
from reconciler.engine.guards import lockout_problems, mass_change_problems
from reconciler.engine.plan import Plan, check_supported, make_plan
from reconciler.engine.policy import Rules
from reconciler.errors import ApiError, ConfigError, PlanError, UnsupportedError
from reconciler.journal import DEFAULT_JOURNAL, Journal
from reconciler.model import LIFECYCLE, Action, Change, FieldChange, Kind, Resource, State
from reconciler.origin import describe_origin
from reconciler.providers import Provider, provider_class
from reconciler.providers.base import ApplyContext
from reconciler.providers.http import ApiClient
from reconciler.providers.preview import PlannedCall, PreviewClient
from reconciler.report.values import SENSITIVE
from reconciler.spec import load_specs
from reconciler.spec.config import Config, load_config
from reconciler.targets import Target, resolve_target

log = logging.getLogger("reconciler")


@dataclass
class TargetOptions:
    """How the caller chose a target (the CLI's ``--target``/``--api``/``--url``)."""

    target: str | None = None
    api: str | None = None
    url: str | None = None
    parallelism: int | None = None
    ca_bundle: str | None = None
    insecure: bool = False
    allow_http: bool = False


@dataclass
class Session:
    """An open connection to one target, with its provider."""

    target: Target
    provider: Provider
    client: ApiClient
    url: str


@dataclass
class PlanRun:
    """What a plan read and decided."""

    target: Target
    desired: State
    live: State
    plan: Plan
    preview: Preview | None = None
    mass_changes: list[str] = field(default_factory=list)
    """Why the mass-change guard would refuse this plan (empty: it would not)."""
    lockout: list[str] = field(default_factory=list)
    """Why the lockout guard refuses this plan (no override)."""


@dataclass
class Preview:
    """``plan --show-calls``: the writes in apply order, and changes that could not be shown."""

    calls: list[PlannedCall]
    unknown: dict[str, str] = field(default_factory=dict)


@dataclass
class ApplyRun:
    """What an apply did, and what the re-read found afterwards."""

    planned: PlanRun
    result: ApplyResult | None = None
    remaining: Plan | None = None
    approved: bool = True
    events: list[ChangeEvent] = field(default_factory=list)

    @property
    def converged(self) -> bool:
        return self.remaining is not None and not self.remaining.has_changes

    @property
    def ok(self) -> bool:
        if not self.approved:
            return True
        return self.result is not None and self.result.ok and self.converged


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while building large acyclic structures.

    Loading 110,000 objects or diffing them allocates millions of small objects
    that live on; each allocation burst triggers full collections that find
    nothing (measured in bench/: a third of the engine's CPU). Reference
    counting still frees everything; the collector resumes afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load(spec_path: Path | str) -> tuple[State, Config]:
    """Load and validate the specs and their ``reconciler.yaml``; raises SpecError."""
    path = Path(spec_path)
    with paused_gc():
        desired = load_specs(path)
    config = load_config(path if path.is_dir() else path.parent)
    return desired, config


def validate(spec_path: Path | str, options: TargetOptions | None = None) -> State:
    """Check specs, config and, when a target is known, what its API supports."""
    desired, config = load(spec_path)
    if options is not None:
        target = _resolve(config, options)
        check_support(desired, target)
    return desired


def check_support(desired: State, target: Target) -> None:
    """Refuse, before any call, specs that ask the target's API for what it cannot do."""
    problems = provider_class(target.dialect).check(desired)
    if problems:
        raise UnsupportedError(problems)


def resolve_for_export(config: Config | None, options: TargetOptions) -> Target:
    """The target to export from (no specs yet, so maybe no reconciler.yaml either)."""
    return _resolve(config or Config(), options)


def _resolve(config: Config, options: TargetOptions) -> Target:
    target = resolve_target(
        config,
        target=options.target,
        api=options.api,
        url=options.url,
        parallelism=options.parallelism,
    )
    target.ca_bundle = options.ca_bundle or target.ca_bundle
    target.insecure = options.insecure or target.insecure
    target.allow_plain_http = options.allow_http or target.allow_plain_http
    check_transport(target)
    return target


LOOPBACK = ("127.0.0.1", "::1", "localhost")


def check_transport(target: Target) -> None:
    """Refuse plain HTTP off this machine unless allowed; TLS settings must be coherent."""
    if target.url is None:
        return
    parsed = httpx.URL(target.url)
    host = parsed.host.strip("[]")
    local = host in LOOPBACK or host.startswith("127.")
    if parsed.scheme == "http" and not local and not target.allow_plain_http:
        raise ConfigError(
            f"refusing plain http:// to {host}: the token would cross the network "
            "unencrypted; use https://, or --allow-http if you really mean it"
        )
    if target.insecure and target.ca_bundle:
        raise ConfigError("give either --ca-bundle or --insecure, not both")
    if target.ca_bundle and not Path(target.ca_bundle).is_file():
        raise ConfigError(f"--ca-bundle {target.ca_bundle}: no such file")


@asynccontextmanager
async def open_session(target: Target, workdir: Path | None = None) -> AsyncIterator[Session]:
    """Connect to ``target``; for the embedded sandbox, start it for the session's life."""
    async with AsyncExitStack() as stack:
        if target.embedded:
            from reconciler.sandbox.server import EmbeddedSandbox

            db = (workdir or Path.cwd()) / target.embedded_db
            db.parent.mkdir(parents=True, exist_ok=True)
            sandbox = EmbeddedSandbox(
                dialect=target.dialect, db_path=db, token=secrets.token_urlsafe(24)
            )
            stack.enter_context(sandbox)
            url, token = sandbox.url + provider_class(target.dialect).base_path, sandbox.token
        else:
            assert target.url is not None and target.token is not None
            url, token = target.url, target.token
        verify: bool | ssl.SSLContext = True
        if target.insecure:
            log.warning(
                "TLS certificate verification is OFF for %s (--insecure): anyone on the "
                "path can read the token and change what is applied",
                target.name,
            )
            verify = False
        elif target.ca_bundle:
            verify = ssl.create_default_context(cafile=target.ca_bundle)
        client = ApiClient(url, token, max_connections=max(target.parallelism, 16), verify=verify)
        await stack.enter_async_context(client)
        provider = provider_class(target.dialect)(client)
        yield Session(target=target, provider=provider, client=client, url=url)


async def read_plan(session: Session, desired: State) -> PlanRun:
    """Read live state, diff it against ``desired``, and find what guards would refuse."""
    live = await read_live(session)
    with paused_gc():
        plan = make_plan(
            desired, live, rules=_rules(session), admin_role=session.provider.admin_role
        )
    _drop_met_by_absence(plan, session.provider)
    return await _planned(session, desired, live, plan)


def _drop_met_by_absence(plan: Plan, provider: Provider) -> None:
    """Creates of inactive objects an API never lists as inactive: nothing to do."""
    kinds = provider.absent_is_inactive
    if not kinds:
        return
    keep = []
    for change in plan.changes:
        lifecycle = LIFECYCLE.get(change.id.kind)
        met = (
            change.action is Action.CREATE
            and change.id.kind in kinds
            and lifecycle is not None
            and change.desired is not None
            and change.desired.fields.get(lifecycle.field) == lifecycle.inactive
        )
        if met:
            plan.unchanged.append(change.id)
        else:
            keep.append(change)
    plan.changes = keep


class MalformedResponse(ApiError):
    """The API answered in a shape its provider cannot read: nothing is planned from it."""


async def read_live(session: Session) -> State:
    """The live state, or a clear error naming the call when an answer has the wrong shape."""
    provider = session.provider
    try:
        with paused_gc():
            live = await provider.read(list(provider.supports))
            for resource in live:
                _check_shape(resource)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        method, _, path = session.client.last_call.partition(" ")
        raise MalformedResponse(
            method or "GET",
            path or "?",
            200,
            f"the {session.target.dialect} API answered in a shape it does not document "
            f"({type(exc).__name__}: {exc}); nothing was planned",
        ) from None
    if live.duplicates:
        shown = "; ".join(
            f"{a.id} (ids {a.server_id} and {b.server_id})" for a, b in live.duplicates[:5]
        )
        raise PlanError(
            f"the {session.target.dialect} API holds {len(live.duplicates)} object(s) under a "
            f"name another object already has: {shown}. Which one the specs mean is "
            "ambiguous; remove the duplicates by hand, then plan again"
        )
    return live


REFERENCE_FIELDS = ("plan", "parent", "tenant", "role", "flag", "name", "email")


def _check_shape(resource: Resource) -> None:
    """Natural keys and references read from an API must be text: the diff relies on it."""
    if not isinstance(resource.id.key, str) or not resource.id.key:
        raise TypeError(f"a {resource.id.kind.value} has the key {resource.id.key!r}, not a name")
    for name in REFERENCE_FIELDS:
        value = resource.fields.get(name)
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{resource.id}: '{name}' is {value!r}, not text")


def journal_path(env: dict[str, str] | None = None) -> Path:
    """Where writes are journaled: ``$RECONCILER_JOURNAL`` or ``.reconciler/journal.jsonl``."""
    environ = os.environ if env is None else env
    return Path(environ.get("RECONCILER_JOURNAL") or DEFAULT_JOURNAL)


def _rules(session: Session) -> Rules:
    target = session.target
    return replace(target.rules, prune=target.prune or target.rules.prune)


def sensitive_fields(provider: type[Provider] | Provider) -> dict[Kind, frozenset[str]]:
    """Fields the API marks sensitive, per kind: shown as ``(sensitive)``, never saved."""
    return {kind: s.sensitive for kind, s in provider.supports.items() if s.sensitive}


def _mask(plan: Plan, sensitive: dict[Kind, frozenset[str]]) -> None:
    """Field-level detail of sensitive fields becomes ``(sensitive)`` in every report."""
    for change in plan.changes:
        hidden = sensitive.get(change.id.kind)
        if not hidden:
            continue
        change.fields = [
            FieldChange(
                fc.path,
                SENSITIVE if fc.old is not None else None,
                SENSITIVE if fc.new is not None else None,
            )
            if fc.path.split(".", 1)[0] in hidden
            else fc
            for fc in change.fields
        ]


async def _planned(session: Session, desired: State, live: State, plan: Plan) -> PlanRun:
    """Check a plan against the API's support and the guards; refuse protected removals."""
    provider = session.provider
    _mask(plan, sensitive_fields(provider))
    problems = plan.protected + check_supported(plan, provider)
    if problems:
        raise PlanError("\n".join(problems))
    me = await provider.whoami() if plan.has_changes else None
    return PlanRun(
        target=session.target,
        desired=desired,
        live=live,
        plan=plan,
        mass_changes=mass_change_problems(plan, live, session.target.guards),
        lockout=lockout_problems(plan, live, provider.admin_role, me),
    )


class GuardError(PlanError):
    """An apply refused by a guard; the message says what would have happened."""


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
) -> ApplyRun:
    """Execute a plan, then re-read to verify the target converged."""
    ctx = ApplyContext(
        ids={r.id: sid for r in run.live if (sid := r.server_id) is not None},
        origin=describe_origin(),
        changes=run.plan.changes,
    )
    journal = Journal(
        path=journal_path(),
        target=session.target.name,
        dialect=session.target.dialect,
        origin=ctx.origin,
    )
    session.client.on_write = journal.record
    try:
        result = await execute(
            run.plan,
            session.provider,
            ctx,
            parallelism=session.target.parallelism,
            on_event=on_event,
            protected=session.target.rules.protect,
        )
    finally:
        session.client.on_write = None
    after = await read_plan(session, run.desired)
    return ApplyRun(planned=run, result=result, remaining=after.plan)


async def preview_calls(session: Session, run: PlanRun) -> Preview:
    """The writes an apply of ``run`` would send, found by running it without sending."""
    provider_type = type(session.provider)
    client = PreviewClient(
        session.client, provider_type.preview_answer, provider_type.sensitive_body_keys
    )
    provider = provider_type(client)
    ctx = ApplyContext(
        ids={r.id: sid for r in run.live if (sid := r.server_id) is not None},
        origin=describe_origin(),
        changes=run.plan.changes,
    )

    def follow(event: ChangeEvent) -> None:
        if event.kind == "started":
            client.current = str(event.change.id)

    result = await execute(run.plan, provider, ctx, parallelism=1, on_event=follow)
    unknown = {str(rid): why for rid, why in {**result.failed, **result.skipped}.items()}
    return Preview(calls=client.calls, unknown=unknown)


def plan(
    spec_path: Path | str,
    options: TargetOptions | None = None,
    *,
    workdir: Path | None = None,
    show_calls: bool = False,
) -> PlanRun:
    """Load specs, read the target and return what would change.

    With ``show_calls``, also the exact writes an apply would send (``run.preview``).
    """
    desired, config = load(spec_path)
    target = _resolve(config, options or TargetOptions())
    check_support(desired, target)

    async def run() -> PlanRun:
        async with open_session(target, workdir) as session:
            planned = await read_plan(session, desired)
            if show_calls:
                planned.preview = await preview_calls(session, planned)
            return planned

    return asyncio.run(run())


def apply(
    spec_path: Path | str,
    options: TargetOptions | None = None,
    *,
    approve: Callable[[PlanRun], bool] = lambda run: True,
    on_event: Callable[[ChangeEvent], None] | None = None,
    workdir: Path | None = None,
    allow_mass_changes: bool = False,
) -> ApplyRun:
    """Plan, check the guards, ask ``approve`` (the CLI shows the plan), apply, verify."""
    desired, config = load(spec_path)
    target = _resolve(config, options or TargetOptions())
    check_support(desired, target)

    async def run() -> ApplyRun:
        async with open_session(target, workdir) as session:
            planned = await read_plan(session, desired)
            return await _guard_approve_apply(
                session, planned, approve, on_event, allow_mass_changes
            )

    return asyncio.run(run())


async def _guard_approve_apply(
    session: Session,
    planned: PlanRun,
    approve: Callable[[PlanRun], bool],
    on_event: Callable[[ChangeEvent], None] | None,
    allow_mass_changes: bool,
) -> ApplyRun:
    """The steps every apply shares once it has a plan: guards, approval, apply, verify."""
    if not planned.plan.has_changes:
        return ApplyRun(planned=planned, remaining=planned.plan)
    check_guards(planned, allow_mass_changes)
    if not approve(planned):
        return ApplyRun(planned=planned, approved=False)
    return await apply_planned(session, planned, on_event=on_event)


@dataclass
class Review:
    """A plan as a pull request sees it.

    ``run`` is what an apply would do now (PR specs against live). With base
    specs, ``pr_changes`` is what the PR itself changes (base specs → PR specs)
    and ``drift`` what already differs on the live platform from the base
    specs: hand changes a merge would revert. Without base specs, ``drift`` is
    ``run.plan`` (everything live differs from the specs in).
    """

    run: PlanRun
    spec_path: str
    base_label: str | None = None
    pr_changes: Plan | None = None
    drift: Plan | None = None

    @property
    def reverted(self) -> list[Change]:
        """Drift that applying the PR specs would undo (same object changed by both)."""
        if self.drift is None or self.pr_changes is None:
            return []
        planned = {c.id for c in self.run.plan.changes}
        return [c for c in self.drift.changes if c.id in planned]


def review(
    spec_path: Path | str,
    options: TargetOptions | None = None,
    *,
    base: str | None = None,
    workdir: Path | None = None,
    show_calls: bool = False,
) -> Review:
    """Plan, and with ``base`` (a git ref or directory) split the PR's changes from drift."""
    run = plan(spec_path, options, workdir=workdir, show_calls=show_calls)
    if base is None:
        return Review(run=run, spec_path=str(spec_path), drift=run.plan)
    base_state = load_base(base, Path(spec_path))
    prune = run.target.prune
    return Review(
        run=run,
        spec_path=str(spec_path),
        base_label=base,
        pr_changes=make_plan(run.desired, base_state, prune),
        drift=make_plan(base_state, run.live, prune),
    )


def save_plan(run: PlanRun, out: Path | str, spec_path: Path | str) -> None:
    """Write ``run`` as a saved plan that ``apply_saved`` can execute exactly."""
    document = planfile.dump(
        run.plan,
        run.target,
        run.desired,
        run.live,
        str(spec_path),
        describe_origin(),
        sensitive_fields(provider_class(run.target.dialect)),
    )
    planfile.write(Path(out), document)


class StalePlanError(PlanError):
    """The live state moved since the saved plan was made."""

    def __init__(self, path: Path, moved: list[str]) -> None:
        self.moved = moved
        shown = "\n".join(f"  {line}" for line in moved)
        super().__init__(
            f"the live state changed since {path} was made; nothing was applied.\n{shown}\n"
            "Make and review a new plan."
        )


def apply_saved(
    plan_path: Path | str,
    *,
    approve: Callable[[PlanRun], bool] = lambda run: True,
    on_event: Callable[[ChangeEvent], None] | None = None,
    workdir: Path | None = None,
    env: dict[str, str] | None = None,
    allow_mass_changes: bool = False,
    tls: TargetOptions | None = None,
) -> ApplyRun:
    """Apply exactly a saved plan; refuse (StalePlanError) if the live state moved.

    ``tls`` carries the transport options of this run (the plan file holds none).
    """
    path = Path(plan_path)
    saved = planfile.load(path)
    target = saved.target
    if sensitive_fields(provider_class(target.dialect)):
        problems = planfile.restore_secrets(saved, load_specs(saved.specs))
        if problems:
            raise PlanError("\n".join(problems))
    if tls is not None:
        target.ca_bundle = tls.ca_bundle
        target.insecure = tls.insecure
        target.allow_plain_http = tls.allow_http
    check_transport(target)
    if not target.embedded:
        environ = os.environ if env is None else env
        target.token = environ.get(target.token_env)
        if not target.token:
            raise ConfigError(
                f"the plan's target '{target.name}' needs a token: set {target.token_env}"
            )

    async def run() -> ApplyRun:
        async with open_session(target, workdir) as session:
            live = await read_live(session)
            moved = planfile.moved(saved.fingerprints, live)
            if moved:
                raise StalePlanError(path, moved)
            planned = await _planned(session, saved.desired, live, saved.plan)
            return await _guard_approve_apply(
                session, planned, approve, on_event, allow_mass_changes
            )

    return asyncio.run(run())

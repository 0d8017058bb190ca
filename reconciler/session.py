"""One open connection to a target: its provider, the live state read through it, the journal.

:func:`open_session` connects (starting the embedded sandbox when the target is
it); :func:`read_live` reads every kind the provider supports; :func:`journaled`
records every write of an apply before it is sent, and :func:`warn_unfinished` names
the writes whose outcome the last apply never learned. :meth:`Session.planner` is
the planner for this target's rules and this API's capabilities: the only way a
plan is made.

Who is to blame when a read fails: an answer in a shape the API does not
document is refused by the provider's decoder for *that* call
(:class:`~reconciler.errors.MalformedResponse` names its method and path, however
many calls were in flight); anything else that goes wrong in the provider's own
code, or live objects it built with keys that are not names, is a
:class:`~reconciler.errors.ProviderBug`, reported as one.
"""

from __future__ import annotations

import logging
import os
import secrets
import traceback
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from reconciler.engine.planner import Planner, PlannerCapabilities, paused_gc
from reconciler.errors import PlanError, ProviderBug, ReconcilerError
from reconciler.journal import DEFAULT_JOURNAL, Journal, unfinished
from reconciler.limiter import Limiter
from reconciler.model import Resource, State
from reconciler.providers import Provider, provider_class
from reconciler.providers.http import ApiClient
from reconciler.reading_progress import ReadProgress, reading
from reconciler.targets import ADAPTIVE, Target
from reconciler.transport import tls_verify
from reconciler.workdir import STATE_DIR, state_dir

log = logging.getLogger("reconciler")


@dataclass
class Session:
    """An open connection to one target, with its provider."""

    target: Target
    provider: Provider
    client: ApiClient
    url: str
    workdir: Path
    """Where the spec tree's local state lives (its ``.reconciler/``): the spec root."""

    def planner(self) -> Planner:
        """The planner for this target's rules and this API's declared capabilities."""
        return Planner(self.target.plan_rules, PlannerCapabilities.of(self.provider))


@asynccontextmanager
async def open_session(target: Target, workdir: Path | None = None) -> AsyncIterator[Session]:
    """Connect to ``target``; for the embedded sandbox, start it for the session's life."""
    async with AsyncExitStack() as stack:
        if target.embedded:
            from reconciler.sandbox.server import EmbeddedSandbox

            db = (workdir or Path.cwd()) / target.embedded_db
            if db.parent.name == STATE_DIR:
                state_dir(db.parent.parent)
            db.parent.mkdir(parents=True, exist_ok=True)
            sandbox = EmbeddedSandbox(
                dialect=target.dialect, db_path=db, token=secrets.token_urlsafe(24)
            )
            stack.enter_context(sandbox)
            base_path = provider_class(target.dialect).capabilities.base_path
            url, token = sandbox.url + base_path, sandbox.token
        else:
            assert target.url is not None and target.token is not None
            url, token = target.url, target.token
        limiter = limiter_for(target)
        retries = target.retries
        client = ApiClient(
            url,
            token,
            max_connections=max(limiter.ceiling, 16),
            verify=tls_verify(target, url),
            max_attempts=retries.attempts,
            backoff_base=retries.backoff,
            max_backoff=retries.max_backoff,
            retry_budget=retries.budget,
        )
        client.limiter = limiter
        await stack.enter_async_context(client)
        provider = provider_class(target.dialect)(client, target.options)
        yield Session(
            target=target, provider=provider, client=client, url=url, workdir=workdir or Path.cwd()
        )


def limiter_for(target: Target) -> Limiter:
    """The session's concurrency: pinned by ``parallelism``, else found while running up
    to ``max_parallelism``; ``max_requests_per_second`` either way."""
    rate = target.max_requests_per_second
    if target.parallelism != ADAPTIVE:
        return Limiter.fixed(target.parallelism, rate=rate)
    return Limiter(ceiling=target.max_parallelism, rate=rate)


async def read_live(session: Session, progress: ReadProgress | None = None) -> State:
    """The live state; a clear error naming the call when an answer has the wrong shape.

    A failure in the provider's own code is reported as the bug it is
    (:class:`~reconciler.errors.ProviderBug`), never as a bad answer. ``progress`` is
    told how many objects have been read; by default a status line on stderr shows
    it while stderr is a terminal (:mod:`reconciler.reading_progress`).
    """
    provider, dialect = session.provider, session.target.dialect
    kinds = list(provider.capabilities.supports)
    try:
        with paused_gc(), reading(session, progress):
            live = await provider.read(kinds)
    except ReconcilerError:
        raise
    except Exception as exc:
        log.debug("the %s provider failed reading the live state", dialect, exc_info=True)
        raise ProviderBug(dialect, "reading the live state", exc, _where(exc)) from exc
    try:
        check_shapes(live)
    except TypeError as exc:
        raise ProviderBug(dialect, "reading the live state", exc) from None
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
_REFERENCES = frozenset(REFERENCE_FIELDS)


def check_shapes(resources: Iterable[Resource]) -> None:
    """:func:`check_shape` of each resource, in one pass over the fields each one has.

    A live read holds 100,000 objects of three fields; looking each of
    :data:`REFERENCE_FIELDS` up in every one of them cost more than the rest of the
    check. What fails is checked again by :func:`check_shape`, which says why.
    """
    for resource in resources:
        key = resource.id.key
        if type(key) is not str or not key:
            check_shape(resource)
        for name, value in resource.fields.items():
            if value is not None and type(value) is not str and name in _REFERENCES:
                check_shape(resource)


def check_shape(resource: Resource) -> None:
    """Natural keys and references read from an API must be text: the diff relies on it.

    A provider's decoders check the answers they read these from, naming the
    call; one that slips through is the provider's bug (``read_live`` says so).
    """
    if not isinstance(resource.id.key, str) or not resource.id.key:
        raise TypeError(f"a {resource.id.kind.value} has the key {resource.id.key!r}, not a name")
    for name in REFERENCE_FIELDS:
        value = resource.fields.get(name)
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{resource.id}: '{name}' is {value!r}, not text")


def _where(exc: BaseException) -> str:
    """``file:line`` of the innermost frame of reconciler's own code in ``exc``'s traceback."""
    package = str(Path(__file__).parent)
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(package)]
    if not frames:
        return ""
    return f"{Path(frames[-1].filename).name}:{frames[-1].lineno}"


def journal_path(
    env: dict[str, str] | None = None, workdir: Path | None = None, *, create: bool = True
) -> Path:
    """Where writes are journaled: ``$RECONCILER_JOURNAL``, else ``.reconciler/journal.jsonl``
    in ``workdir`` (the spec root). ``create=False`` for readers: no directory is made."""
    environ = os.environ if env is None else env
    if environ.get("RECONCILER_JOURNAL"):
        return Path(environ["RECONCILER_JOURNAL"])
    if workdir is None:
        return DEFAULT_JOURNAL
    folder = state_dir(workdir) if create else workdir / STATE_DIR
    return folder / DEFAULT_JOURNAL.name


@contextmanager
def journaled(session: Session, origin: str) -> Iterator[Journal]:
    """Every write the session's client makes in the block goes to the journal.

    The client tells the journal of each write attempt before sending it (an
    intent line) and when it ends (its outcome); the hook is set for the block
    only, so a later read (the verifying plan) is never journaled. Leaving the
    block, however it is left, ends the run with its end line (calls made, and
    how many are still unanswered), which lets the next plan's
    :func:`warn_unfinished` stop reading there; a process that dies writes none,
    and its run is read back to its first call.
    """
    journal = Journal(
        path=journal_path(workdir=session.workdir),
        target=session.target.name,
        dialect=session.target.dialect,
        origin=origin,
    )
    session.client.on_write = journal.intent
    try:
        yield journal
    finally:
        session.client.on_write = None
        try:
            journal.close()
        except OSError:  # without its end line the run reads as one that died: only slower
            log.debug("the journal's end line could not be written", exc_info=True)


def warn_unfinished(session: Session) -> list[dict[str, object]]:
    """Warn, one line each, of the writes the last apply on this target sent without
    learning their outcome (it died, or was stopped at once); returns them.

    Reads the journal only: nothing is written, and a plan re-reads the live state anyway.
    """
    target = session.target
    path = journal_path(workdir=session.workdir, create=False)
    found = unfinished(path, target.name, target.dialect)
    for entry in found:
        log.warning(
            "unknown outcome, re-read: %s (%s): %s %s was sent by the previous apply "
            "(run %s, %s), which stopped before its answer; this run re-reads the live state",
            entry.get("change") or "no change",
            entry.get("action") or "?",
            entry.get("method"),
            entry.get("path"),
            entry.get("run"),
            entry.get("time"),
        )
    return found

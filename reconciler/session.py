"""One open connection to a target: its provider, the live state read through it, the journal.

:func:`open_session` connects (starting the embedded sandbox when the target is
it); :func:`read_live` reads every kind the provider supports and refuses an
answer whose shape the engine cannot trust, naming the call; :func:`journaled`
records every write of an apply. :meth:`Session.planner` is the planner for this
target's rules and this API's capabilities: the only way a plan is made.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from reconciler.engine.planner import Planner, PlannerCapabilities, paused_gc
from reconciler.errors import MalformedResponse, PlanError
from reconciler.journal import DEFAULT_JOURNAL, Journal
from reconciler.model import Resource, State
from reconciler.providers import Provider, provider_class
from reconciler.providers.http import ApiClient
from reconciler.targets import Target
from reconciler.transport import tls_verify


@dataclass
class Session:
    """An open connection to one target, with its provider."""

    target: Target
    provider: Provider
    client: ApiClient
    url: str

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
            db.parent.mkdir(parents=True, exist_ok=True)
            sandbox = EmbeddedSandbox(
                dialect=target.dialect, db_path=db, token=secrets.token_urlsafe(24)
            )
            stack.enter_context(sandbox)
            url, token = sandbox.url + provider_class(target.dialect).base_path, sandbox.token
        else:
            assert target.url is not None and target.token is not None
            url, token = target.url, target.token
        client = ApiClient(
            url, token, max_connections=max(target.parallelism, 16), verify=tls_verify(target)
        )
        await stack.enter_async_context(client)
        provider = provider_class(target.dialect)(client)
        yield Session(target=target, provider=provider, client=client, url=url)


async def read_live(session: Session) -> State:
    """The live state, or a clear error naming the call when an answer has the wrong shape."""
    provider = session.provider
    try:
        with paused_gc():
            live = await provider.read(list(provider.supports))
            for resource in live:
                check_shape(resource)
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


def check_shape(resource: Resource) -> None:
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


@contextmanager
def journaled(session: Session, origin: str) -> Iterator[Journal]:
    """Every write the session's client makes in the block goes to the journal.

    The client calls its ``on_write`` hook after each write attempt; the hook is
    set for the block only, so a later read (the verifying plan) is never journaled.
    """
    journal = Journal(
        path=journal_path(),
        target=session.target.name,
        dialect=session.target.dialect,
        origin=origin,
    )
    session.client.on_write = journal.record
    try:
        yield journal
    finally:
        session.client.on_write = None

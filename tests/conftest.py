"""Shared fixtures: sandboxes for tests, each on a fresh database.

- ``sandbox`` / ``sandbox_factory``: a real server started for the test (on a
  file in ``tmp_path``; with faults, a given file, a restart...).
- ``fresh_sandbox``: a real server the module's tests share, its database put
  back to a new sandbox's before each test (for tests that only need an empty
  or seeded sandbox: no start and stop per test).
- ``in_process``: the sandbox's app in this process, no socket (tests of the
  sandbox's own API, where a socket adds nothing).

The token is fixed and recognisable so a test can assert it never leaks into
output or errors.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
import pytest
import trustme

from reconciler import redact, targets
from reconciler.sandbox.app import create_app
from reconciler.sandbox.faults import FaultConfig
from reconciler.sandbox.server import BackgroundServer, EmbeddedSandbox
from tests.integration.helpers import States


def _bytecode_outside_the_tree() -> None:
    """Compile each module once per change, not once per process.

    This machine's environment sets ``PYTHONDONTWRITEBYTECODE`` (no ``__pycache__``
    in the shared working tree), so every Python process of a run compiled every
    module it imports again: each xdist worker its ~150 test modules and the
    package (about 4 s of its start), each CLI that the action and interrupt tests
    start as a child (about 0.15 s each). Compiled files go to a cache outside the
    tree instead, for this process, the xdist workers and the children alike (they
    inherit the environment; this conftest is loaded before the workers start).
    A module is compiled again when its source changes.
    """
    if not (sys.dont_write_bytecode or os.environ.get("PYTHONDONTWRITEBYTECODE")):
        return
    prefix = os.environ.get("PYTHONPYCACHEPREFIX") or str(
        Path(tempfile.gettempdir()) / f"reconciler-pycache-{os.getuid()}"
    )
    os.environ["PYTHONPYCACHEPREFIX"] = prefix
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.pycache_prefix = prefix
    sys.dont_write_bytecode = False


_bytecode_outside_the_tree()

SANDBOX_TOKEN = "test-token-SECRET-123"
SHORT_RETRIES = targets.RetryPolicy(backoff=0.005, max_backoff=0.05)

SandboxFactory = Callable[..., EmbeddedSandbox]


def request_log(db_path: Path) -> list[tuple[str, str, int]]:
    """Every request a sandbox served, in order: (method, path, status)."""
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT method, path, status FROM request_log ORDER BY seq").fetchall()
    return [(m, p, int(s)) for m, p, s in rows]


@pytest.fixture
def sandbox_factory(tmp_path: Path) -> Iterator[SandboxFactory]:
    """Start sandboxes: ``sandbox_factory("reference", db_path=..., token=..., seed=...)``.

    Each is stopped when the test ends. By default each gets its own database
    in ``tmp_path`` and the test token.
    """
    with ExitStack() as stack:
        count = 0

        def start(
            dialect: str = "reference",
            *,
            db_path: Path | None = None,
            token: str | None = SANDBOX_TOKEN,
            seed: Mapping[str, Any] | None = None,
            faults: FaultConfig | None = None,
        ) -> EmbeddedSandbox:
            nonlocal count
            count += 1
            path = db_path or tmp_path / f"sandbox-{dialect}-{count}.sqlite"
            return stack.enter_context(
                EmbeddedSandbox(dialect, db_path=path, token=token, seed=seed, faults=faults)
            )

        yield start


@pytest.fixture
def sandbox(sandbox_factory: SandboxFactory, tmp_path: Path) -> EmbeddedSandbox:
    """A running reference sandbox on ``tmp_path / "sandbox.sqlite"``."""
    return sandbox_factory("reference", db_path=tmp_path / "sandbox.sqlite")


@pytest.fixture(autouse=True)
def _no_spec_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test runs never write a spec cache into the repository's specs or examples;
    tests of the cache turn it back on (tests/spec/test_spec_cache.py)."""
    monkeypatch.setenv("RECONCILER_NO_CACHE", "1")


@pytest.fixture(autouse=True)
def _no_secrets_of_other_tests() -> None:
    """Each test starts with no registered secret, as each CLI run does.

    Secrets are process-wide (``redact.register``): without this, a token that
    one test registered would be redacted from another test's output on the
    same worker, so that a test's result would depend on which ran before it.
    """
    redact.forget_all()


@pytest.fixture(autouse=True)
def _short_retry_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Targets the tests make wait milliseconds, not the default 0.2 s doubled, between
    tries: what is tried again and how often is unchanged (a target's ``retries:`` and
    tests/providers/test_http.py cover the waits themselves)."""
    monkeypatch.setattr(targets, "DEFAULT_RETRIES", SHORT_RETRIES)


_JOURNAL_NUMBERS = itertools.count()


@pytest.fixture(scope="session")
def _journals(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("journals")


@pytest.fixture(autouse=True)
def _journal_in_tmp(
    request: pytest.FixtureRequest, _journals: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Applies journal their writes; keep every test's journal out of the repository.

    A test with a ``tmp_path`` (its own or a fixture's) has it there, as
    ``tmp_path / "journal.jsonl"``, where tests read it; any other gets a file of its
    own in one folder, so that most tests make no directory at all (a ``tmp_path``
    is about a millisecond, and most of the ~2,000 tests never journal).
    """
    if "tmp_path" in request.fixturenames:
        path = request.getfixturevalue("tmp_path") / "journal.jsonl"
    else:
        path = _journals / f"{next(_JOURNAL_NUMBERS)}.jsonl"
    monkeypatch.setenv("RECONCILER_JOURNAL", str(path))


# ---- fresh databases without a new sandbox ---------------------------------------------


class Templates:
    """A dialect's database as ``create_app`` makes it with a given seed (one file per
    seed, made on first use), copied over a live database to make it new again."""

    def __init__(self, dialect: str, root: Path, token: str) -> None:
        self.dialect = dialect
        self.root = root
        self.token = token
        self._made: dict[str, Path] = {}

    def restore(self, into: sqlite3.Connection, seed: Mapping[str, Any] | None) -> None:
        key = json.dumps(seed, sort_keys=True) if seed else ""
        template = self._made.get(key)
        if template is None:
            template = self.root / f"template-{len(self._made)}.sqlite"
            app = create_app(self.dialect, db_path=template, token=self.token, seed=seed)
            app.state.store.close()
            self._made[key] = template
        copy_database(template, into)


def copy_database(source: Path | sqlite3.Connection, target: Path | sqlite3.Connection) -> None:
    """Every page of one SQLite database over another (tables, request log, counters),
    each given as a file or as an open connection."""
    with ExitStack() as stack:
        ends = []
        for end in (source, target):
            if isinstance(end, Path):
                end = sqlite3.connect(end)
                stack.callback(end.close)
            ends.append(end)
        ends[0].backup(ends[1])


class SharedSandbox:
    """A real sandbox server (127.0.0.1, a free port) that a module's tests share.

    :meth:`fresh` makes it a new sandbox again: the database becomes exactly what
    ``create_app`` makes with that seed, empty request log included (:meth:`restore`:
    exactly one saved earlier). The copy runs on the server's own event loop, so it
    never falls inside a request. Looks like an :class:`EmbeddedSandbox` to tests:
    ``dialect``, ``url``, ``token``, ``db_path``.
    """

    def __init__(self, dialect: str, root: Path, token: str = SANDBOX_TOKEN) -> None:
        self.dialect = dialect
        self.token = token
        self.db_path = root / "sandbox.sqlite"
        self.app = create_app(dialect, db_path=self.db_path, token=token)
        self._templates = Templates(dialect, root, token)
        self._server = BackgroundServer(
            self.app, name=f"sandbox-{dialect}", what=f"the shared {dialect} sandbox"
        )
        self.port = self._server.start()
        self.url = f"http://127.0.0.1:{self.port}"

    def fresh(self, seed: Mapping[str, Any] | None = None) -> SharedSandbox:
        db = self.app.state.store.db
        self._server.run_in_loop(lambda: self._templates.restore(db, seed))
        return self

    def save(self, path: Path) -> None:
        """The database as it is now, copied to ``path`` (for :meth:`restore`)."""
        db = self.app.state.store.db
        self._server.run_in_loop(lambda: copy_database(db, path))

    def restore(self, path: Path) -> SharedSandbox:
        """Make the database exactly the one :meth:`save` wrote to ``path``: a state
        that takes a while to make (an apply) is made once and restored per test."""
        db = self.app.state.store.db
        self._server.run_in_loop(lambda: copy_database(path, db))
        return self

    def close(self) -> None:
        self._server.stop()  # the app's shutdown closes its database


class InProcessTransport(httpx.BaseTransport):
    """httpx's ``ASGITransport`` for a plain (sync) client: each request runs the app
    on this transport's own event loop, in the calling thread; no socket, no server.

    Clients come and go; the transport stays until :meth:`shutdown` (a client's
    ``close`` leaves it open for the next one).
    """

    def __init__(self, app: Any) -> None:
        # an app that raises answers 500, as the real server does
        self._asgi = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._loop = asyncio.new_event_loop()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def exchange() -> httpx.Response:
            answer = await self._asgi.handle_async_request(request)
            return httpx.Response(
                answer.status_code, headers=answer.headers, content=await answer.aread()
            )

        return self._loop.run_until_complete(exchange())

    def close(self) -> None:
        pass

    def shutdown(self) -> None:
        loop = self._loop
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()


class InProcessSandbox:
    """One dialect's sandbox app in this process, reached through httpx without a socket.

    :meth:`fresh` makes it a new sandbox again, as :class:`SharedSandbox` does.
    ``db_path`` is its database, for reading the request log or any table.
    """

    url = "http://sandbox.test"
    """What a client's base URL starts with (no server listens there)."""

    def __init__(self, dialect: str, root: Path, token: str = SANDBOX_TOKEN) -> None:
        self.dialect = dialect
        self.token = token
        self.db_path = root / "sandbox.sqlite"
        self.app = create_app(dialect, db_path=self.db_path, token=token)
        self._templates = Templates(dialect, root, token)
        self.transport = InProcessTransport(self.app)

    def fresh(self, seed: Mapping[str, Any] | None = None) -> InProcessSandbox:
        self._templates.restore(self.app.state.store.db, seed)
        return self

    def client(self, path: str = "", token: str | None = None) -> httpx.Client:
        """A client under ``path`` sending ``token`` (the sandbox's own by default)."""
        return httpx.Client(
            transport=self.transport,
            base_url=self.url + path,
            headers={"Authorization": f"Bearer {token or self.token}"},
        )

    def close(self) -> None:
        self.transport.shutdown()
        self.app.state.store.close()


Box = TypeVar("Box", SharedSandbox, InProcessSandbox)


class Pool(Generic[Box]):
    """The sandboxes a module's tests share: the n-th one of a dialect a test asks for
    is always the same one (made on first use), made fresh for that test."""

    def __init__(self, make: Callable[[str, Path], Box], root: Path) -> None:
        self._make: Callable[[str, Path], Box] = make
        self._root = root
        self._boxes: dict[tuple[str, int], Box] = {}

    def get(self, dialect: str, index: int) -> Box:
        box = self._boxes.get((dialect, index))
        if box is None:
            root = self._root / f"{dialect}-{index}"
            root.mkdir()
            box = self._boxes[(dialect, index)] = self._make(dialect, root)
        return box

    def close(self) -> None:
        for box in self._boxes.values():
            box.close()


def _fresh_per_test(pool: Pool[Box]) -> Callable[..., Box]:
    asked: dict[str, int] = {}

    def get(dialect: str = "reference", seed: Mapping[str, Any] | None = None) -> Box:
        index = asked[dialect] = asked.get(dialect, -1) + 1
        box: Box = pool.get(dialect, index).fresh(seed)
        return box

    return get


FreshSandbox = Callable[..., SharedSandbox]
InProcessFactory = Callable[..., InProcessSandbox]


@pytest.fixture(scope="module")
def shared_sandboxes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pool[SharedSandbox]]:
    pool = Pool(SharedSandbox, tmp_path_factory.mktemp("shared"))
    yield pool
    pool.close()


@pytest.fixture
def fresh_sandbox(shared_sandboxes: Pool[SharedSandbox]) -> FreshSandbox:
    """``fresh_sandbox("iaas-v1", seed=...)``: a running sandbox, new for this test.

    Its server is the module's (each call in one test is another server); its
    database is what a new sandbox with that seed starts with. Not for faults,
    a chosen file or token, or stopping it: those use ``sandbox_factory``.
    """
    return _fresh_per_test(shared_sandboxes)


@pytest.fixture(scope="module")
def in_process_sandboxes(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pool[InProcessSandbox]]:
    pool = Pool(InProcessSandbox, tmp_path_factory.mktemp("in-process"))
    yield pool
    pool.close()


@pytest.fixture
def in_process(in_process_sandboxes: Pool[InProcessSandbox]) -> InProcessFactory:
    """``in_process("reference", seed=...)``: a new sandbox app for this test, no socket.

    For tests of the sandbox's own API; anything about HTTP itself, or about the
    reconciler as a client, uses a real server.
    """
    return _fresh_per_test(in_process_sandboxes)


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> States:
    """``states.made(sandbox, "the starter specs applied", apply)``: a state of the module's
    shared sandbox made by its first test and put back for the others (helpers.States)."""
    return States(tmp_path_factory.mktemp("states"))


@pytest.fixture
def ca() -> trustme.CA:
    """A certificate authority of the test's own, which nothing trusts by default."""
    return trustme.CA()


@pytest.fixture
def tls_sandbox(ca: trustme.CA, tmp_path: Path) -> Iterator[EmbeddedSandbox]:
    """A reference sandbox serving HTTPS on 127.0.0.1 with a certificate ``ca`` issued."""
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    with EmbeddedSandbox(
        db_path=tmp_path / "tls.sqlite", token=SANDBOX_TOKEN, tls=(str(cert_file), str(key_file))
    ) as box:
        yield box

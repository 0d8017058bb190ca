"""Running the sandbox: in the foreground for the CLI, or in a thread for one run.

The embedded sandbox is a real server on 127.0.0.1, reached over real HTTP like
any platform: the reconciler gets a URL and a token and nothing else.

Starting and stopping one takes a few milliseconds and never sleeps: the server
thread says when it listens (an event, not a poll), and its main loop sleeps
until it is asked to stop instead of looking every 0.1 s as uvicorn's does.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import threading
from collections.abc import Callable, Generator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx
import uvicorn

from reconciler.sandbox.app import create_app
from reconciler.sandbox.faults import FaultConfig

T = TypeVar("T")

STARTUP_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0


def serve(
    dialect: str = "reference",
    host: str = "127.0.0.1",
    port: int = 8080,
    db_path: str | Path = "sandbox.sqlite",
    token: str = "",
    log_level: str = "info",
    seed: Mapping[str, Any] | None = None,
    faults: FaultConfig | None = None,
    tls: tuple[str, str] | None = None,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve ``dialect`` until interrupted (Ctrl-C); blocks the calling thread.

    The port is bound first: a port in use is an :class:`OSError` before anything
    is announced. ``announce`` then gets the URL clients use (``https`` with ``tls``).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP;
    # without it every answer waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)  # connections wait in the backlog from the moment it is announced
    except OSError:
        sock.close()
        raise
    app = create_app(dialect, db_path=db_path, token=token, seed=seed, faults=faults)
    config = uvicorn.Config(
        app,
        log_level=log_level,
        timeout_graceful_shutdown=5,
        ssl_certfile=tls[0] if tls else None,
        ssl_keyfile=tls[1] if tls else None,
    )
    if announce is not None:
        shown = f"[{host}]" if family == socket.AF_INET6 else host
        announce(f"{'https' if tls else 'http'}://{shown}:{sock.getsockname()[1]}")
    with sock:
        uvicorn.Server(config).run(sockets=[sock])


class _Connections(set[Any]):
    """uvicorn's set of open connections, setting ``emptied`` whenever it becomes empty.

    Only the server's event loop touches it (connections come and go there).
    """

    def __init__(self) -> None:
        super().__init__()
        self.emptied = asyncio.Event()

    def discard(self, item: Any) -> None:
        super().discard(item)
        if not self:
            self.emptied.set()

    def remove(self, item: Any) -> None:
        super().remove(item)
        if not self:
            self.emptied.set()


class _ThreadServer(uvicorn.Server):
    """A uvicorn server for a background thread: no signals, and no polling.

    uvicorn's own main loop looks at ``should_exit`` every 0.1 s, and its
    shutdown sleeps 0.1 s and then polls for open connections. Here the main
    loop sleeps until :meth:`request_exit` wakes it (or a second passes: the
    ``Date`` header is refreshed once a second, as uvicorn does), and shutdown
    waits on the connections and the request tasks themselves. ``ready`` is set
    once the server listens, or once its thread ends without having listened.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()
        self._connections = _Connections()
        self.server_state.connections = self._connections
        self.loop: asyncio.AbstractEventLoop | None = None
        """The event loop serving the app, once the server has started."""
        self._wake: asyncio.Event | None = None

    def install_signal_handlers(self) -> None:  # uvicorn < 0.29's hook
        pass

    @contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    def run(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            super().run(sockets)
        finally:
            self.ready.set()  # a server that failed to start wakes its waiter too

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._wake = asyncio.Event()
        self.loop = asyncio.get_running_loop()
        await super().startup(sockets)
        if self.started:
            self.ready.set()

    def request_exit(self, *, force: bool = False) -> None:
        """Ask the server to stop, from any thread; ``force`` skips the app's shutdown."""
        if force:
            self.force_exit = True
        self.should_exit = True
        loop, wake = self.loop, self._wake
        if loop is None or wake is None:
            return  # not listening yet: the main loop checks should_exit before it waits
        with suppress(RuntimeError):  # the loop has closed: the server is done already
            loop.call_soon_threadsafe(wake.set)

    async def main_loop(self) -> None:
        wake = self._wake
        assert wake is not None
        ticks = 0
        while not await self.on_tick(ticks):
            with suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=1.0)
            wake.clear()
            ticks = (ticks + 10) % 864000  # uvicorn refreshes its headers when ticks % 10 == 0

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's graceful shutdown, waiting on events instead of sleeping."""
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()  # idle ones close now, busy ones after their response
        try:
            await asyncio.wait_for(self._idle(), timeout=self.config.timeout_graceful_shutdown)
        except TimeoutError:
            for task in self.server_state.tasks:
                task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
        if not self.force_exit:
            await self.lifespan.shutdown()

    async def _idle(self) -> None:
        """Until every connection has closed and every request task has finished."""
        if self._connections:
            self._connections.emptied.clear()  # on the loop: nothing closes in between
            await self._connections.emptied.wait()
        tasks = set(self.server_state.tasks)
        if tasks:
            await asyncio.wait(tasks)
        for server in self.servers:
            await server.wait_closed()


class SandboxError(RuntimeError):
    """The embedded sandbox did not start (or stop) as it should."""


class BackgroundServer:
    """Any ASGI app served on 127.0.0.1, on a free port, from a daemon thread.

    ``start()`` returns once the server listens (or raises SandboxError);
    ``stop()`` lets requests in flight finish and returns once the thread has
    ended. Both wait on events, never on a timer. The embedded sandbox runs
    on one; so can a test's fake of another service.
    """

    def __init__(
        self,
        app: Callable[..., Any],
        *,
        name: str = "server",
        what: str = "the server",
        tls: tuple[str, str] | None = None,
        startup_timeout: float = STARTUP_TIMEOUT,
    ) -> None:
        self.app = app
        self.name = name
        """The thread's name."""
        self.what = what
        """How errors name the server: ``the reference sandbox``."""
        self.tls = tls
        """(certificate file, key file): serve https instead of http."""
        self.startup_timeout = startup_timeout
        self._server: _ThreadServer | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    @property
    def running(self) -> bool:
        return self._port is not None

    @property
    def port(self) -> int:
        if self._port is None:
            raise SandboxError(f"{self.what} is not running")
        return self._port

    def start(self) -> int:
        """Serve the app; returns the port it listens on."""
        if self._server is not None:
            raise SandboxError(f"{self.what} is already running")
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=0,
            log_config=None,  # leave the host program's logging alone
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=5,
            ssl_certfile=self.tls[0] if self.tls else None,
            ssl_keyfile=self.tls[1] if self.tls else None,
        )
        server = _ThreadServer(config)
        thread = threading.Thread(target=server.run, name=self.name, daemon=True)
        self._server, self._thread = server, thread
        thread.start()
        try:
            if not server.ready.wait(self.startup_timeout):
                raise SandboxError(f"{self.what} did not start within {self.startup_timeout:g}s")
            if not server.started:
                raise SandboxError(f"{self.what} failed to start (see log above)")
            self._port = int(server.servers[0].sockets[0].getsockname()[1])
        except BaseException:
            self.stop()
            raise
        return self._port

    def run_in_loop(self, work: Callable[[], T]) -> T:
        """Run ``work`` on the server's event loop, between two requests' handlers (the
        app's state is used on that loop alone), and return what it returns."""
        server = self._server
        loop = server.loop if server is not None else None
        if loop is None or not self.running:
            raise SandboxError(f"{self.what} is not running")

        async def call() -> T:
            return work()

        return asyncio.run_coroutine_threadsafe(call(), loop).result(STOP_TIMEOUT)

    def stop(self) -> None:
        """Ask the server to finish its requests and exit; wait for the thread."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        self._port = None
        if server is None or thread is None:
            return
        server.request_exit()
        thread.join(STOP_TIMEOUT)
        if thread.is_alive():
            server.request_exit(force=True)
            thread.join(STOP_TIMEOUT)
            if thread.is_alive():
                raise SandboxError(f"{self.what} did not stop")


class EmbeddedSandbox:
    """A sandbox server in a background thread, for as long as the ``with`` lasts.

    It listens on 127.0.0.1 on a free port; ``url`` and ``token`` are what a
    client needs. Without ``token`` a random one is made for each start.

    Example::

        with EmbeddedSandbox(db_path="state.sqlite") as sandbox:
            httpx.get(sandbox.url + "/healthz")
    """

    def __init__(
        self,
        dialect: str = "reference",
        *,
        db_path: str | Path,
        token: str | None = None,
        startup_timeout: float = STARTUP_TIMEOUT,
        seed: Mapping[str, Any] | None = None,
        faults: FaultConfig | None = None,
        tls: tuple[str, str] | None = None,
    ) -> None:
        self.seed = seed
        self.faults = faults
        self.tls = tls
        """(certificate file, key file): serve https instead of http."""
        self.dialect = dialect
        self.db_path = Path(db_path)
        self._fixed_token = token
        self.token = token or ""
        self.startup_timeout = startup_timeout
        self._server: BackgroundServer | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise SandboxError("the sandbox is not running")
        return self._port

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def __repr__(self) -> str:  # never shows the token
        state = f"port {self._port}" if self._port else "stopped"
        return f"EmbeddedSandbox({self.dialect!r}, db_path={str(self.db_path)!r}, {state})"

    def start(self) -> EmbeddedSandbox:
        if self._server is not None:
            raise SandboxError("the sandbox is already running")
        self.token = self._fixed_token or secrets.token_urlsafe(24)
        app = create_app(
            self.dialect,
            db_path=self.db_path,
            token=self.token,
            seed=self.seed,
            faults=self.faults,
        )
        server = BackgroundServer(
            app,
            name=f"sandbox-{self.dialect}",
            what=f"the {self.dialect} sandbox",
            tls=self.tls,
            startup_timeout=self.startup_timeout,
        )
        self._server = server
        try:
            self._port = server.start()
            self._check_health()
        except BaseException:
            self.stop()
            raise
        return self

    def _check_health(self) -> None:
        """One request through the whole app: once it listens, it answers."""
        try:
            # our own server on loopback: the probe need not check the certificate
            response = httpx.get(f"{self.url}/healthz", timeout=self.startup_timeout, verify=False)
        except httpx.HTTPError as exc:
            raise SandboxError(f"the sandbox at {self.url} is not healthy: {exc}") from exc
        if response.status_code != 200:
            raise SandboxError(
                f"the sandbox at {self.url} is not healthy: HTTP {response.status_code}"
            )

    def stop(self) -> None:
        """Ask the server to finish its requests and exit; wait for the thread."""
        server, self._server = self._server, None
        self._port = None
        if server is not None:
            server.stop()

    def __enter__(self) -> EmbeddedSandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

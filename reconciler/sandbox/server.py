"""Running the sandbox: in the foreground for the CLI, or in a thread for one run.

The embedded sandbox is a real server on 127.0.0.1, reached over real HTTP like
any platform: the reconciler gets a URL and a token and nothing else.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Generator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import uvicorn

from reconciler.sandbox.app import create_app
from reconciler.sandbox.faults import FaultConfig

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
) -> None:
    """Serve ``dialect`` until interrupted (Ctrl-C); blocks the calling thread."""
    app = create_app(dialect, db_path=db_path, token=token, seed=seed, faults=faults)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=5,
        ssl_certfile=tls[0] if tls else None,
        ssl_keyfile=tls[1] if tls else None,
    )


class _ThreadServer(uvicorn.Server):
    """A uvicorn server that leaves signals to the main program (it runs in a thread)."""

    def install_signal_handlers(self) -> None:  # uvicorn < 0.29's hook
        pass

    @contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class SandboxError(RuntimeError):
    """The embedded sandbox did not start (or stop) as it should."""


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
        self._server: _ThreadServer | None = None
        self._thread: threading.Thread | None = None
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
        config = uvicorn.Config(
            app,
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
        thread = threading.Thread(target=server.run, name=f"sandbox-{self.dialect}", daemon=True)
        self._server, self._thread = server, thread
        thread.start()
        try:
            self._port = self._wait_until_listening(server, thread)
            self._wait_until_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_listening(self, server: _ThreadServer, thread: threading.Thread) -> int:
        deadline = time.monotonic() + self.startup_timeout
        while not server.started:
            if not thread.is_alive():
                raise SandboxError(f"the {self.dialect} sandbox failed to start (see log above)")
            if time.monotonic() > deadline:
                raise SandboxError(
                    f"the {self.dialect} sandbox did not start within {self.startup_timeout:g}s"
                )
            time.sleep(0.005)
        port: int = server.servers[0].sockets[0].getsockname()[1]
        return port

    def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        last: Exception | str = "no answer"
        while time.monotonic() < deadline:
            try:
                # our own server on loopback: the probe need not check the certificate
                response = httpx.get(f"{self.url}/healthz", timeout=1.0, verify=False)
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(0.02)
        raise SandboxError(f"the sandbox at {self.url} is not healthy: {last}")

    def stop(self) -> None:
        """Ask the server to finish its requests and exit; wait for the thread."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        self._port = None
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(STOP_TIMEOUT)
        if thread.is_alive():
            server.force_exit = True
            thread.join(STOP_TIMEOUT)
            if thread.is_alive():
                raise SandboxError("the sandbox server thread did not stop")

    def __enter__(self) -> EmbeddedSandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

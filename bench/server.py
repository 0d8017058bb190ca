"""The servers the bench measures against, each in its own process as a real platform is.

Two modes: ``sandbox`` is the sandbox app of ``reconciler sandbox serve``
(:mod:`bench.sandbox_server`: any dialect, SQLite, the request log in its
database); ``fast`` is :mod:`bench.fast_server`
(``reference`` only, in memory). Either starts from a saved state and can save
its state for the next start, so every run and every floor replay begins from
the same state: the state a measured run found.

SQLite snapshots go through SQLite's backup API on connections that are
closed afterwards: a file copy of a database in WAL mode misses what the WAL
still holds (a ``full.sqlite`` once held 99,975 of 100,000 flags).
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

TOKEN = "bench-token"
MODES = ("sandbox", "fast")
_ID = re.compile(r"/[0-9a-f]{8}-[0-9a-f-]{27,}|/\d+(?=/|$)")


def template(method: str, path: str) -> str:
    """``METHOD path`` with ids replaced by ``{id}``: requests counted by kind."""
    return f"{method} {_ID.sub('/{id}', path)}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_path(dialect: str) -> str:
    """What a target URL of ``dialect`` adds to the server's root."""
    from reconciler.providers import provider_class

    return provider_class(dialect).capabilities.base_path


@dataclass(frozen=True)
class ServerSpec:
    """Which server to start: mode, dialect, latency, and what a fresh one is seeded with."""

    mode: str
    dialect: str
    latency_ms: int = 0
    seed: dict[str, Any] | None = field(default=None, hash=False, compare=False)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown server mode {self.mode!r} (known: {', '.join(MODES)})")
        if self.mode == "fast" and self.dialect != "reference":
            raise ValueError(
                f"the fast server speaks the reference API only, not {self.dialect}: "
                "use --server sandbox for it"
            )

    @property
    def suffix(self) -> str:
        return ".sqlite" if self.mode == "sandbox" else ".json"

    def initial_state(self, work: Path) -> Path:
        """A fresh server's state (the seed applied), saved under ``work``."""
        state = work / f"empty{self.suffix}"
        if self.mode == "fast":
            state.write_text("{}")
            return state
        with Running(self, None, work, seed=self.seed) as server:
            server.save(state)
        return state

    def start(self, state: Path, work: Path) -> Running:
        """A server on a private copy of ``state`` (the file itself stays as it is)."""
        return Running(self, state, work)


class Running:
    """A server process for a ``with`` block: its URL, its request log, its state."""

    def __init__(
        self,
        spec: ServerSpec,
        state: Path | None,
        work: Path,
        seed: dict[str, Any] | None = None,
    ) -> None:
        self.spec = spec
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.base_url = self.url + base_path(spec.dialect)
        self.proc: subprocess.Popen[bytes] | None = None
        stamp = f"{time.monotonic_ns()}"
        self.errors = work / f"server-{stamp}.log"
        if spec.mode == "sandbox":
            self.db = work / f"live-{stamp}.sqlite"
            if state is not None:
                shutil.copy(state, self.db)  # a snapshot: no WAL beside it
            # the sandbox app, served as `sandbox serve` would but with TCP_NODELAY
            # (bench/sandbox_server.py says why)
            self.args = [sys.executable, "-m", "bench.sandbox_server", "--api", spec.dialect]
            self.args += ["--port", str(self.port), "--db", str(self.db), "--token", TOKEN]
            if seed:
                data = work / f"seed-{stamp}.json"
                data.write_text(json.dumps(seed))
                self.args += ["--data", str(data)]
        else:
            self.args = [sys.executable, "-m", "bench.fast_server", "--port", str(self.port)]
            self.args += ["--token", TOKEN]
            if state is not None:
                self.args += ["--load", str(state)]
        self.args += ["--latency-ms", str(spec.latency_ms)]

    def __enter__(self) -> Running:
        with self.errors.open("wb") as errors:
            self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=errors)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the {self.spec.mode} server died: {self.errors.read_text()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.__exit__(None, None, None)
        raise RuntimeError(f"the {self.spec.mode} server did not start")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
            self.proc = None

    # ---- what was sent, and the state -------------------------------------------------------

    def _log(self, since: int) -> tuple[int, list[tuple[str, str]]]:
        if self.spec.mode == "fast":
            answer = httpx.get(f"{self.url}/_bench/log", params={"since": since}, timeout=60)
            data = answer.json()
            return int(data["size"]), [tuple(line.split(" ", 1)) for line in data["lines"]]
        with closing(sqlite3.connect(self.db)) as db:
            rows = db.execute(
                "SELECT method, path FROM request_log ORDER BY seq LIMIT -1 OFFSET ?", (since,)
            ).fetchall()
        return since + len(rows), [(str(m), str(p)) for m, p in rows]

    def log_size(self) -> int:
        return self._log(1 << 62)[0] if self.spec.mode == "fast" else self._count()

    def _count(self) -> int:
        with closing(sqlite3.connect(self.db)) as db:
            return int(db.execute("SELECT count(*) FROM request_log").fetchone()[0])

    def requests_since(self, start: int) -> Counter[str]:
        """Requests by method and path template (ids replaced by ``{id}``)."""
        return Counter(template(m, p) for m, p in self._log(start)[1])

    def save(self, to: Path) -> None:
        """The server's state now, as a file another server can start from."""
        if self.spec.mode == "fast":
            httpx.post(f"{self.url}/_bench/save", json={"path": str(to)}, timeout=300)
            return
        to.unlink(missing_ok=True)
        with closing(sqlite3.connect(self.db)) as live, closing(sqlite3.connect(to)) as copy:
            live.backup(copy)  # reads through the WAL: the state as the server sees it

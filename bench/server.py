"""The sandbox in its own process, as a real platform would be: it does not share
the reconciler's interpreter (nor its GIL), and its request log is read from SQLite."""

from __future__ import annotations

import re
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

TOKEN = "bench-token"
_ID = re.compile(r"/[0-9a-f]{8}-[0-9a-f-]{27,}|/\d+(?=/|$)")


class SandboxProcess:
    """``reconciler sandbox serve`` on a free loopback port, for a ``with`` block."""

    def __init__(self, db: Path, dialect: str = "reference") -> None:
        self.db, self.dialect = db, dialect
        self.proc: subprocess.Popen[bytes] | None = None
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> SandboxProcess:
        code = "from reconciler.cli import main; main()"
        args = [sys.executable, "-c", code, "sandbox", "serve", "--api", self.dialect]
        args += ["--port", str(self.port), "--db", str(self.db), "--token", TOKEN]
        self.proc = subprocess.Popen(args, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the sandbox did not start")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)

    def log_size(self) -> int:
        with sqlite3.connect(self.db) as db:
            return int(db.execute("SELECT count(*) FROM request_log").fetchone()[0])

    def requests_since(self, start: int) -> Counter[str]:
        """Requests by method and path template (ids replaced by ``{id}``)."""
        with sqlite3.connect(self.db) as db:
            rows = db.execute(
                "SELECT method, path FROM request_log ORDER BY seq LIMIT -1 OFFSET ?", (start,)
            ).fetchall()
        return Counter(f"{m} {_ID.sub('/{id}', p)}" for m, p in rows)

"""The write journal: one JSON line per write call, appended as it happens.

An audit trail (who, when, which target, which call, what came back, from
which spec file and commit) and the evidence for a create whose outcome was
unknown. Bodies are not written: they may hold sensitive values; the token
never is: every string of an entry passes through :func:`reconciler.redact.redact`
before it is stored, so a server error that echoes the Authorization header
or the token is journaled without it. The file is opened in append mode and
each line flushed, so a run that dies mid-way still leaves every call it made.
"""

from __future__ import annotations

import contextvars
import getpass
import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.model import Change
from reconciler.redact import redact

DEFAULT_JOURNAL = Path(".reconciler") / "journal.jsonl"

current_change: contextvars.ContextVar[Change | None] = contextvars.ContextVar(
    "current_change", default=None
)
"""The change whose calls are being made (set by the executor, per task)."""


def _actor(env: Mapping[str, str]) -> str:
    if env.get("GITHUB_ACTOR"):
        return f"github:{env['GITHUB_ACTOR']}"
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass
class Journal:
    """Appends write records to ``path`` for one run against one target."""

    path: Path
    target: str
    dialect: str
    origin: str = ""
    env: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        environ = os.environ if self.env is None else self.env
        self.actor = _actor(environ)
        self.commit = environ.get("GITHUB_SHA") or environ.get("RECONCILER_COMMIT")
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def record(self, method: str, path: str, status: int | None, error: str | None) -> None:
        """One write call and what came of it (``status`` None: no answer at all)."""
        change = current_change.get()
        source = change.desired.source if change and change.desired else None
        if status is None:
            outcome = "unknown"
        elif 200 <= status < 300:
            outcome = "ok"
        else:
            outcome = "unknown" if status >= 500 else "refused"
        entry: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "actor": self.actor,
            "target": self.target,
            "dialect": self.dialect,
            "change": str(change.id) if change else None,
            "action": change.action.value if change else None,
            "source": str(source) if source else None,
            "commit": self.commit,
            "origin": self.origin,
            "method": method,
            "path": path,
            "status": status,
            "outcome": outcome,
            "error": error,
        }
        entry = {k: redact(v) if isinstance(v, str) else v for k, v in entry.items()}
        line = json.dumps(entry, ensure_ascii=False, sort_keys=False)
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()


def read(path: Path) -> list[dict[str, Any]]:
    """Every record of a journal, oldest first (for tests and for resolving unknowns)."""
    if not path.exists():
        return []
    # "\n" only: a record may hold U+2028 or NEL, which str.splitlines would also split on
    text = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.split("\n") if line.strip()]

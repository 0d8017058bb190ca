"""The write journal: write-ahead, one JSON line before each write call and one after.

An audit trail (who, when, which target, which call, what came back, from
which spec file and commit) and the evidence for a write whose outcome is
unknown. Bodies are not written: they may hold sensitive values; the token
never is: every string of an entry passes through :func:`reconciler.redact.redact`
before it is stored, so a server error that echoes the Authorization header
or the token is journaled without it.

Each line is a JSON object with the fields ``time``, ``actor``, ``target``,
``dialect``, ``change``, ``action``, ``source``, ``commit``, ``origin``,
``method``, ``path``, ``status``, ``outcome``, ``error``, and three that tell
the lines apart:

- ``type``: ``"intent"``, written and flushed to the operating system *before*
  the call is sent (``status``, ``outcome`` and ``error`` are null); or
  ``"outcome"``, written when the attempt ends: ``status`` (null: no answer),
  ``outcome`` (``ok``; ``refused``: a 4xx, not done; ``unknown``: a 5xx, no
  answer, or cancelled when a stopped apply's grace ran out) and ``error``.
- ``run``: one id per apply; ``call``: the attempt's number in its run, from 1.
  An outcome has the ``run`` and ``call`` of its intent.

Every line is appended with one ``write`` and flushed (not fsynced: a power cut
may lose the last lines, a killed process loses none), so a run that dies
mid-way still leaves an intent for every call it sent. An intent without an
outcome is such a call, or one of an apply stopped at once: :func:`unfinished`
finds those of the last run on a target, and the next plan or apply reports
each as "unknown outcome, re-read" (the plan re-reads the live state anyway).
Lines written before intents existed have no ``type``: they are outcomes.

A run that journaled any call ends with one ``"end"`` line (written by
:meth:`Journal.close` when its apply's block closes, cleanly or not): ``calls``
made and how many were ``unsettled`` then. :func:`unfinished` stops there at
once when none were, and after finding that many otherwise, so after a run of
100,000 writes a plan reads a few lines, not the whole run. A run that died
has no end line and is read back to its first call; journals from before end
lines existed read as before.
"""

from __future__ import annotations

import contextvars
import getpass
import itertools
import json
import os
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from reconciler.model import Change
from reconciler.redact import redact

DEFAULT_JOURNAL = Path(".reconciler") / "journal.jsonl"
INTENT, OUTCOME, END = "intent", "outcome", "end"
SCAN_LIMIT = 64 << 20
"""How far back from its end :func:`unfinished` reads a journal (bytes): every plan reads it."""

current_change: contextvars.ContextVar[Change | None] = contextvars.ContextVar(
    "current_change", default=None
)
"""The change whose calls are being made (set by the executor, per task)."""

Settle = Callable[[int | None, str | None], None]
"""What an intent returns: call it with the attempt's status (None: no answer) and error."""


def _actor(env: Mapping[str, str]) -> str:
    if env.get("GITHUB_ACTOR"):
        return f"github:{env['GITHUB_ACTOR']}"
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _outcome(status: int | None) -> str:
    if status is None:
        return "unknown"
    if 200 <= status < 300:
        return "ok"
    return "unknown" if status >= 500 else "refused"


@dataclass
class Journal:
    """Appends the intents and outcomes of write calls to ``path``, for one run on one target."""

    path: Path
    target: str
    dialect: str
    origin: str = ""
    env: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        environ = os.environ if self.env is None else self.env
        self.actor = _actor(environ)
        self.commit = environ.get("GITHUB_SHA") or environ.get("RECONCILER_COMMIT")
        self.run = secrets.token_hex(6)
        self._calls = itertools.count(1)
        self._made = 0
        self._closed = False
        self._open: dict[int, tuple[str, str, Change | None]] = {}
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def intent(self, method: str, path: str) -> Settle:
        """Journal a call about to be sent (flushed before this returns); returns what
        to call with its outcome. The change is the one the calling task works on."""
        change = current_change.get()
        with self._lock:
            call = self._made = next(self._calls)
            self._open[call] = (method, path, change)
        self._append(self._line(INTENT, call, method, path, change))
        return partial(self._settle, call)

    def _settle(self, call: int, status: int | None, error: str | None) -> None:
        with self._lock:
            opened = self._open.pop(call, None)
        if opened is None:
            return  # settled already
        method, path, change = opened
        self._append(self._line(OUTCOME, call, method, path, change, status, error))

    def unanswered(self, error: str) -> int:
        """Give each call still waiting for its answer the outcome ``unknown``, with
        ``error`` saying why (its task was cancelled); returns how many there were."""
        with self._lock:
            calls = sorted(self._open)
        for call in calls:
            self._settle(call, None, error)
        return len(calls)

    def close(self) -> None:
        """End the run with its ``"end"`` line (once): the calls it made, and how many
        have no outcome yet. A run that journaled no call writes nothing, so the run
        before it stays the last one :func:`unfinished` reads."""
        with self._lock:
            if self._closed or not self._made:
                return
            self._closed = True
            calls, unsettled = self._made, len(self._open)
        entry = self._line(END, None, None, None, None)
        self._append({**entry, "calls": calls, "unsettled": unsettled})

    def _line(
        self,
        kind: str,
        call: int | None,
        method: str | None,
        path: str | None,
        change: Change | None,
        status: int | None = None,
        error: str | None = None,
    ) -> dict[str, Any]:
        source = change.desired.source if change and change.desired else None
        return {
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
            "outcome": _outcome(status) if kind == OUTCOME else None,
            "error": error,
            "type": kind,
            "run": self.run,
            "call": call,
        }

    def _append(self, entry: dict[str, Any]) -> None:
        entry = {k: redact(v) if isinstance(v, str) else v for k, v in entry.items()}
        data = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            # one write of the whole line, appended: nothing is buffered in this process
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)


def read(path: Path) -> list[dict[str, Any]]:
    """Every line of a journal (intents and outcomes), oldest first."""
    if not path.exists():
        return []
    # "\n" only: a record may hold U+2028 or NEL, which str.splitlines would also split on
    text = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.split("\n") if line.strip()]


def outcomes(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The outcome lines of ``entries`` (lines from before intents existed count as outcomes)."""
    return [e for e in entries if e.get("type", OUTCOME) == OUTCOME]


def unfinished(path: Path, target: str, dialect: str) -> list[dict[str, Any]]:
    """The intents without an outcome of the last run that journaled a call on this
    target, oldest first: calls whose outcome that run never learned.

    Read from the end of the file, back to that run's end line when it says no
    call was left unsettled, else until it has found as many as that line says,
    else (a run that died) back to the run's first call; at most
    :data:`SCAN_LIMIT` bytes. A journal that cannot be read, and lines that are
    not JSON objects, count as none.
    """
    run: object = None
    settled: set[object] = set()
    found: list[dict[str, Any]] = []
    left: int | None = None  # once past the run's end line: unsettled intents still before it
    try:
        for entry in _backwards(path):
            if entry.get("target") != target or entry.get("dialect") != dialect:
                continue
            if "run" not in entry:
                break  # older than write-ahead lines: nothing to pair
            if run is None:
                run = entry["run"]
            if entry["run"] != run:
                continue
            kind = entry.get("type")
            if kind == OUTCOME:
                settled.add(entry.get("call"))
            elif kind == INTENT:
                if entry.get("call") not in settled:
                    found.append(entry)
                    if left is not None:
                        left -= 1
                if entry.get("call") == 1 or (left is not None and left <= 0):
                    break  # the run's first line, or every call it left open is found
            elif kind == END and left is None:
                left = _count(entry.get("unsettled"))
                if left == 0:
                    break  # the run ended with every call answered
    except OSError:
        return []
    return found[::-1]


def _count(value: object) -> int | None:
    """An end line's ``unsettled``, if it is a count (else the run is read as one that died)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _backwards(
    path: Path, block: int = 1 << 16, limit: int = SCAN_LIMIT
) -> Iterator[dict[str, Any]]:
    """The JSON objects of a journal's lines, last first, reading only as far as asked
    (and at most ``limit`` bytes back)."""
    if not path.exists():
        return
    with path.open("rb") as handle:
        end = handle.seek(0, os.SEEK_END)
        stop_at = max(0, end - limit)
        tail = b""
        while end > stop_at:
            start = max(stop_at, end - block)
            handle.seek(start)
            chunk = handle.read(end - start) + tail
            end = start
            lines = chunk.split(b"\n")
            tail = lines.pop(0) if end > stop_at else b""  # cut: the next block completes it
            for raw in reversed(lines):
                entry = _parsed(raw)
                if entry is not None:
                    yield entry


def _parsed(raw: bytes) -> dict[str, Any] | None:
    if not raw.strip():
        return None
    try:
        entry = json.loads(raw.decode("utf-8"))
    except ValueError:  # a torn or foreign line
        return None
    return entry if isinstance(entry, dict) else None

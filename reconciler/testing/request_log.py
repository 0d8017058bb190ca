"""What a sandbox was sent, read back from its SQLite file, and compared with a preview.

Every sandbox logs each request it serves in the table ``request_log`` of its
database (method, path as sent, query, status), before its answer leaves: once a
client has an answer, the call is in the log. These readers are what the
conformance checks count writes and pages with.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from reconciler.calls import PlannedCall

READS = frozenset({"GET", "HEAD"})


class Request(NamedTuple):
    """One request a sandbox served."""

    method: str
    path: str
    """As sent: percent-encoded, the target URL's base path included."""
    query: str
    status: int


def requests(db_path: Path, since: int = 0) -> list[Request]:
    """Every request the sandbox at ``db_path`` served, in order, from the ``since``-th on."""
    with sqlite3.connect(db_path) as db:
        rows = db.execute(
            "SELECT method, path, query, status FROM request_log ORDER BY seq"
        ).fetchall()
    return [Request(str(m), str(p), str(q), int(s)) for m, p, q, s in rows[since:]]


def writes(db_path: Path, since: int = 0) -> list[Request]:
    """The requests from the ``since``-th on that may change something (not GET or HEAD)."""
    return [r for r in requests(db_path, since) if r.method not in READS]


def paged_paths(served: Iterable[Request]) -> list[str]:
    """Paths read more than once with different queries: listings read page by page."""
    queries: defaultdict[str, set[str]] = defaultdict(set)
    for request in served:
        if request.method == "GET":
            queries[request.path].add(request.query)
    return sorted(path for path, seen in queries.items() if len(seen) > 1)


def _is_placeholder(segment: str) -> bool:
    return segment.startswith("<new-") and segment.endswith(">")


def call_mismatch(
    planned: Sequence[PlannedCall], sent: Sequence[Request], base_path: str = ""
) -> str | None:
    """Why the writes ``sent`` are not the calls ``planned`` (methods and paths, in
    order), or None when they are.

    A planned path is relative to the target URL (``base_path`` is its path); a
    placeholder id (``<new-1>``) stands for the id the server gave the object made
    by an earlier call, and must be the same id wherever it appears.
    """
    if len(planned) != len(sent):
        return f"{len(planned)} calls planned, {len(sent)} sent"
    bound: dict[str, str] = {}
    prefix = base_path.rstrip("/")
    for number, (plan, request) in enumerate(zip(planned, sent, strict=True), 1):
        shown = f"call {number}: planned {plan.method} {plan.path}, sent {request.method} "
        shown += request.path
        if plan.method != request.method or not request.path.startswith(prefix):
            return shown
        want = plan.path.split("/")
        got = request.path[len(prefix) :].split("/")
        if len(want) != len(got):
            return shown
        for expected, actual in zip(want, got, strict=True):
            if _is_placeholder(expected):
                if bound.setdefault(expected, actual) != actual:
                    return f"{shown} ({expected} was {bound[expected]} before)"
            elif expected != actual:
                return shown
    return None


__all__ = ["Request", "call_mismatch", "paged_paths", "requests", "writes"]

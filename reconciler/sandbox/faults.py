"""Seeded, deterministic fault injection: the sandbox as a bad day in production.

With ``rate`` p, that share of API requests meets one of four faults, chosen
evenly from the same seeded generator (so a run can be replayed):

- ``503-before``: 503 and the work is **not** done;
- ``500-after``: the work **is** done (committed), then 500: the outcome looks unknown;
- ``429``: 429 with ``Retry-After`` and the work not done;
- ``drop``: the work is done, then the connection breaks mid-answer.

``latency_ms`` delays every API request. Health and documentation routes are
never faulted, so a test can always tell the server is up.

``first`` aims instead of drawing: each :class:`FirstAttempt` rule fails the first
request of every call it matches (a method and a path) with its fault, and lets
that call's later attempts through, so a test can show that exactly the calls
safe to repeat are repeated (and what a repeat after a lost answer meets).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

FAULTS: tuple[str, ...] = ("503-before", "500-after", "429", "drop")
CORRUPTIONS: tuple[str, ...] = ("html", "truncated", "wrong-types", "repeat-page", "skip-page")
"""Bad answers to reads: an HTML error page with status 200, JSON cut short, names
that are numbers, pagination that ignores the offset (or skips an item)."""
UNFAULTED = frozenset({"/healthz", "/openapi.json", "/docs", "/redoc"})


@dataclass(frozen=True)
class FirstAttempt:
    """Fail the first attempt of each call ``method`` ``path`` matches with ``fault``.

    ``path`` is a regular expression the whole request path must match (``.*/suspend``);
    every distinct path it matches is a call of its own, failed once.
    """

    method: str
    path: str
    fault: str = "503-before"

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", self.method.upper())
        if self.fault not in FAULTS:
            raise ValueError(f"unknown fault '{self.fault}' ({', '.join(FAULTS)})")
        try:
            re.compile(self.path)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {self.path!r} ({exc})") from None

    def matches(self, method: str, path: str) -> bool:
        return method == self.method and re.fullmatch(self.path, path) is not None


@dataclass(frozen=True)
class FaultConfig:
    """What to inject: a share of requests, a seed, a delay for all of them, and calls
    whose first attempt fails."""

    rate: float = 0.0
    seed: int = 0
    latency_ms: int = 0
    corrupt: str | None = None
    """Make every successful read answer badly: one of :data:`CORRUPTIONS`."""
    max_page: int | None = None
    """Serve at most this many items per page, whatever ``limit`` the client asks for."""
    first: tuple[FirstAttempt, ...] = ()
    """Fail the first attempt of each matching call (the first rule that matches wins)."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"the fault rate must be between 0 and 1, not {self.rate}")
        if self.latency_ms < 0:
            raise ValueError("the latency must not be negative")
        if self.corrupt is not None and self.corrupt not in CORRUPTIONS:
            raise ValueError(f"unknown corruption '{self.corrupt}' ({', '.join(CORRUPTIONS)})")

    @property
    def active(self) -> bool:
        return (
            self.rate > 0
            or self.latency_ms > 0
            or self.corrupt is not None
            or self.max_page is not None
            or bool(self.first)
        )


async def _respond(
    send: Send, status: int, message: str, headers: list[tuple[bytes, bytes]]
) -> None:
    body = json.dumps({"error": "injected_fault", "message": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class FaultMiddleware:
    """ASGI middleware that injects the faults of a :class:`FaultConfig`."""

    def __init__(self, app: ASGIApp, config: FaultConfig) -> None:
        self.app = app
        self.config = config
        self.random = random.Random(config.seed)
        self.injected: list[str] = []
        self._attempted: set[tuple[str, str]] = set()
        """The calls (method, path) a :class:`FirstAttempt` rule has failed once."""

    def _draw(self) -> str | None:
        # One event loop serves every request, so draws happen in arrival order.
        if self.random.random() >= self.config.rate:
            return None
        return self.random.choice(FAULTS)

    def _aimed(self, scope: Scope) -> str | None:
        """The fault of the first rule matching this call, on its first attempt only."""
        call = (str(scope["method"]).upper(), str(scope["path"]))
        if call in self._attempted:
            return None
        for rule in self.config.first:
            if rule.matches(*call):
                self._attempted.add(call)
                return rule.fault
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNFAULTED:
            await self.app(scope, receive, send)
            return
        if self.config.latency_ms:
            await asyncio.sleep(self.config.latency_ms / 1000)
        if self.config.max_page is not None and scope["method"] == "GET":
            scope = _capped(scope, self.config.max_page)
        fault = self._aimed(scope) if self.config.first else None
        if fault is None and self.config.rate:
            fault = self._draw()
        if fault is None:
            if self.config.corrupt and scope["method"] == "GET":
                await _corrupted(self.app, self.config.corrupt, scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        self.injected.append(fault)
        if fault == "503-before":
            await _respond(send, 503, "injected: service unavailable", [])
        elif fault == "429":
            await _respond(send, 429, "injected: too many requests", [(b"retry-after", b"0")])
        else:
            await self.app(scope, receive, _swallow)  # the work is done and committed
            if fault == "500-after":
                await _respond(send, 500, "injected: internal error after commit", [])
            else:
                await _drop(send)


async def _swallow(message: Message) -> None:
    """Discards the real answer: the client will never see it."""


class DroppedConnection(Exception):
    """Raised mid-answer so the server closes the connection (an injected fault)."""


class _HideDrops(logging.Filter):
    """Keeps the server's error log free of the connections we broke on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        while exc is not None:
            if isinstance(exc, DroppedConnection):
                return False
            exc = exc.__cause__ or exc.__context__
        return True


logging.getLogger("uvicorn.error").addFilter(_HideDrops())


async def _drop(send: Send) -> None:
    """Promise a body, send part of it, fail: the server closes the connection mid-answer."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
        }
    )
    await send({"type": "http.response.body", "body": b'{"trunc', "more_body": True})
    raise DroppedConnection("injected: connection dropped")


def _query(scope: Scope) -> dict[str, str]:
    raw = scope.get("query_string", b"").decode()
    return dict(p.split("=", 1) for p in raw.split("&") if "=" in p)


def _with_query(scope: Scope, query: dict[str, str]) -> Scope:
    text = "&".join(f"{k}={v}" for k, v in query.items())
    return {**scope, "query_string": text.encode()}


def _capped(scope: Scope, max_page: int) -> Scope:
    """A smaller page than asked for, as real servers with a lower cap answer."""
    query = _query(scope)
    for name in ("limit", "per_page", "page_size"):
        if name in query and query[name].isdigit() and int(query[name]) > max_page:
            query[name] = str(max_page)
    return _with_query(scope, query)


def _paging(scope: Scope, corrupt: str) -> Scope:
    """The request as a buggy server would see it: offset ignored, or one item skipped."""
    pairs = [
        p.split("=", 1) for p in scope.get("query_string", b"").decode().split("&") if "=" in p
    ]
    query = dict(pairs)
    if corrupt == "repeat-page":
        if "offset" in query:
            query["offset"] = "0"
        if "page" in query:
            query["page"] = "1"
    elif corrupt == "skip-page" and query.get("offset", "0") not in ("", "0"):
        query["offset"] = str(int(query["offset"]) + 1)
    return _with_query(scope, query)


def _numbers_for_names(value: object) -> object:
    if isinstance(value, dict):
        return {k: 12345 if k == "name" else _numbers_for_names(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers_for_names(v) for v in value]
    return value


async def _corrupted(
    app: ASGIApp, corrupt: str, scope: Scope, receive: Receive, send: Send
) -> None:
    """Run the read, then spoil its answer the way ``corrupt`` says."""
    if corrupt in ("repeat-page", "skip-page"):
        await app(_paging(scope, corrupt), receive, send)
        return
    status = 200
    chunks: list[bytes] = []

    async def keep(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, keep)
    body = b"".join(chunks)
    content_type = b"application/json"
    if status < 300:
        if corrupt == "html":
            body, content_type = b"<html><body><h1>502 Bad Gateway</h1></body></html>", b"text/html"
        elif corrupt == "truncated":
            body = body[: max(1, len(body) // 2)]
        elif corrupt == "wrong-types":
            body = json.dumps(_numbers_for_names(json.loads(body or b"null"))).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

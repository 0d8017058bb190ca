"""Seeded, deterministic fault injection: the sandbox as a bad day in production.

With ``rate`` p, that share of API requests meets one of four faults, chosen
evenly from the same seeded generator (so a run can be replayed):

- ``503-before``: 503 and the work is **not** done;
- ``500-after``: the work **is** done (committed), then 500: the outcome looks unknown;
- ``429``: 429 with ``Retry-After`` and the work not done;
- ``drop``: the work is done, then the connection breaks mid-answer.

``latency_ms`` delays every API request. Health and documentation routes are
never faulted, so a test can always tell the server is up.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

FAULTS: tuple[str, ...] = ("503-before", "500-after", "429", "drop")
UNFAULTED = frozenset({"/healthz", "/openapi.json", "/docs", "/redoc"})


@dataclass(frozen=True)
class FaultConfig:
    """What to inject: a share of requests, a seed, and a delay for all of them."""

    rate: float = 0.0
    seed: int = 0
    latency_ms: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"the fault rate must be between 0 and 1, not {self.rate}")
        if self.latency_ms < 0:
            raise ValueError("the latency must not be negative")

    @property
    def active(self) -> bool:
        return self.rate > 0 or self.latency_ms > 0


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

    def _draw(self) -> str | None:
        # One event loop serves every request, so draws happen in arrival order.
        if self.random.random() >= self.config.rate:
            return None
        return self.random.choice(FAULTS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNFAULTED:
            await self.app(scope, receive, send)
            return
        if self.config.latency_ms:
            await asyncio.sleep(self.config.latency_ms / 1000)
        fault = self._draw() if self.config.rate else None
        if fault is None:
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

"""A minimal HTTP/1.1 server on asyncio, for the bench's fast server mode.

Just enough of HTTP for httpx and the bench's own clients: keep-alive,
``Content-Length`` bodies (no chunked uploads), requests on one connection
answered in order. No framework, no validation layer: what it costs per request
is parsing the request line and headers, so from-empty runs measure the client.

``latency_ms`` delays every API request before it is handled, as the
sandbox's ``--latency-ms`` does (``/healthz`` is never delayed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
}
MAX_HEAD = 64 * 1024
MAX_BODY = 16 * 1024 * 1024


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    """Percent-decoded per segment is left to the handler: this is the raw path."""
    query: dict[str, str]
    body: bytes
    authorization: str


Answer = tuple[int, bytes]
"""A status and a JSON body (empty for 204)."""
Handler = Callable[[Request], Answer]


def segments(path: str) -> list[str]:
    """The path's segments, each percent-decoded on its own (``%2F`` stays inside one)."""
    return [unquote(part) for part in path.strip("/").split("/")] if path.strip("/") else []


def _response(status: int, body: bytes, close: bool) -> bytes:
    head = f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\n"
    if status != 204:
        head += f"content-type: application/json\r\ncontent-length: {len(body)}\r\n"
    if close:
        head += "connection: close\r\n"
    return (head + "\r\n").encode("latin-1") + (body if status != 204 else b"")


class _Connection(asyncio.Protocol):
    """One client connection: parse, (wait,) handle, answer; then the next request."""

    def __init__(self, handler: Handler, latency_s: float) -> None:
        self.handler = handler
        self.latency_s = latency_s
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.busy = False  # a request is waiting out its latency: answer in order

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._next()

    def _next(self) -> None:
        while not self.busy and self.transport is not None:
            parsed = self._parse()
            if parsed is None:
                return
            request, close = parsed
            if self.latency_s and request.path != "/healthz":
                self.busy = True
                self.transport.pause_reading()
                loop = asyncio.get_running_loop()
                loop.call_later(self.latency_s, self._answer_later, request, close)
                return
            self._answer(request, close)

    def _answer_later(self, request: Request, close: bool) -> None:
        self.busy = False
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.resume_reading()
        self._answer(request, close)
        self._next()

    def _answer(self, request: Request, close: bool) -> None:
        assert self.transport is not None
        try:
            status, body = self.handler(request)
        except Exception as exc:  # a bug in the bench's server: say so, keep serving
            status, body = 500, f'{{"error":"bug","message":{str(exc)!r}}}'.encode()
        self.transport.write(_response(status, body, close))
        if close:
            self.transport.close()

    def _parse(self) -> tuple[Request, bool] | None:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_HEAD and self.transport is not None:
                self.transport.close()
            return None
        lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        if length > MAX_BODY:
            length = 0
        if len(self.buffer) < end + 4 + length:
            return None
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        path, _, raw_query = target.partition("?")
        query = dict(parse_qsl(raw_query, keep_blank_values=True))
        connection = headers.get("connection", "").lower()
        close = connection == "close" or (version == "HTTP/1.0" and connection != "keep-alive")
        auth = headers.get("authorization", "")
        return Request(method, path, query, body, auth), close

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve(handler: Handler, host: str, port: int, latency_ms: int) -> None:
    """Serve ``handler`` on ``host:port`` until cancelled."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: _Connection(handler, latency_ms / 1000), host, port, backlog=2048
    )
    async with server:
        await server.serve_forever()

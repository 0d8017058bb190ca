"""The one async HTTP client every provider shares.

It owns the policy that must be the same for every API: the bearer header, the
timeout, retries (only where repeating a call is safe), pagination followed to
the end (:mod:`.paging`), and turning error responses into :class:`ApiError`
that names the resource, the call and the server's own message. Providers own
only the shape of their API. The token is set once as a header and never
appears in errors.

An answer and the call that brought it travel together: :meth:`ApiClient.call`
takes the provider's ``decode`` and runs it on the answer of *that* call, so an
answer in another shape is reported as :class:`~reconciler.errors.MalformedResponse`
naming its own method and path, however many calls are in flight.

Paths are built by :func:`~reconciler.providers.paths.url_path` (re-exported
here), and :meth:`ApiClient.send` refuses any path not in its encoded form
before anything is sent.

With a :attr:`ApiClient.limiter` (a session sets one), every attempt waits for
one of its slots and tells it the answer's latency, status and ``Retry-After``:
the session's concurrency is found there (:mod:`reconciler.limiter`).
"""

from __future__ import annotations

import asyncio
import json
import random
import ssl
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from reconciler.errors import ApiError, ConflictError, MalformedResponse, TransportError
from reconciler.limiter import Limiter, retry_after, slot
from reconciler.options.common import maybe_at
from reconciler.providers.paging import (
    JSON,
    SHAPE_ERRORS,
    Decode,
    InconsistentRead,
    Paging,
    decoded,
)
from reconciler.providers.paths import (
    PLACEHOLDER,
    UNRESERVED,
    UnsafePath,
    UnsafePathSegment,
    check_path,
    encode_segment,
    path_problem,
    segment_problem,
    shown_value,
    url_path,
)

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods safe to repeat after an unknown outcome (PATCH: every provider sends
merge patches that set values, which repeat to the same result). A POST is
repeated only when its caller says it is safe (``idempotent=True``, e.g. a
suspend action); a create is never repeated here: the engine re-reads first."""
RETRY_STATUSES = frozenset({429, 502, 503, 504})
READS = frozenset({"GET", "HEAD", "OPTIONS"})
WriteHook = Callable[[str, str], Callable[[int | None, str | None], None]]
"""``ApiClient.on_write``: told (method, path) before a write is sent, it returns what
is told the attempt's (status or None, error): a write-ahead journal's intent and outcome."""


def server_message(response: httpx.Response, key: str | None = None) -> str:
    """The server's own words for an error: at ``key`` (a target's ``errors.message``
    option), else from the common error envelopes."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:300] if text else response.reason_phrase
    if key is not None:
        found = _words(maybe_at(body, key))
        if found:
            return found
    if isinstance(body, dict):
        for key in ("message", "error", "detail", "errors"):
            value = body.get(key)
            if isinstance(value, str) and value:
                extra = body.get("message") if key == "error" else None
                if isinstance(extra, str) and extra and extra != value:
                    return f"{value}: {extra}"
                return value
            if isinstance(value, dict):
                inner = value.get("message") or value.get("code")
                if isinstance(inner, str):
                    return inner
            if isinstance(value, list) and value:
                return json.dumps(value)[:300]
    return json.dumps(body)[:300]


def _words(value: Any) -> str | None:
    """An error message found at a configured key: text, an object's ``message``/``msg``,
    or a list of those (FastAPI's ``detail`` for a refused body) joined."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, dict):
        inner = value.get("message") or value.get("msg")
        if isinstance(inner, str) and inner:
            where = value.get("loc")
            if isinstance(where, list) and where:
                return f"{'.'.join(str(part) for part in where)}: {inner}"
            return inner
        return json.dumps(value)[:300]
    if isinstance(value, list) and value:
        return "; ".join(_words(item) or json.dumps(item) for item in value)[:300]
    return None


def done_or_gone(status: int) -> bool:
    """A success, or 404: what a delete (or a revoke) wants. The object is gone already,
    which is what a repeat meets after the first attempt's answer was lost."""
    return 200 <= status < 300 or status == 404


_READ = httpx.ByteStream(b"")
"""What a response's stream is once its body was read (it is in ``response.content``)."""


def unbind(response: httpx.Response) -> None:
    """Break the reference cycle between a read response and its stream.

    httpx wraps each response's stream in one that refers back to the response
    (to set ``elapsed`` when it closes), so every answer and its body would wait
    for the cyclic collector, which is paused while the live state is read (and
    what it holds then is frozen for good): at 110,000 objects, every page of the
    read. The client reads each body whole, so the stream is spent; replaced by an
    empty one, the response and its body go as soon as the caller drops them.
    """
    if response.is_stream_consumed and response.is_closed:
        response.stream = _READ


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether ``kind`` is in ``exc``'s chain (httpx wraps the OS error it met)."""
    seen: set[int] = set()
    found: BaseException | None = exc
    while found is not None and id(found) not in seen:
        if isinstance(found, kind):
            return True
        seen.add(id(found))
        group = getattr(found, "exceptions", None)
        if isinstance(group, (list, tuple)) and any(_caused_by(e, kind) for e in group):
            return True
        found = found.__cause__ or found.__context__
    return False


class ApiClient(Paging):
    """An ``httpx.AsyncClient`` with the policy reconciler needs.

    ``transport`` is injectable so unit tests can pass ``httpx.MockTransport``;
    everything else talks real HTTP through a transport this client makes (so
    :meth:`through` can put a wrapper in front of the same connection pool).
    """

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        timeout: float = 30.0,
        verify: bool | ssl.SSLContext = True,
        transport: httpx.AsyncBaseTransport | None = None,
        max_attempts: int = 4,
        backoff_base: float = 0.2,
        max_backoff: float = 10.0,
        max_connections: int = 64,
        retry_budget: float = 60.0,
    ) -> None:
        headers = {"Accept": "application/json", "User-Agent": "reconciler"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self.base_url = base_url.rstrip("/")
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.max_backoff = max_backoff
        self.retry_budget = retry_budget
        self.request_count = 0
        self._answered = 0
        self.error_key: str | None = None
        """Where this API's error bodies hold the message (the ``errors.message`` option)."""
        self.on_write: WriteHook | None = None
        """Called with (method, path) before every write attempt is sent; what it returns
        is called with the attempt's (status or None, error) when it ends (a journal)."""
        self.limiter: Limiter | None = None
        """The session's concurrency (and rate): every attempt waits for one of its slots
        and tells it the answer's latency and status (:mod:`reconciler.limiter`)."""
        self.transport = transport or httpx.AsyncHTTPTransport(verify=verify, limits=limits)
        """Where requests go: this client's connection pool (or a test's mock)."""
        self._policy: dict[str, Any] = {
            "timeout": timeout,
            "verify": verify,
            "max_attempts": max_attempts,
            "backoff_base": backoff_base,
            "max_backoff": max_backoff,
            "max_connections": max_connections,
            "retry_budget": retry_budget,
        }
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            transport=self.transport,
            timeout=timeout,
            verify=verify,
            limits=limits,
        )

    def through(self, transport: httpx.AsyncBaseTransport) -> ApiClient:
        """A client like this one whose requests go through ``transport``.

        Same URL, headers (the token travels as the header value it already is),
        timeout and retry policy; no journal hook. A wrapper of :attr:`transport`
        (the preview's) shares this client's connection pool; closing the new
        client closes ``transport``, which decides what that means.
        """
        clone = ApiClient(self.base_url, None, transport=transport, **self._policy)
        clone._client.headers.update(self._client.headers)
        clone.error_key = self.error_key
        return clone

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    def _where(self) -> str:
        """The server as people name it: host and port."""
        url = httpx.URL(self.base_url)
        return f"{url.host}:{url.port}" if url.port else url.host

    def _unreachable(self, exc: httpx.TransportError) -> str:
        """What failed, naming the server, with the likely cause when it is plain."""
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, httpx.ConnectError):
            if "refused" in reason.lower() or _caused_by(exc, ConnectionRefusedError):
                return (
                    f"cannot connect to {self._where()}: connection refused (is the server "
                    "running, and are the URL's host and port right?)"
                )
            if "name" in reason.lower() and ("resolution" in reason.lower() or "known" in reason):
                return f"cannot find the host {httpx.URL(self.base_url).host} ({reason})"
            return f"cannot connect to {self._where()} ({reason})"
        return f"{self._where()}: {reason}"

    def _journal(self, method: str, path: str) -> Callable[[int | None, str | None], None]:
        """Tell the hook a write is about to be sent; returns what to tell its outcome."""
        if self.on_write is not None and method not in READS:
            return self.on_write(method, path)
        return lambda status, error: None

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None:
            retry_after = response.headers.get("Retry-After")
            if retry_after:
                try:
                    return min(float(retry_after), self.max_backoff)
                except ValueError:
                    pass
        base: float = min(self.backoff_base * 2**attempt, self.max_backoff)
        return base / 2 + random.uniform(0, base / 2)

    async def send(
        self,
        method: str,
        path: str,
        *,
        json_body: JSON = None,
        params: Mapping[str, Any] | None = None,
        resource: str | None = None,
        ok: Callable[[int], bool] = lambda status: 200 <= status < 300,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send one call; retry only what is safe to repeat; raise on error status.

        Retries are bounded in number (``max_attempts``) and in time
        (``retry_budget`` seconds from the first attempt), with exponential
        backoff and jitter, honouring ``Retry-After``.
        """
        method = method.upper()
        check_path(path)  # before anything is sent or journaled
        safe = method in IDEMPOTENT if idempotent is None else idempotent
        attempt = 0
        started = time.monotonic()

        def again(response: httpx.Response | None) -> float | None:
            """The pause before another attempt, or None when out of attempts or time."""
            if attempt + 1 >= self.max_attempts:
                return None
            delay = self._delay(attempt, response)
            if time.monotonic() - started + delay > self.retry_budget:
                return None
            return delay

        while True:
            try:
                response, message = await self._attempt(method, path, json_body, params)
            except httpx.TimeoutException as exc:
                delay = again(None) if safe else None
                if delay is not None:
                    await asyncio.sleep(delay)
                    attempt += 1
                    continue
                raise TransportError(
                    method,
                    path,
                    f"{self._where()} did not answer in time ({type(exc).__name__})",
                    resource,
                ) from exc
            except httpx.TransportError as exc:
                delay = again(None) if safe else None
                if delay is not None:
                    await asyncio.sleep(delay)
                    attempt += 1
                    continue
                raise TransportError(method, path, self._unreachable(exc), resource) from exc
            status = response.status_code
            # 429 means "not done, come back later": safe to repeat for any method.
            # A read changes nothing, so any 5xx on one is worth another try.
            reading = method in READS and status >= 500
            retryable = status == 429 or reading or (status in RETRY_STATUSES and safe)
            delay = again(response) if retryable else None
            if delay is not None:
                await asyncio.sleep(delay)
                attempt += 1
                continue
            if ok(status):
                self._answered += 1
                return response
            if status == 404 and method in READS and not self._answered:
                message = (
                    f"{message} (the first call to {self._where()} found nothing at this "
                    "path: is the target's URL right, base path included?)"
                )
            error = ConflictError if status == 409 else ApiError
            if message is None:
                message = server_message(response, self.error_key)
            raise error(method, path, status, message, resource)

    async def _attempt(
        self, method: str, path: str, json_body: JSON, params: Mapping[str, Any] | None
    ) -> tuple[httpx.Response, str | None]:
        """One attempt, once the limiter gives it a slot: journaled (intent before it
        leaves, outcome after), its latency and status told to the limiter. Returns the
        answer and, for an error status, the server's message."""
        async with slot(self.limiter, method) as answered:
            settle = self._journal(method, path)  # before the request leaves
            self.request_count += 1
            try:
                response = await self._client.request(
                    method, path, json=json_body, params=dict(params) if params else None
                )
            except httpx.TimeoutException as exc:
                settle(None, f"timed out ({type(exc).__name__})")
                raise
            except httpx.TransportError as exc:
                settle(None, str(exc) or type(exc).__name__)
                raise
            unbind(response)
            status = response.status_code
            message = None if status < 400 else server_message(response, self.error_key)
            settle(status, message)
            answered(status, retry_after(response.headers.get("Retry-After")))
            return response, message

    async def delete(
        self, path: str, *, resource: str, params: Mapping[str, Any] | None = None
    ) -> None:
        """``DELETE`` by id, repeated when its answer is lost; 404 is done (see done_or_gone)."""
        await self.send("DELETE", path, params=params, resource=resource, ok=done_or_gone)

    async def call(
        self,
        method: str,
        path: str,
        *,
        json_body: JSON = None,
        params: Mapping[str, Any] | None = None,
        resource: str | None = None,
        idempotent: bool | None = None,
        decode: Decode | None = None,
    ) -> JSON:
        """Send one call and return its JSON body (``None`` when empty), decoded.

        ``decode`` (the provider's reading of the answer) runs here, on this
        call's answer: when it finds another shape, the error names this call.
        """
        method = method.upper()
        response = await self.send(
            method,
            path,
            json_body=json_body,
            params=params,
            resource=resource,
            idempotent=idempotent,
        )
        body: JSON = None
        if response.content:
            try:
                body = response.json()
            except ValueError as exc:
                raise MalformedResponse(
                    method, path, response.status_code, f"response is not JSON ({exc})", resource
                ) from None
        if decode is None:
            return body
        return decoded(decode, body, method, path, response.status_code, resource)


__all__ = [
    "IDEMPOTENT",
    "JSON",
    "PLACEHOLDER",
    "READS",
    "SHAPE_ERRORS",
    "UNRESERVED",
    "ApiClient",
    "Decode",
    "InconsistentRead",
    "UnsafePath",
    "UnsafePathSegment",
    "check_path",
    "decoded",
    "done_or_gone",
    "encode_segment",
    "path_problem",
    "segment_problem",
    "server_message",
    "shown_value",
    "url_path",
]

"""The one async HTTP client every provider shares.

It owns the policy that must be the same for every API: the bearer header, the
timeout, retries (only where repeating a call is safe), pagination followed to
the end, and turning error responses into :class:`ApiError` that names the
resource, the call and the server's own message. Providers own only the shape of
their API. The token is set once as a header and never appears in errors.

It also owns how a path is built: :func:`url_path` is the only way a value
(from a spec or from the server) gets into a URL path, each value encoded as
exactly one segment, and :meth:`ApiClient.send` refuses any path that is not in
that encoded form before anything is sent.
"""

from __future__ import annotations

import asyncio
import functools
import json
import random
import re
import ssl
import string
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from reconciler.errors import ApiError, ConflictError, PlanError, TransportError

JSON = Any
"""A decoded JSON document."""

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods safe to repeat after an unknown outcome (PATCH: every provider sends
merge patches that set values, which repeat to the same result). A POST is
repeated only when its caller says it is safe (``idempotent=True``, e.g. a
suspend action); a create is never repeated here: the engine re-reads first."""
RETRY_STATUSES = frozenset({429, 502, 503, 504})
READS = frozenset({"GET", "HEAD", "OPTIONS"})

# ---- paths -----------------------------------------------------------------------

UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
"""RFC 3986 unreserved characters: the only ones a segment value keeps as they are."""
PLACEHOLDER = "{}"
"""A value's place in a :func:`url_path` template: always a whole segment."""
_CANONICAL_SEGMENT = re.compile(r"(?:[A-Za-z0-9\-._~]|%[0-9A-Fa-f]{2})+")
"""A segment as :func:`url_path` writes it: unreserved characters and ``%XX`` only."""


class UnsafePath(PlanError):
    """A path that is not in the encoded form :func:`url_path` writes; never sent."""

    def __init__(self, value: object, reason: str) -> None:
        self.value = value
        self.reason = reason
        super().__init__(f"refused to put {shown_value(value)} in a URL path: {reason}")


class UnsafePathSegment(UnsafePath):
    """A value that cannot be one URL path segment: refused before any request.

    Raised for values from specs and from the server alike (an id, a flag key, a
    role name): empty, not text or a whole number, holding ``/`` or ``\\`` (which
    servers may decode or treat as separators), control characters, or text that
    is not valid Unicode.
    """


def shown_value(value: object, limit: int = 60) -> str:
    """``value`` as it may be printed: ``repr`` escapes controls and bidi marks."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def segment_problem(value: object) -> str | None:
    """Why ``value`` cannot be sent as one URL path segment, or None when it can.

    Anything else (``?``, ``#``, ``%``, spaces, ``.``/``..``, any Unicode) is
    encoded by :func:`url_path` and reaches the server as the one segment it is.
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        return f"a {type(value).__name__} is not a path segment (only text or a whole number)"
    if isinstance(value, int):
        return None
    if not value:
        return "it is empty"
    if "/" in value:
        return "it contains '/', which servers may decode into a path separator"
    if "\\" in value:
        return "it contains '\\', which some servers treat as a path separator"
    for char in value:
        code = ord(char)
        if code < 0x20 or 0x7F <= code <= 0x9F:
            return f"it contains the control character U+{code:04X}"
        if 0xD800 <= code <= 0xDFFF:
            return f"it contains U+{code:04X}, an unpaired surrogate (not valid Unicode text)"
    return None


def encode_segment(value: str | int) -> str:
    """``value`` percent-encoded as exactly one segment, or :class:`UnsafePathSegment`.

    Everything outside the RFC 3986 unreserved characters is encoded (as UTF-8);
    ``.`` and ``..`` as whole segments become ``%2E`` and ``%2E%2E``, so no client
    or server resolves them as dot segments.
    """
    problem = segment_problem(value)
    if problem is not None:
        raise UnsafePathSegment(value, problem)
    text = str(value)
    if text in (".", ".."):
        return "%2E" * len(text)
    return quote(text, safe="")


@functools.lru_cache(maxsize=512)
def _template(template: str) -> tuple[str, ...]:
    """The segments of a template or base, checked: placeholders only as whole segments."""
    if template == "":
        return ()
    if not template.startswith("/"):
        raise ValueError(f"a path template starts with '/': {template!r}")
    segments = tuple(template[1:].split("/"))
    for segment in segments:
        if segment == PLACEHOLDER:
            continue
        if "{" in segment or "}" in segment:
            raise ValueError(f"a placeholder must be a whole segment: {template!r}")
        if segment in ("", ".", "..") or not set(segment) <= UNRESERVED:
            raise ValueError(f"a template segment must be plain text: {template!r}")
    return segments


def url_path(template: str, *values: str | int, base: str = "") -> str:
    """The path ``base`` + ``template`` with each ``{}`` replaced by one encoded value.

    ``url_path("/tenants/{}/feature-flags/{}", tenant_id, key, base=BASE)``. The
    template (and ``base``) are the provider's own constants: plain segments and
    ``{}`` placeholders that are whole segments. Each value becomes exactly one
    segment (:func:`encode_segment`); a value that cannot be one raises
    :class:`UnsafePathSegment` before any request is made. This is the only place
    a path is built from values.
    """
    if PLACEHOLDER in _template(base):
        raise ValueError(f"a base path has no placeholders: {base!r}")
    segments = _template(template)
    if segments.count(PLACEHOLDER) != len(values):
        raise ValueError(
            f"{template!r} has {segments.count(PLACEHOLDER)} placeholders, "
            f"given {len(values)} values"
        )
    given = iter(values)
    built = [encode_segment(next(given)) if s == PLACEHOLDER else s for s in segments]
    return base + "".join("/" + segment for segment in built)


def path_problem(path: str) -> str | None:
    """Why ``path`` is not in the form :func:`url_path` writes, or None when it is.

    ``""`` or ``/`` followed by non-empty segments of unreserved characters and
    ``%XX`` escapes, none of them a raw ``.`` or ``..``: a path httpx sends
    unchanged and no server resolves to another.
    """
    if path == "":
        return None
    if not path.startswith("/"):
        return "it does not start with '/'"
    for segment in path[1:].split("/"):
        if segment in (".", ".."):
            return f"it holds a raw {segment!r} segment"
        if not _CANONICAL_SEGMENT.fullmatch(segment):
            return f"segment {shown_value(segment)} is empty or not percent-encoded"
    return None


def check_path(path: str) -> None:
    """Raise :class:`UnsafePath` unless ``path`` is in :func:`url_path`'s encoded form."""
    problem = path_problem(path)
    if problem is not None:
        raise UnsafePath(path, problem)


def server_message(response: httpx.Response) -> str:
    """The server's own words for an error, from the common error envelopes."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:300] if text else response.reason_phrase
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


class ApiClient:
    """An ``httpx.AsyncClient`` with the policy reconciler needs.

    ``transport`` is injectable so unit tests can pass ``httpx.MockTransport``;
    everything else talks real HTTP.
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
        self.base_url = base_url.rstrip("/")
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.max_backoff = max_backoff
        self.retry_budget = retry_budget
        self.request_count = 0
        self.last_call = ""
        self.on_write: Callable[[str, str, int | None, str | None], None] | None = None
        """Called after every write attempt: (method, path, status or None, error)."""
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=timeout,
            verify=verify,
            transport=transport,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
        )

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    def _journal(self, method: str, path: str, status: int | None, error: str | None) -> None:
        if self.on_write is not None and method not in READS:
            self.on_write(method, path, status, error)

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
            response: httpx.Response | None = None
            try:
                self.request_count += 1
                self.last_call = f"{method} {path}"
                response = await self._client.request(
                    method,
                    path,
                    json=json_body,
                    params=dict(params) if params else None,
                )
            except httpx.TimeoutException as exc:
                self._journal(method, path, None, f"timed out ({type(exc).__name__})")
                delay = again(None) if safe else None
                if delay is not None:
                    await asyncio.sleep(delay)
                    attempt += 1
                    continue
                raise TransportError(
                    method, path, f"timed out ({type(exc).__name__})", resource
                ) from exc
            except httpx.TransportError as exc:
                self._journal(method, path, None, str(exc) or type(exc).__name__)
                delay = again(None) if safe else None
                if delay is not None:
                    await asyncio.sleep(delay)
                    attempt += 1
                    continue
                raise TransportError(
                    method, path, str(exc) or type(exc).__name__, resource
                ) from exc
            status = response.status_code
            self._journal(method, path, status, None if status < 400 else server_message(response))
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
                return response
            error = ConflictError if status == 409 else ApiError
            raise error(method, path, status, server_message(response), resource)

    async def call(
        self,
        method: str,
        path: str,
        *,
        json_body: JSON = None,
        params: Mapping[str, Any] | None = None,
        resource: str | None = None,
        idempotent: bool | None = None,
    ) -> JSON:
        """Send one call and return its decoded JSON body (``None`` when empty)."""
        response = await self.send(
            method,
            path,
            json_body=json_body,
            params=params,
            resource=resource,
            idempotent=idempotent,
        )
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise ApiError(
                method.upper(),
                path,
                response.status_code,
                f"response is not JSON ({exc})",
                resource,
            ) from None

    async def paginate_offset(
        self,
        path: str,
        items: Callable[[JSON], list[Any]],
        *,
        limit: int,
        params: Mapping[str, Any] | None = None,
        total: Callable[[JSON], int | None] = lambda body: None,
        resource: str | None = None,
        offset_param: str = "offset",
        limit_param: str = "limit",
        concurrency: int = 4,
    ) -> AsyncIterator[Any]:
        """Follow ``offset``/``limit`` pages to the end, items in order.

        Servers may return smaller pages than asked for, so the walk moves by
        what actually came back. When the first page reports a total, the
        remaining pages are fetched ``concurrency`` at a time, sized as the
        server sized the first one; a last sequential walk picks up anything
        beyond (a total that grew meanwhile). The walk ends on an empty page or
        when the reported total is reached, never merely on a short page.
        """
        seen = _SeenItems(path)

        async def fetch(offset: int) -> tuple[list[Any], int | None]:
            query = dict(params or {})
            query[offset_param] = offset
            query[limit_param] = limit
            body = await self.call("GET", path, params=query, resource=resource)
            return _page(items, body, path), total(body)

        first, reported = await fetch(0)
        seen.add(first)
        for item in first:
            yield item
        offset = len(first)
        if not first or (reported is not None and offset >= reported):
            seen.check_total(reported)
            return
        if reported is not None and concurrency > 1:
            size = len(first)  # the server's own page size, which may be below ``limit``
            offsets = list(range(offset, reported, size))
            semaphore = asyncio.Semaphore(concurrency)

            async def bounded(at: int) -> tuple[list[Any], int | None]:
                async with semaphore:
                    return await fetch(at)

            for start in range(0, len(offsets), concurrency * 4):
                batch = offsets[start : start + concurrency * 4]
                for page, _ in await asyncio.gather(*(bounded(at) for at in batch)):
                    seen.add(page)
                    for item in page:
                        yield item
                    offset += len(page)
            if offset >= reported:
                seen.check_total(reported)
                return
        while True:  # sequential from here: short pages, or a listing without a total
            page, reported = await fetch(offset)
            seen.add(page)
            for item in page:
                yield item
            offset += len(page)
            if not page or (reported is not None and offset >= reported):
                seen.check_total(reported)
                return

    async def paginate_pages(
        self,
        path: str,
        items: Callable[[JSON], list[Any]],
        *,
        limit: int,
        params: Mapping[str, Any] | None = None,
        total: Callable[[JSON], int | None] = lambda body: None,
        resource: str | None = None,
        first_page: int = 1,
    ) -> AsyncIterator[Any]:
        """Follow ``page``/``limit`` pages to the end (empty page or total reached)."""
        page_no = first_page
        seen = _SeenItems(path)
        while True:
            query = dict(params or {})
            query["page"] = page_no
            query["limit"] = limit
            body = await self.call("GET", path, params=query, resource=resource)
            page = _page(items, body, path)
            seen.add(page)
            for item in page:
                yield item
            reported = total(body)
            if not page or (reported is not None and seen.count >= reported):
                seen.check_total(reported)
                return
            page_no += 1


class InconsistentRead(ApiError):
    """A listing that contradicts itself: nothing may be planned (or written) from it."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__("GET", path, 200, message)


def _page(items: Callable[[JSON], list[Any]], body: JSON, path: str) -> list[Any]:
    """The items of one page, or a clear error when the answer has another shape."""
    try:
        page = items(body)
    except (KeyError, TypeError, AttributeError, IndexError) as exc:
        raise InconsistentRead(
            path, f"unexpected answer shape ({type(exc).__name__}: {exc})"
        ) from None
    if not isinstance(page, list):
        raise InconsistentRead(path, f"expected a list of items, got {type(page).__name__}")
    return page


class _SeenItems:
    """Catches pages that repeat or skip: by item id, and against the reported total."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.ids: set[str] = set()
        self.count = 0

    def add(self, page: list[Any]) -> None:
        for item in page:
            self.count += 1
            ident = item.get("id") if isinstance(item, dict) else None
            if ident is None:
                continue
            key = str(ident)
            if key in self.ids:
                raise InconsistentRead(
                    self.path,
                    f"the listing returned item {key} twice (pages repeat or moved while "
                    "read); nothing was planned from it",
                )
            self.ids.add(key)

    def check_total(self, reported: int | None) -> None:
        if reported is not None and self.count < reported:
            raise InconsistentRead(
                self.path,
                f"the server reported {reported} items but its pages held {self.count} "
                "(pages skip items); nothing was planned from it",
            )

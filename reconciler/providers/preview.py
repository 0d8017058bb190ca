"""``plan --show-calls``: the exact HTTP calls an apply would make, without making them.

:class:`PreviewTransport` is an ``httpx.AsyncBaseTransport`` (httpx's
``MockTransport`` is the model): it sends reads on to the real client's
connection pool (they change nothing) and answers every write itself,
recording it. The real provider runs over a client that goes through it
(:func:`previewing`), so the provider's own code decides method, path and body,
exactly as it would on apply, and the client's own checks (paths, retries) hold.
New objects get placeholder ids (``<new-1>``) that later calls show in their
paths (encoded there like any value, and shown back as ``<new-1>``). Bodies are
recorded with sensitive values masked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import httpx

from reconciler.calls import PlannedCall
from reconciler.providers.http import ApiClient
from reconciler.providers.paging import JSON

MASK = "***"
PLACEHOLDER = re.compile(r"%3Cnew-[0-9]+%3E")
"""A placeholder id as :func:`~reconciler.providers.http.url_path` encodes it in a path."""
SENSITIVE_KEY = re.compile(r"pass(word)?|secret|token|api[_-]?key|private|credential", re.I)
SENT = frozenset({"GET", "HEAD"})
"""Methods the preview sends for real."""


def mask(value: JSON, extra: frozenset[str] = frozenset()) -> JSON:
    """``value`` with every sensitive-looking key's value replaced by ``***``."""
    if isinstance(value, dict):
        return {
            k: MASK if SENSITIVE_KEY.search(str(k)) or k in extra else mask(v, extra)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask(v, extra) for v in value]
    return value


Answer = Callable[[str, str, JSON, str], JSON]
"""(method, path, request body, placeholder id) → the body a write is answered with."""


def echo_answer(method: str, path: str, body: JSON, new_id: str) -> JSON:
    """The request body back, with an id: what most APIs answer a write with."""
    answer: dict[str, Any] = dict(body) if isinstance(body, dict) else {}
    answer.setdefault("id", new_id)
    return answer


class PreviewTransport(httpx.AsyncBaseTransport):
    """Sends reads through ``inner``; records every write and answers it itself.

    ``base_path`` is the path of the client's base URL, left out of the recorded
    paths (they read as the provider wrote them). ``current`` names the change
    whose calls are being made; the caller sets it. Closing this transport
    leaves ``inner`` open: the pool belongs to the real client.
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        base_path: str = "",
        answer: Answer = echo_answer,
        sensitive_keys: frozenset[str] = frozenset(),
    ) -> None:
        self.inner = inner
        self.base_path = base_path.rstrip("/")
        self.answer = answer
        self.sensitive_keys = sensitive_keys
        self.calls: list[PlannedCall] = []
        self.current = ""
        self._new = 0

    def placeholder(self) -> str:
        self._new += 1
        return f"<new-{self._new}>"

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        method = request.method.upper()
        if method in SENT:
            return await self.inner.handle_async_request(request)
        raw = request.url.raw_path.decode("ascii").partition("?")[0]
        path = raw.removeprefix(self.base_path) if self.base_path else raw
        content = await request.aread()
        body = json.loads(content) if content else None
        params = dict(request.url.params) or None
        shown = PLACEHOLDER.sub(lambda m: unquote(m.group(0)), path)
        self.calls.append(
            PlannedCall(self.current, method, shown, params, mask(body, self.sensitive_keys))
        )
        # A POST makes something new; other writes act on the object their path names.
        new_id = self.placeholder() if method == "POST" else unquote(path.rsplit("/", 1)[-1])
        answer = self.answer(method, path, body, new_id)
        return httpx.Response(201 if method == "POST" else 200, json=answer)

    async def aclose(self) -> None:
        """Nothing to close: ``inner`` is the real client's."""


def previewing(
    client: ApiClient,
    answer: Answer = echo_answer,
    sensitive_keys: frozenset[str] = frozenset(),
) -> tuple[ApiClient, PreviewTransport]:
    """A client like ``client`` whose writes are recorded and answered, never sent.

    Returns the client (close it when done; ``client`` stays open) and the
    transport holding the recorded calls.
    """
    transport = PreviewTransport(
        client.transport,
        base_path=httpx.URL(client.base_url).raw_path.decode("ascii"),
        answer=answer,
        sensitive_keys=sensitive_keys,
    )
    return client.through(transport), transport


__all__ = ["MASK", "Answer", "PreviewTransport", "echo_answer", "mask", "previewing"]

"""``plan --show-calls``: the exact HTTP calls an apply would make, without making them.

The real provider runs against a client that lets reads through (they change
nothing) and answers every write itself, so the provider's own code decides
method, path and body, exactly as it would on apply. New objects get
placeholder ids (``<new-1>``) that later calls show in their paths (encoded
there like any value, and shown back as ``<new-1>``). Bodies are shown with
sensitive values masked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import httpx

from reconciler.providers.http import JSON, ApiClient, check_path

MASK = "***"
PLACEHOLDER = re.compile(r"%3Cnew-[0-9]+%3E")
"""A placeholder id as :func:`~reconciler.providers.http.url_path` encodes it in a path."""
SENSITIVE_KEY = re.compile(r"pass(word)?|secret|token|api[_-]?key|private|credential", re.I)


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


@dataclass(frozen=True)
class PlannedCall:
    """One write an apply would send, attributed to the change that sends it."""

    change: str
    method: str
    path: str
    params: Mapping[str, Any] | None
    body: JSON

    def describe(self) -> str:
        query = ""
        if self.params:
            query = "?" + "&".join(f"{k}={v}" for k, v in self.params.items())
        body = "" if self.body is None else " " + json.dumps(self.body, sort_keys=True)
        return f"{self.method} {self.path}{query}{body}"


class PreviewClient(ApiClient):
    """An :class:`ApiClient` that sends reads and records writes instead of sending them."""

    def __init__(
        self,
        real: ApiClient,
        answer: Answer = echo_answer,
        sensitive_keys: frozenset[str] = frozenset(),
    ) -> None:
        self.sensitive_keys = sensitive_keys
        self.__dict__.update(real.__dict__)  # shares the real client's connection pool
        self.answer = answer
        self.calls: list[PlannedCall] = []
        self.current = ""
        self._new = 0

    def placeholder(self) -> str:
        self._new += 1
        return f"<new-{self._new}>"

    async def send(
        self,
        method: str,
        path: str,
        *,
        json_body: JSON = None,
        params: Mapping[str, Any] | None = None,
        resource: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        if method.upper() in ("GET", "HEAD"):
            return await super().send(
                method, path, json_body=json_body, params=params, resource=resource, **kwargs
            )
        check_path(path)  # refused here exactly as a real send would refuse it
        shown = PLACEHOLDER.sub(lambda m: unquote(m.group(0)), path)
        self.calls.append(
            PlannedCall(
                self.current, method.upper(), shown, params, mask(json_body, self.sensitive_keys)
            )
        )
        # A POST makes something new; other writes act on the object their path names.
        last = unquote(path.rsplit("/", 1)[-1])
        new_id = self.placeholder() if method.upper() == "POST" else last
        answer = self.answer(method.upper(), path, json_body, new_id)
        status = 201 if method.upper() == "POST" else 200
        request = httpx.Request(method.upper(), self.base_url + path)
        return httpx.Response(status, json=answer, request=request)

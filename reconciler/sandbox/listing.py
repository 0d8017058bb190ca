"""A listing answered the way a target's :class:`~reconciler.options.common.Listing` says.

A sandbox started with a dialect's options answers its listings as a server
that made those choices would: items under another key (or a bare list), the
total elsewhere (or nowhere), pages asked for by offset, page number, cursor
or next link. The provider configured with the same options must read them;
left at its defaults it must fail clearly (or ``reconciler probe`` must say
which option to set).

:func:`asked` reads the window a request asks for; :func:`answer` writes the
body around rows that are already JSON text (the store keeps them so).
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from reconciler.options.common import Listing
from reconciler.sandbox.common import invalid


@dataclass(frozen=True)
class Window:
    """The rows one request asks for."""

    limit: int
    offset: int


def _number(query: Mapping[str, str], name: str, default: int, least: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(f"{name}: '{raw}' is not a whole number") from None
    if value < least:
        raise invalid(f"{name}: must be at least {least}")
    return value


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _uncursor(raw: str, name: str) -> int:
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        kind, _, number = text.partition(":")
        if kind != "o":
            raise ValueError(text)
        return max(0, int(number))
    except ValueError:
        raise invalid(f"{name}: not a cursor this server gave") from None


def asked(
    query: Mapping[str, str], listing: Listing, *, max_page: int, default_limit: int = 100
) -> Window:
    """The window of rows a request asks for, under ``listing``'s parameter names.

    Asking for more than ``max_page`` serves ``max_page`` (as real servers do).
    """
    if listing.paging == "none":
        return Window(limit=max_page, offset=0)
    limit = min(_number(query, listing.limit_param, default_limit, 1), max_page)
    if listing.paging == "page":
        page = _number(query, listing.page_param, listing.first_page, listing.first_page)
        return Window(limit, (page - listing.first_page) * limit)
    if listing.paging == "cursor":
        raw = query.get(listing.cursor_param)
        return Window(limit, 0 if raw is None else _uncursor(raw, listing.cursor_param))
    return Window(limit, _number(query, listing.offset_param, 0, 0))


def put_at(body: dict[str, Any], key: str, value: Any) -> None:
    """``value`` at dotted ``key`` in ``body``."""
    *parents, last = key.split(".")
    for part in parents:
        body = body.setdefault(part, {})
    body[last] = value


def answer(
    listing: Listing,
    window: Window,
    rows: list[str],
    total: int,
    *,
    path: str,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """The answer's JSON text: ``rows`` (JSON text each) where ``listing`` puts items.

    ``path`` is the request's own path (for a next link); ``extra`` are further
    top-level keys a dialect adds to its envelope.
    """
    listed = "[" + ",".join(rows) + "]"
    if listing.items is None:
        return listed
    more = window.offset + len(rows) < total
    marker = f"items-{uuid.uuid4().hex}"
    body: dict[str, Any] = dict(extra or {})
    put_at(body, listing.items, marker)
    if listing.total is not None:
        put_at(body, listing.total, total)
    if listing.paging == "cursor":
        put_at(body, listing.next, _cursor(window.offset + len(rows)) if more else None)
    elif listing.paging == "link":
        onward = {
            listing.limit_param: window.limit,
            listing.offset_param: window.offset + len(rows),
        }
        put_at(body, listing.next, f"{path}?{urlencode(onward)}" if more else None)
    return json.dumps(body, separators=(",", ":")).replace(json.dumps(marker), listed, 1)


__all__ = ["Window", "answer", "asked", "put_at"]

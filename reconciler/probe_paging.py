"""The paging checks of ``reconciler probe``: is the page size obeyed, does the window move?

Each check asks for tiny pages (one or two items) with ``GET`` only, and compares
the items that come back with the first page's by their JSON text, so it needs
a listing of at least two items. When the configured parameters do not work,
the usual others are tried (``per_page``, ``skip``, ``page``, a next cursor or
link in the answer), and the first that works becomes the suggested fix.

A server that answers fewer items than asked is fine (real servers cap pages);
one that answers more ignores the page-size parameter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from reconciler.options.common import Listing, at, maybe_at
from reconciler.providers.http import ApiClient, server_message
from reconciler.providers.paths import path_problem

Status = Literal["ok", "misfit", "unchecked"]
Note = tuple[Status, str, dict[str, Any]]
"""One finding of these checks: status, message, and the listing options that fix it."""

LIMIT_NAMES = ("limit", "per_page", "perPage", "page_size", "pageSize", "size", "count", "top")
OFFSET_NAMES = ("offset", "skip", "start", "from")
PAGE_NAMES = ("page", "page_number", "pageNumber", "p")
CURSOR_NAMES = ("cursor", "page_token", "pageToken", "after", "starting_after", "next", "token")
NEXT_KEYS = (
    "next",
    "next_cursor",
    "nextCursor",
    "next_page_token",
    "nextPageToken",
    "cursor",
    "next_page",
    "nextPage",
    "links.next",
    "_links.next",
    "meta.next",
    "meta.next_cursor",
    "pagination.next",
    "pagination.next_cursor",
    "paging.next",
)


@dataclass(frozen=True)
class Answer:
    """One GET's answer: status, JSON body (None if not JSON) and the server's words."""

    status: int
    body: Any
    is_json: bool
    words: str = ""


async def get(client: ApiClient, path: str, params: dict[str, Any] | None = None) -> Answer:
    """One GET, whatever its status (reads are retried by the client as usual)."""
    response = await client.send("GET", path, params=params, ok=lambda status: True)
    words = server_message(response, client.error_key) if response.status_code >= 400 else ""
    try:
        return Answer(response.status_code, response.json(), True, words)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than can be read
        return Answer(response.status_code, None, False, words)


def first_window(listing: Listing, size: int) -> dict[str, Any]:
    """The query of a listing's first page of ``size`` items, as the provider asks it."""
    if listing.paging == "none":
        return {}
    query: dict[str, Any] = {listing.limit_param: size}
    if listing.paging == "offset":
        query[listing.offset_param] = 0
    elif listing.paging == "page":
        query[listing.page_param] = listing.first_page
    return query


def second_window(listing: Listing, skip: int) -> dict[str, Any]:
    """The query of the page of one item after the first ``skip`` (page paging: ``skip`` is 1)."""
    if listing.paging == "page":
        return {listing.page_param: listing.first_page + 1, listing.limit_param: 1}
    return {listing.offset_param: skip, listing.limit_param: 1}


def items_in(body: Any, key: str | None) -> list[Any] | None:
    """The list at ``key`` (the answer itself for None), or None when there is none."""
    try:
        found = at(body, key)
    except KeyError:
        return None
    return found if isinstance(found, list) else None


def same(a: Any, b: Any) -> bool:
    """Whether two listed items are the same (both present, the same JSON)."""
    if a is None or b is None:
        return False
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def link_target(base_url: str, link: str) -> tuple[str, dict[str, str]] | None:
    """The path (under the target's URL) and query of a next-page link, or None.

    The link is the server's: one to another host, scheme or port, out of the
    target's path, or not a plain path is not followed (the token would go with it).
    """
    base = httpx.URL(base_url)
    try:
        found = base.join(link)
    except (httpx.InvalidURL, ValueError):
        return None
    if (found.scheme, found.host, found.port) != (base.scheme, base.host, base.port):
        return None
    prefix = base.raw_path.decode("ascii").split("?")[0].rstrip("/")
    path = found.raw_path.decode("ascii").split("?")[0]
    relative = path[len(prefix) :]
    if not (path.startswith(prefix) and relative.startswith("/")) or path_problem(relative):
        return None
    return relative, dict(found.params.multi_items())


def _link(base_url: str, value: str | int) -> tuple[str, dict[str, str]] | None:
    """Where ``value`` leads when it reads as a link (a path or URL), else None."""
    if not isinstance(value, str) or not (
        value.startswith(("/", "http:", "https:")) or "?" in value
    ):
        return None
    return link_target(base_url, value)


def _changed(before: Listing, after: Listing) -> dict[str, Any]:
    """The listing options ``after`` sets otherwise than ``before`` (python names)."""
    return {
        name: getattr(after, name)
        for name in Listing.model_fields
        if getattr(after, name) != getattr(before, name)
    }


class PagingCheck:
    """The paging of one listing, checked against its options; :attr:`listing` ends with the
    fixes found applied."""

    def __init__(
        self, client: ApiClient, path: str, listing: Listing, body: Any, items: list[Any]
    ) -> None:
        self.client, self.path, self.listing = client, path, listing
        self.body, self.items = body, items
        self.notes: list[Note] = []

    def note(self, status: Status, message: str, fixes: dict[str, Any] | None = None) -> None:
        self.notes.append((status, message, fixes or {}))

    async def run(self) -> list[Note]:
        if self.listing.paging == "none":
            await self._single()
        elif len(self.items) < 2:
            self.note(
                "unchecked",
                "fewer than two items are listed: paging was not checked "
                "(probe again once there are two or more)",
            )
        else:
            size_one = await self._limit(report=True)
            if self.listing.paging in ("cursor", "link"):
                await self._onward(size_one)
            else:
                await self._window(size_one)
        return self.notes

    async def _page(self, params: dict[str, Any], path: str | None = None) -> list[Any] | None:
        answer = await get(self.client, path or self.path, params)
        return items_in(answer.body, self.listing.items) if answer.status < 300 else None

    async def _first_item(self, params: dict[str, Any], path: str | None = None) -> Any:
        page = await self._page(params, path)
        return page[0] if page else None

    async def _limit(self, *, report: bool) -> int | None:
        """How many items a page of one holds, with the page-size parameter that works."""
        listing = self.listing
        one = await self._page(first_window(listing, 1))
        two = await self._page(first_window(listing, 2))
        param = f"`{listing.limit_param}`"
        if one is not None and two is not None and len(one) == 1 and len(two) <= 2:
            if report:
                self.note(
                    "ok", f"{param} sets the page size (1 and 2 asked, 1 and {len(two)} came)"
                )
            return 1
        came = "an error" if one is None else f"{len(one)} came"
        for name in LIMIT_NAMES:
            if name == listing.limit_param:
                continue
            trial = listing.model_copy(update={"limit_param": name})
            found = await self._page(first_window(trial, 1))
            if found is not None and len(found) == 1:
                self.note(
                    "misfit",
                    f"{param} does not set the page size (1 asked, {came}); `{name}` does",
                    {"limit_param": name},
                )
                self.listing = trial
                return 1
        if report:
            self.note(
                "unchecked",
                f"{param} does not seem to set the page size (1 asked, {came}), nor does any "
                "usual parameter: the walk follows the server's own page size",
            )
        return len(one) if one else None

    async def _window(self, size_one: int | None) -> None:
        """Offset and page paging: does the second window start at the second item?"""
        listing = self.listing
        param = listing.offset_param if listing.paging == "offset" else listing.page_param
        if size_one is None or size_one >= len(self.items):
            await self._unpaged(param)
            return
        if listing.paging == "page" and size_one != 1:
            self.note("unchecked", "the page size is not obeyed, so the paging was not checked")
            return
        asked = second_window(listing, size_one)
        shown_ask = f"`{param}={asked[param]}`"
        got = await self._first_item(asked)
        if same(got, self.items[size_one]):
            self.note("ok", f"`{param}` moves the window ({shown_ask} starts at the next item)")
            return
        seen = "the first item again" if same(got, self.items[0]) else "another item"
        seen = "nothing" if got is None else seen
        other = await self._other_style(size_one, onward=True)
        if other is None:
            self.note(
                "misfit",
                f"`{param}` does not move the window ({shown_ask} gave {seen}), "
                "and no usual paging parameter does",
            )
        else:
            fixes, how = other
            self.note(
                "misfit",
                f"`{param}` does not move the window ({shown_ask} gave {seen}); {how} does",
                fixes,
            )

    async def _unpaged(self, param: str) -> None:
        """A page of one held every item: if the window does not move either, the server
        answers the whole listing whatever is asked (walking it would read it again)."""
        asked = second_window(self.listing, 1)
        if not same(await self._first_item(asked), self.items[0]):
            self.note("unchecked", "the page size is not obeyed, so the paging was not checked")
            return
        self.note(
            "misfit",
            f"the server answers the whole listing whatever is asked (a page of 1 and "
            f"`{param}={asked[param]}` gave every item)",
            {"paging": "none"},
        )
        self.listing = self.listing.model_copy(update={"paging": "none"})

    async def _onward(self, size_one: int | None) -> None:
        """Cursor and link paging: does the configured ``next`` lead to the next page?"""
        listing = self.listing
        found = await self._onward_style()
        if found is not None:
            fixes, how = found
            if fixes:
                self.note("misfit", f"`{listing.next}` leads to no next page; {how} does", fixes)
            else:
                self.note("ok", f"{how} leads to the next page")
            return
        other = await self._other_style(size_one, onward=False) if size_one else None
        if other is None:
            self.note("misfit", f"`{listing.next}` leads to no next page, nor does any usual key")
        else:
            fixes, how = other
            self.note(
                "misfit", f"`{listing.next}` leads to no next page; {how} moves the window", fixes
            )

    async def _single(self) -> None:
        """No paging: one answer must hold the whole listing."""
        reported = maybe_at(self.body, self.listing.total) if self.listing.total else None
        if not isinstance(reported, int) or reported <= len(self.items):
            self.note("ok", "one answer holds the whole listing (paging: none)")
            return
        held = f"one answer held {len(self.items)} of {reported} items"
        size_one = await self._limit(report=False)
        other = await self._other_style(size_one, onward=True) if size_one else None
        if other is None:
            self.note("misfit", f"{held}, and no usual paging parameter reaches the rest")
        else:
            fixes, how = other
            self.note("misfit", f"{held}: the listing pages, and {how} moves the window", fixes)

    async def _other_style(
        self, size_one: int | None, *, onward: bool
    ) -> tuple[dict[str, Any], str] | None:
        """Another paging that reaches the item after the first ``size_one``, or None."""
        listing = self.listing
        if size_one is None or size_one >= len(self.items):
            return None
        expected = self.items[size_one]
        trials = [
            listing.model_copy(update={"paging": "offset", "offset_param": n}) for n in OFFSET_NAMES
        ]
        if size_one == 1:
            trials += [
                listing.model_copy(update={"paging": "page", "page_param": n, "first_page": first})
                for n in PAGE_NAMES
                for first in (1, 0)
            ]
        for trial in trials:
            if trial == listing:
                continue
            if same(await self._first_item(second_window(trial, size_one)), expected):
                params = second_window(trial, size_one)
                shown = "&".join(f"{k}={v}" for k, v in params.items())
                self.listing = trial
                return _changed(listing, trial), f"`{shown}`"
        if onward:
            return await self._onward_style()
        return None

    async def _onward_style(self) -> tuple[dict[str, Any], str] | None:
        """A next cursor or link in the answer that leads to the next page (configured first)."""
        listing = self.listing
        if listing.items is None:
            return None
        answer = await get(self.client, self.path, {listing.limit_param: 1})
        small = items_in(answer.body, listing.items) if answer.status < 300 else None
        if not small or len(small) >= len(self.items) or not isinstance(answer.body, dict):
            return None
        expected = self.items[len(small)]
        for key in dict.fromkeys((listing.next, *NEXT_KEYS)):
            value = maybe_at(answer.body, key)
            if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
                continue
            trials: list[tuple[Listing, str, dict[str, Any]]] = []
            link = _link(self.client.base_url, value)
            if link is not None:
                trials.append(
                    (listing.model_copy(update={"paging": "link", "next": key}), link[0], link[1])
                )
            for param in dict.fromkeys((listing.cursor_param, *CURSOR_NAMES)):
                update = {"paging": "cursor", "next": key, "cursor_param": param}
                query = {listing.limit_param: 1, param: value}
                trials.append((listing.model_copy(update=update), self.path, query))
            for trial, path, query in trials:
                if same(await self._first_item(query, path), expected):
                    self.listing = trial
                    how = "the next link" if trial.paging == "link" else "the cursor"
                    return _changed(listing, trial), f"{how} at `{key}`"
        return None


__all__ = [
    "Answer",
    "Note",
    "PagingCheck",
    "first_window",
    "get",
    "items_in",
    "link_target",
    "same",
    "second_window",
]

"""Listings followed to the end, checked for pages that repeat or skip items.

:class:`Paging` is mixed into :class:`~reconciler.providers.http.ApiClient`,
which provides :meth:`Paging.call`. Every page is one call, and what is wrong
with a page is raised naming that call (``GET`` and its path): an answer whose
items cannot be found (:class:`InconsistentRead`), or an item its provider's
``decode`` refuses (:class:`~reconciler.errors.MalformedResponse`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from reconciler.errors import ApiError, MalformedResponse
from reconciler.limiter import Limiter
from reconciler.options.common import Listing, at, maybe_at
from reconciler.providers.paths import path_problem

JSON = Any
"""A decoded JSON document."""
Decode = Callable[[JSON], Any]
"""Turns one answer (or one listed item) into what the provider reads from it.

Raising :data:`SHAPE_ERRORS` means the answer is not in the documented shape:
the caller turns that into :class:`~reconciler.errors.MalformedResponse` naming
the call whose answer it was."""
SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError)
"""What a decoder raises for an answer in another shape (``ShapeError`` is a ValueError)."""


class InconsistentRead(ApiError):
    """A listing that contradicts itself: nothing may be planned (or written) from it."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__("GET", path, 200, message)


def decoded(
    decode: Decode,
    body: JSON,
    method: str,
    path: str,
    status: int = 200,
    resource: str | None = None,
) -> Any:
    """``decode(body)``; a shape error becomes MalformedResponse naming ``method path``."""
    try:
        return decode(body)
    except SHAPE_ERRORS as exc:
        raise _malformed(method, path, status, exc, resource) from exc


def _malformed(
    method: str, path: str, status: int, exc: Exception, resource: str | None
) -> MalformedResponse:
    return MalformedResponse(
        method,
        path,
        status,
        f"the API answered in a shape it does not document ({type(exc).__name__}: {exc})",
        resource,
    )


PAGES_AT_ONCE = 4
"""Pages fetched at once without a limiter (with one, up to its ceiling: it decides)."""


class Paging:
    """Listings paged by offset, page number, cursor or next link; needs :meth:`call`."""

    base_url: str
    limiter: Limiter | None = None
    """The session's concurrency, which every call waits on (set by the client)."""

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
        raise NotImplementedError  # pragma: no cover - ApiClient sends

    def paginate(
        self,
        path: str,
        listing: Listing,
        *,
        params: Mapping[str, Any] | None = None,
        resource: str | None = None,
        concurrency: int | None = None,
        decode: Decode | None = None,
        share_text: bool = True,
    ) -> AsyncIterator[Any]:
        """Every item of a listing, paged as ``listing`` (a target option) says.

        Equal texts within a page are made one object (:func:`shared_text`) unless
        ``share_text`` is False: for a reader that keeps few of the items' texts
        and shares those itself, the pass over every text of every item is wasted.
        """
        items = _items_at(listing.items)

        def total(body: JSON) -> int | None:
            found = maybe_at(body, listing.total) if listing.total else None
            return found if isinstance(found, int) and not isinstance(found, bool) else None

        if listing.paging == "page":
            return self.paginate_pages(
                path,
                items,
                limit=listing.page_size,
                params=params,
                total=total,
                resource=resource,
                first_page=listing.first_page,
                page_param=listing.page_param,
                limit_param=listing.limit_param,
                decode=decode,
                share_text=share_text,
            )
        if listing.paging in ("cursor", "link", "none"):
            rows = _Rows(decode, path, resource, share_text)
            return self._paginate_onward(path, listing, items, total, params, resource, rows)
        return self.paginate_offset(
            path,
            items,
            limit=listing.page_size,
            params=params,
            total=total,
            resource=resource,
            offset_param=listing.offset_param,
            limit_param=listing.limit_param,
            concurrency=concurrency,
            decode=decode,
            share_text=share_text,
        )

    async def _paginate_onward(
        self,
        path: str,
        listing: Listing,
        items: Callable[[JSON], list[Any]],
        total: Callable[[JSON], int | None],
        params: Mapping[str, Any] | None,
        resource: str | None,
        rows: _Rows,
    ) -> AsyncIterator[Any]:
        """Cursor, next-link and single-answer listings: each answer says where the next is."""
        seen = _SeenItems(path)
        query: dict[str, Any] = dict(params or {})
        if listing.paging != "none":
            query[listing.limit_param] = listing.page_size
        where, visited = path, set[str]()
        while True:
            body = await self.call("GET", where, params=query, resource=resource)
            page = _page(items, body, where)
            seen.add(page)
            for item in rows.of(page):
                yield item
            onward = maybe_at(body, listing.next) if listing.paging != "none" else None
            if not page or onward in (None, ""):
                seen.check_total(total(body))
                return
            if not isinstance(onward, str | int) or isinstance(onward, bool):
                raise InconsistentRead(where, f"'{listing.next}' is a {type(onward).__name__}")
            if str(onward) in visited:
                raise InconsistentRead(
                    where, f"the listing pointed back to a page it had given ({listing.next})"
                )
            visited.add(str(onward))
            if listing.paging == "cursor":
                query = {**dict(params or {}), listing.limit_param: listing.page_size}
                query[listing.cursor_param] = onward
            else:
                where, query = self._next_link(where, str(onward))

    def _next_link(self, where: str, link: str) -> tuple[str, dict[str, Any]]:
        """The path and query of a next-page link, which must stay under the target's URL.

        The link comes from the server: one that leads to another host, scheme or
        port, or out of the target's path, is refused (the token would follow it).
        """
        import httpx  # here, not at the top: only a link-paged listing needs it

        base = httpx.URL(self.base_url)
        found = base.join(link)
        if (found.scheme, found.host, found.port) != (base.scheme, base.host, base.port):
            raise InconsistentRead(where, "the next page's link leads to another server")
        prefix = base.raw_path.decode("ascii").split("?")[0].rstrip("/")
        path = found.raw_path.decode("ascii").split("?")[0]
        if not (path.startswith(prefix) and path[len(prefix) :].startswith("/")):
            raise InconsistentRead(where, "the next page's link leads out of the target's URL")
        relative = path[len(prefix) :]
        problem = path_problem(relative)
        if problem is not None:
            raise InconsistentRead(where, f"the next page's link is not a plain path ({problem})")
        return relative, dict(found.params.multi_items())

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
        concurrency: int | None = None,
        decode: Decode | None = None,
        share_text: bool = True,
    ) -> AsyncIterator[Any]:
        """Follow ``offset``/``limit`` pages to the end, items in order.

        Servers may return smaller pages than asked for, so the walk moves by
        what actually came back. When the first page reports a total, the
        remaining pages are fetched ``concurrency`` at a time (by default as many
        as the limiter's ceiling, whose slots decide how many are in flight;
        :data:`PAGES_AT_ONCE` without one), sized as the server sized the first
        one; a last sequential walk picks up anything beyond (a total that grew
        meanwhile). The walk ends on an empty page or when the reported total is
        reached, never merely on a short page. Each item is yielded as
        ``decode`` makes it (as listed without one), its texts shared as
        :meth:`paginate` says.
        """
        if concurrency is None:
            concurrency = self.limiter.ceiling if self.limiter is not None else PAGES_AT_ONCE
        seen = _SeenItems(path)
        rows = _Rows(decode, path, resource, share_text)

        async def fetch(offset: int) -> tuple[list[Any], int | None]:
            query = dict(params or {})
            query[offset_param] = offset
            query[limit_param] = limit
            body = await self.call("GET", path, params=query, resource=resource)
            return _page(items, body, path), decoded(total, body, "GET", path, 200, resource)

        first, reported = await fetch(0)
        seen.add(first)
        for item in rows.of(first):
            yield item
        offset = len(first)
        if not first or (reported is not None and offset >= reported):
            seen.check_total(reported)
            return
        if reported is not None and concurrency > 1:
            size = len(first)  # the server's own page size, which may be below ``limit``
            offsets = list(range(offset, reported, size))
            semaphore = asyncio.Semaphore(concurrency)

            async def bounded(at: int, answers: list[list[Any]], i: int) -> None:
                async with semaphore:
                    answers[i] = (await fetch(at))[0]

            for start in range(0, len(offsets), concurrency * 4):
                batch = offsets[start : start + concurrency * 4]
                # The pages land here, not in the tasks' results (which outlive the
                # batch until the paused collector runs); each is let go once read.
                answers: list[list[Any]] = [[] for _ in batch]
                await asyncio.gather(*(bounded(at, answers, i) for i, at in enumerate(batch)))
                answers.reverse()
                while answers:
                    page = answers.pop()
                    seen.add(page)
                    for item in rows.of(page):
                        yield item
                    offset += len(page)
            if offset >= reported:
                seen.check_total(reported)
                return
        while True:  # sequential from here: short pages, or a listing without a total
            page, reported = await fetch(offset)
            seen.add(page)
            for item in rows.of(page):
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
        page_param: str = "page",
        limit_param: str = "limit",
        decode: Decode | None = None,
        share_text: bool = True,
    ) -> AsyncIterator[Any]:
        """Follow ``page``/``limit`` pages to the end (empty page or total reached)."""
        page_no = first_page
        seen = _SeenItems(path)
        rows = _Rows(decode, path, resource, share_text)
        while True:
            query = dict(params or {})
            query[page_param] = page_no
            query[limit_param] = limit
            body = await self.call("GET", path, params=query, resource=resource)
            page = _page(items, body, path)
            seen.add(page)
            for item in rows.of(page):
                yield item
            reported = decoded(total, body, "GET", path, 200, resource)
            if not page or (reported is not None and seen.count >= reported):
                seen.check_total(reported)
                return
            page_no += 1


def _items_at(key: str | None) -> Callable[[JSON], list[Any]]:
    """A page's items: the list at ``key`` (the answer itself for None)."""

    def items(body: JSON) -> list[Any]:
        found = at(body, key)
        if not isinstance(found, list):
            where = f"'{key}'" if key else "the answer"
            raise TypeError(f"{where} is a {type(found).__name__}, not a list of items")
        return found

    return items


def _page(items: Callable[[JSON], list[Any]], body: JSON, path: str) -> list[Any]:
    """The items of one page, or a clear error when the answer has another shape."""
    try:
        page = items(body)
    except SHAPE_ERRORS as exc:
        raise InconsistentRead(
            path, f"unexpected answer shape ({type(exc).__name__}: {exc})"
        ) from None
    if not isinstance(page, list):
        raise InconsistentRead(path, f"expected a list of items, got {type(page).__name__}")
    return page


class _Rows:
    """The items of a page as the provider's decoder makes them, errors naming the page's call."""

    def __init__(
        self, decode: Decode | None, path: str, resource: str | None, share_text: bool = True
    ) -> None:
        self.decode, self.path, self.resource = decode, path, resource
        self.share_text = share_text

    def of(self, page: list[Any]) -> list[Any]:
        """One ``try`` for the page, not a call and a ``try`` per item (100,000 flags)."""
        if self.share_text:
            shared_text(page)
        decode = self.decode
        if decode is None:
            return page
        try:
            return [decode(item) for item in page]
        except SHAPE_ERRORS as exc:
            raise _malformed("GET", self.path, 200, exc, self.resource) from exc


def shared_text(page: list[Any]) -> None:
    """Make equal texts at the top level of a page's items one object each.

    A listing's rows repeat much of their text: the id of the owner of each of
    its children, a timestamp in both ``created_at`` and ``updated_at``, a flag
    key in every tenant. The JSON decoder makes a string per occurrence, and a
    read holds the rows of every listing until it is joined, then keeps some
    of the strings in the live state: 20 MB of copies at 110,000 objects.
    Within one page (a few hundred rows) is where they repeat most, for the cost
    of one dict lookup per text.
    """
    seen: dict[str, str] = {}
    first = seen.setdefault
    for item in page:
        if type(item) is dict:
            for key, value in item.items():
                if type(value) is str and first(value, value) is not value:
                    item[key] = seen[value]


class _SeenItems:
    """Catches pages that repeat or skip: by item id, and against the reported total."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.ids: set[str] = set()
        self.count = 0

    def add(self, page: list[Any]) -> None:
        """Text ids are kept as they are; any other id as its text (``1`` and ``"1"``
        are one id, as before), so the common case makes no new string per item."""
        self.count += len(page)
        ids = self.ids
        for item in page:
            ident = item.get("id") if isinstance(item, dict) else None
            if ident is None:
                continue
            key = ident if type(ident) is str else str(ident)
            if key in ids:
                raise InconsistentRead(
                    self.path,
                    f"the listing returned item {key} twice (pages repeat or moved while "
                    "read); nothing was planned from it",
                )
            ids.add(key)

    def check_total(self, reported: int | None) -> None:
        if reported is not None and self.count < reported:
            raise InconsistentRead(
                self.path,
                f"the server reported {reported} items but its pages held {self.count} "
                "(pages skip items); nothing was planned from it",
            )

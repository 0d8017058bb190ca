"""Pages fetched together (a batch, with a reported total) are let go one by one as
they are read, not when the whole batch has been: a batch is ``concurrency * 4`` pages.

Rows are decoded as a dict subclass here (plain dicts take no weak references), with
the cyclic collector off: a row is gone exactly when nothing refers to it any more.
"""

from __future__ import annotations

import asyncio
import gc
import json
import weakref
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from reconciler.options.common import Listing
from reconciler.providers.http import ApiClient

ROWS = 40
PAGE = 2


class Row(dict[str, Any]):
    """A listed row that can be watched with a weak reference."""


def _answer(request: httpx.Request) -> httpx.Response:
    offset = int(request.url.params.get("offset", 0))
    page = [{"id": str(i), "n": i} for i in range(offset, min(offset + PAGE, ROWS))]
    return httpx.Response(200, json={"items": page, "total": ROWS})


@pytest.fixture
def watched_rows(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[weakref.ref[Row]]]:
    """Every row decoded from an answer, watched; the collector off meanwhile."""
    made: list[weakref.ref[Row]] = []

    def row(found: dict[str, Any]) -> Any:
        if "items" in found:
            return found
        made.append(weakref.ref(kept := Row(found)))
        return kept

    def decode(self: httpx.Response, **kwargs: Any) -> Any:
        return json.loads(self.content, object_hook=row)

    monkeypatch.setattr(httpx.Response, "json", decode)
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield made
    finally:
        if was:
            gc.enable()


def test_each_page_of_a_batch_is_freed_once_read(watched_rows: list[weakref.ref[Row]]) -> None:
    alive_when_read: list[int] = []

    async def go() -> int:
        transport = httpx.MockTransport(_answer)
        async with ApiClient("http://api.test", "t", transport=transport) as client:
            listed = client.paginate(
                "/rows", Listing.model_validate({"pageSize": PAGE}), concurrency=2
            )
            count = 0
            async for item in listed:
                n = item["n"]
                del item
                count += 1
                if n % PAGE == 0:  # the first row of each page: what else still lives?
                    alive_when_read.append(sum(ref() is not None for ref in watched_rows[:n]))
            return count

    assert asyncio.run(go()) == ROWS
    assert len(watched_rows) == ROWS
    # Pages 2..9 and 10..17 are fetched as batches of eight; when a page is read, only
    # the page before it may still be referred to (its last row, as the loop left it).
    assert max(alive_when_read[2:]) <= PAGE, alive_when_read
    assert [ref() for ref in watched_rows] == [None] * ROWS

"""A page's items are decoded with one ``try`` for the page and its ids checked without
a new string per text id: the same items, refusals and repeats as before."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from reconciler.errors import MalformedResponse
from reconciler.options.common import Listing
from reconciler.providers.http import ApiClient
from reconciler.providers.paging import InconsistentRead, _Rows, _SeenItems
from reconciler.sandbox import listing as served


def _refuse_odd(item: Any) -> Any:
    if item["id"] % 2:
        raise KeyError("name")
    return {"id": item["id"], "seen": True}


def test_a_page_decodes_in_order_and_a_refusal_names_the_call() -> None:
    rows = _Rows(_refuse_odd, "/things", "things")
    assert rows.of([{"id": 0}, {"id": 2}]) == [{"id": 0, "seen": True}, {"id": 2, "seen": True}]
    with pytest.raises(MalformedResponse) as raised:
        rows.of([{"id": 0}, {"id": 1}])
    message = str(raised.value)
    assert "GET /things" in message and "KeyError: 'name'" in message
    assert isinstance(raised.value.__cause__, KeyError)


def test_text_and_number_ids_are_one_id_as_before() -> None:
    seen = _SeenItems("/things")
    seen.add([{"id": "a"}, {"id": 1}, {"name": "no id"}])
    assert seen.count == 3 and seen.ids == {"a", "1"}
    with pytest.raises(InconsistentRead, match="item 1 twice"):
        seen.add([{"id": "1"}])
    with pytest.raises(InconsistentRead, match="item a twice"):
        seen.add([{"id": "a"}])


def test_a_page_s_texts_are_shared_unless_the_reader_declines() -> None:
    """Shared by default; a reader that shares what it keeps itself skips the pass."""

    def page() -> list[Any]:
        return [{"id": str(i), "owner": "".join(["t", "1"])} for i in range(3)]

    shared = _Rows(None, "/things", "things").of(page())
    assert len({id(row["owner"]) for row in shared}) == 1
    left = _Rows(None, "/things", "things", share_text=False).of(page())
    assert len({id(row["owner"]) for row in left}) == 3
    assert left == shared


ROWS = [{"id": str(n), "owner": "t1"} for n in range(7)]
STYLES = [
    Listing.model_validate({"pageSize": 3}),
    Listing.model_validate({"paging": "page", "pageSize": 3}),
    Listing.model_validate({"paging": "cursor", "total": None, "pageSize": 3}),
    Listing.model_validate({"paging": "none", "items": None, "total": None}),
]


def _listed(listing: Listing, share_text: bool) -> list[Any]:
    """``ROWS`` paged as ``listing`` says, over MockTransport (the client's paging only)."""

    def handle(request: httpx.Request) -> httpx.Response:
        window = served.asked(dict(request.url.params), listing, max_page=100)
        page = ROWS[window.offset : window.offset + window.limit]
        rows = [json.dumps(r) for r in page]
        text = served.answer(listing, window, rows, len(ROWS), path=request.url.path)
        return httpx.Response(200, text=text, headers={"content-type": "application/json"})

    async def run() -> list[Any]:
        transport = httpx.MockTransport(handle)
        async with ApiClient("http://api.test", "t", transport=transport) as client:
            listed = client.paginate("/things", listing, share_text=share_text)
            return [item async for item in listed]

    return asyncio.run(run())


@pytest.mark.parametrize("listing", STYLES, ids=lambda s: s.paging)
def test_every_paging_style_passes_the_reader_s_choice_on(listing: Listing) -> None:
    shared, left = _listed(listing, True), _listed(listing, False)
    assert shared == left == ROWS
    pages = 1 if listing.paging == "none" else 3
    assert len({id(row["owner"]) for row in shared}) == pages  # one object a page
    assert len({id(row["owner"]) for row in left}) == len(ROWS)  # as the decoder made them

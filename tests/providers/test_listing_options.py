"""Listings paged every way a target can configure (issue 12): the client's walk
(``Paging.paginate``) against the sandbox's answers (``sandbox.listing``) for the
same :class:`Listing`, over ``httpx.MockTransport`` (the HTTP client layer only)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from reconciler.errors import ApiError
from reconciler.options.common import Listing
from reconciler.providers.http import ApiClient
from reconciler.providers.paging import InconsistentRead
from reconciler.sandbox import listing as served

ROWS = [{"id": str(n), "name": f"t{n}"} for n in range(23)]
BASE = "https://api.example.test/prefix"


def server(listing: Listing, max_page: int = 5, *, rows: list[Any] = ROWS) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        query = dict(request.url.params)
        window = served.asked(query, listing, max_page=max_page)
        page = rows[window.offset : window.offset + window.limit]
        text = served.answer(
            listing, window, [json.dumps(r) for r in page], len(rows), path=request.url.path
        )
        return httpx.Response(200, text=text, headers={"content-type": "application/json"})

    return httpx.MockTransport(handle)


def walk(listing: Listing, transport: httpx.AsyncBaseTransport, path: str = "/v1/things") -> Any:
    async def run() -> list[Any]:
        async with ApiClient(BASE, "t", transport=transport) as client:
            return [item async for item in client.paginate(path, listing)]

    return asyncio.run(run())


def L(**options: Any) -> Listing:
    """A listing as written in reconciler.yaml (camelCase)."""
    return Listing.model_validate(options)


STYLES = [
    L(),
    L(items="tenants", total=None),
    L(items="data.items", total="meta.total", offsetParam="skip"),
    L(paging="page", limitParam="per_page"),
    L(paging="page", firstPage=0, total=None),
    L(paging="cursor", items="results", total=None, next="next_cursor"),
    L(paging="link", items="data", total="count", next="links.next"),
    L(paging="none", items=None, total=None),
]


@pytest.mark.parametrize("listing", STYLES, ids=lambda s: f"{s.paging}-{s.items}-{s.total}")
def test_every_style_reads_every_item_past_a_small_page_cap(listing: Listing) -> None:
    max_page = 100 if listing.paging == "none" else 5
    assert walk(listing, server(listing, max_page)) == ROWS


def test_a_listing_read_with_the_wrong_items_key_is_refused_naming_the_key() -> None:
    with pytest.raises(InconsistentRead, match="items"):
        walk(L(), server(L(items="tenants")))


def test_a_next_link_to_another_server_is_not_followed() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": [{"id": "1"}], "next": "https://evil.test/x"})

    with pytest.raises(ApiError, match="another server"):
        walk(L(paging="link", items="data"), httpx.MockTransport(handle))


def test_a_next_link_out_of_the_target_path_is_not_followed() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": [{"id": "1"}], "next": "/elsewhere/x?o=1"})

    with pytest.raises(ApiError, match="out of the target"):
        walk(L(paging="link", items="data"), httpx.MockTransport(handle))


def test_a_cursor_that_comes_back_is_refused_not_looped_on() -> None:
    served: list[int] = []

    def handle(request: httpx.Request) -> httpx.Response:
        served.append(len(served))  # a fresh item each time: only the cursor repeats
        return httpx.Response(200, json={"items": [{"id": str(len(served))}], "next": "a"})

    with pytest.raises(InconsistentRead, match="pointed back"):
        walk(L(paging="cursor"), httpx.MockTransport(handle))


def test_cursor_paging_needs_an_object_answer() -> None:
    with pytest.raises(ValidationError, match="needs the answer to be an object"):
        L(paging="cursor", items=None)


def test_errors_message_reads_fastapi_detail_lists() -> None:
    detail = [{"loc": ["body", "tier_defaults", 0, "tier_id"], "msg": "Field required"}]

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"detail": detail, "message": "Unprocessable"})

    async def run(key: str | None) -> str:
        async with ApiClient(BASE, "t", transport=httpx.MockTransport(handle)) as client:
            client.error_key = key
            with pytest.raises(ApiError) as caught:
                await client.call("PUT", "/x")
            return str(caught.value)

    assert "body.tier_defaults.0.tier_id: Field required" in asyncio.run(run("detail"))
    assert "Unprocessable" in asyncio.run(run(None))  # the common envelopes, message first

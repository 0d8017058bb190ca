"""What reading a listing keeps: no answer once it is read, one copy of each repeated text.

The live state is read with the cyclic collector paused (``paused_gc``): an
answer kept alive by a reference cycle would stay until the read ends, every
page of it. And a read holds every row of a listing until it is joined.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.errors import ApiError
from reconciler.options.common import Listing
from reconciler.providers.http import ApiClient

ROWS = [{"id": str(i), "name": f"row-{i}"} for i in range(7)]


def _serving(answers: list[weakref.ref[httpx.Response]]) -> Callable[[httpx.Request], Any]:
    """Pages of ``ROWS`` by offset (two a page); a weak reference to each answer kept."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/broken":
            response = httpx.Response(500, json={"message": "down"})
        else:
            offset = int(request.url.params.get("offset", 0))
            page = ROWS[offset : offset + 2]
            response = httpx.Response(200, json={"items": page, "total": len(ROWS)})
        answers.append(weakref.ref(response))
        return response

    return handler


def _client(answers: list[weakref.ref[httpx.Response]]) -> ApiClient:
    transport = httpx.MockTransport(_serving(answers))
    return ApiClient("http://api.test", "t", transport=transport, max_attempts=1)


@pytest.mark.usefixtures("collector_off")
def test_pages_are_freed_once_read_with_the_collector_off() -> None:
    answers: list[weakref.ref[httpx.Response]] = []

    async def go() -> list[Any]:
        async with _client(answers) as client:
            listed = client.paginate(
                "/rows", Listing.model_validate({"pageSize": 2}), concurrency=1
            )
            return [item async for item in listed]

    assert asyncio.run(go()) == ROWS
    assert len(answers) == 4
    assert [ref() for ref in answers] == [None] * 4


@pytest.mark.usefixtures("collector_off")
def test_an_error_answer_is_freed_with_its_error() -> None:
    answers: list[weakref.ref[httpx.Response]] = []

    async def go() -> str:
        async with _client(answers) as client:
            try:
                await client.call("GET", "/broken")
            except ApiError as exc:
                return exc.server_message
        return "no error"

    assert asyncio.run(go()) == "down"
    assert answers and [ref() for ref in answers] == [None] * len(answers)


def test_an_answer_sent_back_can_still_be_read() -> None:
    """``send`` hands the response to its caller: its body stays readable, as before."""
    answers: list[weakref.ref[httpx.Response]] = []

    async def go() -> tuple[Any, bytes, bool]:
        async with _client(answers) as client:
            response = await client.send("GET", "/rows", params={"offset": 2})
            chunks = b"".join([chunk async for chunk in response.aiter_bytes()])
            return response.json(), chunks, response.is_closed

    body, chunks, closed = asyncio.run(go())
    assert body == {"items": ROWS[2:4], "total": len(ROWS)}
    assert chunks == httpx.Response(200, json=body).content
    assert closed


def test_equal_texts_in_a_page_become_one_object() -> None:
    """Rows repeat their owner's id and a timestamp twice; after paging each is one object,
    and every row still reads as the server sent it."""
    owner = "7f1c5a2e-0000-4000-8000-000000000001"
    stamp = "2026-11-30T19:21:34.623181Z"
    sent = [
        {
            "id": str(i),
            "key": f"flag_{i % 2}",
            "tenant_id": owner,
            "created_at": stamp,
            "updated_at": stamp,
            "tags": [owner],
            "on": True,
        }
        for i in range(6)
    ]
    text = httpx.Response(200, json={"items": sent, "total": len(sent)}).content

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=text, headers={"Content-Type": "application/json"})

    async def go() -> list[Any]:
        transport = httpx.MockTransport(handler)
        async with ApiClient("http://api.test", "t", transport=transport) as client:
            return [
                item
                async for item in client.paginate(
                    "/flags", Listing.model_validate({"pageSize": 10})
                )
            ]

    rows = asyncio.run(go())
    assert rows == sent
    assert len({id(row["tenant_id"]) for row in rows}) == 1
    assert len({id(row[field]) for row in rows for field in ("created_at", "updated_at")}) == 1
    assert len({id(row["key"]) for row in rows}) == 2
    assert len({id(row["id"]) for row in rows}) == 6

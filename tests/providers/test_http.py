"""Unit tests of the shared HTTP client layer, over httpx.MockTransport."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest

from reconciler.errors import ApiError, ConflictError, TransportError
from reconciler.providers.http import ApiClient

TOKEN = "tok-SECRET-abc123"
Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler, **kwargs: object) -> ApiClient:
    return ApiClient(
        "http://api.test",
        TOKEN,
        transport=httpx.MockTransport(handler),
        backoff_base=0.0,
        **kwargs,  # type: ignore[arg-type]
    )


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_sends_bearer_token() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(200, json={"ok": True})

    async def go() -> object:
        async with client(handler) as c:
            return await c.call("GET", "/x")

    assert run(go()) == {"ok": True}
    assert seen == [f"Bearer {TOKEN}"]


def test_offset_pagination_follows_short_pages_to_the_end() -> None:
    """A server that serves 3 per page although 10 were asked for is walked fully."""
    data = list(range(8))
    offsets: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        offsets.append(offset)
        page = data[offset : offset + 3]
        return httpx.Response(200, json={"items": page, "total": len(data)})

    async def go() -> list[int]:
        async with client(handler) as c:
            return [
                x
                async for x in c.paginate_offset(
                    "/things", lambda b: b["items"], limit=10, total=lambda b: b["total"]
                )
            ]

    assert run(go()) == data
    assert offsets == [0, 3, 6]


def test_offset_pagination_without_total_stops_on_empty_page() -> None:
    data = list(range(5))

    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        return httpx.Response(200, json={"items": data[offset : offset + 2]})

    async def go() -> list[int]:
        async with client(handler) as c:
            return [x async for x in c.paginate_offset("/t", lambda b: b["items"], limit=2)]

    assert run(go()) == data


def test_page_pagination() -> None:
    data = list(range(7))

    def handler(request: httpx.Request) -> httpx.Response:
        page, limit = int(request.url.params["page"]), int(request.url.params["limit"])
        chunk = data[(page - 1) * limit : page * limit]
        return httpx.Response(200, json={"data": chunk})

    async def go() -> list[int]:
        async with client(handler) as c:
            return [x async for x in c.paginate_pages("/t", lambda b: b["data"], limit=3)]

    assert run(go()) == data


def test_error_names_resource_call_and_server_message_but_not_token() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": "validation_error", "message": "plan_id unknown"})

    async def go() -> None:
        async with client(handler) as c:
            await c.call("POST", "/api/tenants", json_body={"a": 1}, resource="Tenant/acme")

    with pytest.raises(ApiError) as info:
        run(go())
    text = str(info.value)
    assert "Tenant/acme" in text and "POST /api/tenants" in text and "400" in text
    assert "plan_id unknown" in text
    assert TOKEN not in text and TOKEN not in repr(info.value.__dict__)


def test_409_is_a_conflict_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(409, json={"error": "conflict", "message": "name exists"})

    async def go() -> None:
        async with client(handler) as c:
            await c.call("POST", "/t")

    with pytest.raises(ConflictError):
        run(go())


def test_html_error_page_is_reported_as_text() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, text="<html><body>Internal Server Error</body></html>")

    async def go() -> None:
        async with client(handler) as c:
            await c.call("GET", "/t")

    with pytest.raises(ApiError, match="Internal Server Error"):
        run(go())


def test_429_is_retried_honouring_retry_after() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) < 3:
            return httpx.Response(429, headers={"Retry-After": "0"}, json={"error": "slow down"})
        return httpx.Response(200, json={"ok": 1})

    async def go() -> object:
        async with client(handler) as c:
            return await c.call("POST", "/t", json_body={})

    assert run(go()) == {"ok": 1}
    assert len(calls) == 3


def test_503_on_a_create_is_not_blindly_repeated() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return httpx.Response(503, json={"error": "unavailable"})

    async def go() -> None:
        async with client(handler) as c:
            await c.call("POST", "/t", json_body={"name": "x"})

    with pytest.raises(ApiError):
        run(go())
    assert calls == ["POST"]


def test_503_on_a_read_is_retried_up_to_the_bound() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return httpx.Response(503, json={"error": "unavailable"})

    async def go() -> None:
        async with client(handler, max_attempts=3) as c:
            await c.call("GET", "/t")

    with pytest.raises(ApiError, match="503"):
        run(go())
    assert calls == ["GET"] * 3


def test_connection_error_becomes_transport_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async def go() -> None:
        async with client(handler, max_attempts=1) as c:
            await c.call("GET", "/t", resource="Plan/pro")

    with pytest.raises(TransportError, match="Plan/pro: GET /t failed"):
        run(go())


def test_non_json_success_body_is_a_clear_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b'{"items": [1, 2')

    async def go() -> None:
        async with client(handler) as c:
            await c.call("GET", "/t")

    with pytest.raises(ApiError, match="not JSON"):
        run(go())


def test_request_body_is_json() -> None:
    bodies: list[object] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(201, json={"id": "1"})

    async def go() -> None:
        async with client(handler) as c:
            await c.call("POST", "/t", json_body={"name": "x"})

    run(go())
    assert bodies == [{"name": "x"}]


def test_a_post_is_not_repeated_after_a_503_unless_marked_safe() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if len(calls) == 1:
            return httpx.Response(503, json={"message": "busy"})
        return httpx.Response(200, json={})

    async def create() -> None:
        async with client(handler) as c:
            await c.call("POST", "/tenants", json_body={"name": "a"})

    with pytest.raises(ApiError, match="503"):
        run(create())
    assert calls == ["/tenants"]

    calls.clear()

    async def suspend() -> object:
        async with client(handler) as c:
            return await c.call("POST", "/tenants/1/suspend", idempotent=True)

    assert run(suspend()) == {}
    assert calls == ["/tenants/1/suspend", "/tenants/1/suspend"]


def test_retries_stop_at_the_time_budget() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(429, headers={"Retry-After": "5"}, json={"message": "slow down"})

    async def go() -> None:
        async with client(handler, max_attempts=10, retry_budget=1.0) as c:
            await c.call("GET", "/x")

    with pytest.raises(ApiError, match="429: slow down"):
        run(go())
    assert calls == [1], "a 5 s Retry-After does not fit a 1 s budget: no retry"

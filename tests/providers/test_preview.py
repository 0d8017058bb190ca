"""``plan --show-calls`` through a transport wrapper: writes recorded, never sent (issue 11).

The preview is an ``httpx.AsyncBaseTransport`` in front of the real client's
pool (:mod:`reconciler.providers.preview`): reads go through, writes are
answered, and the client's own path checks hold as they do on apply.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from reconciler.providers.http import ApiClient, UnsafePath, url_path


def test_show_calls_checks_paths_and_shows_placeholders_readably() -> None:
    from reconciler.providers.preview import PreviewTransport, previewing

    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("a write was sent")

    async def go() -> PreviewTransport:
        async with ApiClient(
            "http://api.test", "tok", transport=httpx.MockTransport(handler)
        ) as real:
            client, preview = previewing(real)
            async with client:
                created = await client.call("POST", url_path("/tenants"), json_body={"name": "a"})
                new_id = created["id"]
                assert new_id == "<new-1>"
                await client.call("POST", url_path("/tenants/{}/suspend", new_id))
                answer = await client.call("PUT", url_path("/flags/{}", "a b#c"), json_body={})
                assert answer["id"] == "a b#c"  # the object the path names, decoded once
                with pytest.raises(UnsafePath):
                    await client.call("DELETE", "/flags/..")
            return preview

    preview = asyncio.run(go())
    assert [c.path for c in preview.calls] == [
        "/tenants",
        "/tenants/<new-1>/suspend",
        "/flags/a%20b%23c",
    ]


def test_show_calls_leaves_the_base_path_out_and_sends_reads_through_the_real_pool() -> None:
    """A target URL with a path (iaas-v1's ``/api``): recorded paths are the provider's."""
    from reconciler.providers.preview import previewing

    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.raw_path.decode()}")
        return httpx.Response(200, json=[])

    async def go() -> list[str]:
        async with ApiClient(
            "http://api.test/api", "tok", transport=httpx.MockTransport(handler)
        ) as real:
            client, preview = previewing(real, sensitive_keys=frozenset({"pubkey"}))
            async with client:
                await client.call("GET", url_path("/users"))
                await client.call(
                    "PUT",
                    url_path("/tenants/{}/users/{}", "t1", "u1"),
                    json_body={"pubkey": "secret-key"},
                    params={"why": "x"},
                )
            await real.call("GET", url_path("/tenants"))  # the real client is still open
            return [call.describe() for call in preview.calls]

    assert asyncio.run(go()) == ['PUT /tenants/t1/users/u1?why=x {"pubkey": "***"}']
    assert seen == ["GET /api/users", "GET /api/tenants"]

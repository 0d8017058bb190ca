"""How the iaas-v1 provider reads servers that answer document 001 differently from the sandbox.

The document shows bare ``GET`` listings and nothing about paging or the shape of a
tenant's members, so independent servers may ignore ``skip``/``limit``, wrap lists in
an envelope, or list members as bare ids. These are HTTP-client behaviours, tested
over ``httpx.MockTransport``; the sandbox's own answers are covered end to end.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.model import Action, Change, Kind, Resource, ResourceId, State
from reconciler.providers.base import ApplyContext
from reconciler.providers.http import ApiClient, InconsistentRead
from reconciler.providers.iaas_v1 import IaasProvider

KEY = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
USERS = [{"id": f"u{i}", "email": f"U{i}@company.example", "role": "member"} for i in range(5)]
TENANTS = [{"id": "t1", "name": "alpha", "users": [{"user_id": "u1", "pubkey": KEY}]}]
Handler = Callable[[httpx.Request], Any]


def serve(handler: Handler, seen: list[httpx.Request]) -> IaasProvider:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = handler(request)
        return body if isinstance(body, httpx.Response) else httpx.Response(200, json=body)

    client = ApiClient("http://iaas.test/api", "tok", transport=httpx.MockTransport(answer))
    return IaasProvider(client)


def read(provider: IaasProvider) -> State:
    async def go() -> State:
        async with provider.client:
            return await provider.read([Kind.TENANT, Kind.OPERATOR])

    return asyncio.run(go())


def listing(request: httpx.Request) -> list[dict[str, Any]]:
    return USERS if request.url.path == "/api/users" else TENANTS


def test_a_server_that_ignores_paging_is_read_once_per_listing() -> None:
    seen: list[httpx.Request] = []
    state = read(serve(listing, seen))  # the whole array, whatever the query
    assert len(state.of_kind(Kind.OPERATOR)) == 5
    alice = state.get(ResourceId(Kind.OPERATOR, "u1@company.example"))
    assert alice is not None
    assert alice.fields == {"role": "member", "tenant": "alpha", "wireguard_pubkey": KEY}
    assert alice.server["email"] == "U1@company.example"  # sent back as is on a PUT
    # the second page repeated the first: paging ignored, nothing more to ask
    assert [(r.url.path, r.url.params.get("skip")) for r in seen] == [
        ("/api/tenants", "0"),
        ("/api/tenants", "1"),
        ("/api/users", "0"),
        ("/api/users", "5"),
    ]


def test_a_capped_envelope_is_followed_to_its_total() -> None:
    def capped(request: httpx.Request) -> dict[str, Any]:
        skip = int(request.url.params["skip"])
        items = listing(request)
        return {"items": items[skip : skip + 2], "total": len(items), "extra": True}

    seen: list[httpx.Request] = []
    state = read(serve(capped, seen))
    assert sorted(r.id.key for r in state.of_kind(Kind.OPERATOR)) == [
        f"u{i}@company.example" for i in range(5)
    ]
    users_pages = [r.url.params["skip"] for r in seen if r.url.path == "/api/users"]
    assert users_pages == ["0", "2", "4"]  # stopped on the reported total


def test_members_listed_as_bare_ids_are_read_without_their_key() -> None:
    bare = [{"id": "t1", "name": "alpha", "users": ["u2"]}]
    state = read(serve(lambda r: USERS if r.url.path == "/api/users" else bare, []))
    bob = state.get(ResourceId(Kind.OPERATOR, "u2@company.example"))
    assert bob is not None and bob.fields["tenant"] == "alpha"
    assert bob.fields["wireguard_pubkey"] is None


def test_pages_that_overlap_in_part_are_refused() -> None:
    def shifting(request: httpx.Request) -> list[dict[str, Any]]:
        skip = int(request.url.params["skip"])
        return listing(request)[max(skip - 1, 0) : skip + 2] if skip < 5 else []

    with pytest.raises(InconsistentRead, match="repeated some objects"):
        read(serve(shifting, []))


def test_a_create_answered_without_the_object_is_found_by_name() -> None:
    made: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> Any:
        if request.method == "POST":
            made.append({"id": "t9", **json.loads(request.content)})
            return httpx.Response(201)  # no body
        return made if request.url.params["skip"] == "0" else []

    provider = serve(handler, [])
    rid = ResourceId(Kind.TENANT, "gamma")
    change = Change(Action.CREATE, rid, desired=Resource(rid, {}))

    async def go() -> Resource | None:
        async with provider.client:
            return await provider.apply(change, ApplyContext(changes=[change]))

    created = asyncio.run(go())
    assert created is not None and created.server_id == "t9"
    assert made == [{"id": "t9", "name": "gamma", "users": []}]

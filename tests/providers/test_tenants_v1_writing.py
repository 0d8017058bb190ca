"""What the tenants-v1 provider sends: unset fields left out, the whole lifecycle walked.

Over ``httpx.MockTransport``: the request bodies and paths themselves, whatever a
server would answer. The sandbox's side is covered end to end.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from reconciler.model import Action, Change, FieldChange, Kind, Resource, ResourceId
from reconciler.providers.base import ApplyContext
from reconciler.providers.http import ApiClient
from reconciler.providers.operator_v1 import OperatorV1Provider
from reconciler.providers.tenants_v1 import TenantsV1Provider

TID, RID = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
TENANT = ResourceId(Kind.TENANT, "acme")
ROLE = ResourceId(Kind.ROLE, "acme/viewer")


def run(change: Change, ctx: ApplyContext) -> list[httpx.Request]:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201 if request.method == "POST" else 200, json={"id": RID})

    client = ApiClient("http://gateway.test", "tok", transport=httpx.MockTransport(answer))
    provider = TenantsV1Provider(client)

    async def go() -> None:
        async with provider.client:
            await provider.apply(change, ctx)

    asyncio.run(go())
    return seen


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


def test_a_role_without_a_description_leaves_the_key_out() -> None:
    want = Resource(ROLE, {"tenant": "acme", "name": "viewer", "permissions": ["tenants.read"]})
    change = Change(Action.CREATE, ROLE, desired=want)
    [post] = run(change, ApplyContext(ids={TENANT: TID}))
    assert post.method == "POST" and post.url.path == f"/v1/tenants/{TID}/roles"
    assert body(post) == {"name": "viewer", "permissions": ["tenants.read"]}


def test_a_role_update_keeps_the_live_description_and_never_sends_null() -> None:
    ids = {TENANT: TID, ROLE: RID}
    live = Resource(ROLE, {"tenant": "acme", "name": "viewer", "description": None})
    want = Resource(ROLE, {"tenant": "acme", "name": "viewer", "permissions": ["a"]})
    change = Change(
        Action.UPDATE, ROLE, desired=want, live=live, fields=[FieldChange("permissions", [], ["a"])]
    )
    [put] = run(change, ApplyContext(ids=ids))
    assert put.method == "PUT" and body(put) == {"name": "viewer", "permissions": ["a"]}
    live.fields["description"] = "Read-only"
    [put] = run(change, ApplyContext(ids=ids))
    assert body(put)["description"] == "Read-only"


def test_a_tenant_moves_to_inactive_by_deactivate_and_back_by_activate() -> None:
    ids = {TENANT: TID}

    def move(before: str, after: str) -> list[str]:
        live = Resource(TENANT, {"status": before})
        want = Resource(TENANT, {"status": after})
        fields = [FieldChange("status", before, after)]
        change = Change(Action.UPDATE, TENANT, desired=want, live=live, fields=fields)
        return [r.url.path.rsplit("/", 1)[-1] for r in run(change, ApplyContext(ids=ids))]

    assert move("active", "inactive") == ["deactivate"]
    assert move("suspended", "inactive") == ["resume", "deactivate"]
    assert move("inactive", "active") == ["activate"]
    assert move("inactive", "suspended") == ["activate", "suspend"]


def test_a_tenant_created_inactive_is_created_then_deactivated() -> None:
    want = Resource(TENANT, {"status": "inactive"})
    calls = run(Change(Action.CREATE, TENANT, desired=want), ApplyContext())
    assert [(r.method, r.url.path) for r in calls] == [
        ("POST", "/v1/tenants"),
        ("POST", f"/v1/tenants/{RID}/deactivate"),
    ]
    assert body(calls[0]) == {"name": "acme"}


def test_operator_v1_put_of_a_plan_leaves_out_what_neither_spec_nor_server_has() -> None:
    plan = ResourceId(Kind.SUBSCRIPTION_PLAN, "pro")
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "p-1"})

    client = ApiClient("http://op.test", "tok", transport=httpx.MockTransport(answer))
    provider = OperatorV1Provider(client)
    live = Resource(plan, {"display_name": "Pro", "description": None}, server={"id": "p-1"})
    want = Resource(plan, {"display_name": "Pro plan"})
    fields = [FieldChange("display_name", "Pro", "Pro plan")]
    change = Change(Action.UPDATE, plan, desired=want, live=live, fields=fields)

    async def go() -> None:
        async with provider.client:
            await provider.apply(change, ApplyContext(ids={plan: "p-1"}))

    asyncio.run(go())
    [put] = seen
    assert json.loads(put.content) == {"name": "pro", "display_name": "Pro plan"}

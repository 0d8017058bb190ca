"""How the operator-v1 provider meets servers that fill document 000's silences differently.

The document lists routes only, so an independent server may wrap lists under
their own name, use numeric ids, spell status in capitals, keep deleted tenants
listed, hold one ``role`` instead of ``roles``, or answer a write with a message
instead of the object. HTTP-client behaviour, tested over ``httpx.MockTransport``;
the sandbox's own answers are covered end to end.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.errors import ApiError, MalformedResponse, PlanError
from reconciler.model import Action, Change, FieldChange, Kind, Resource, ResourceId, State
from reconciler.options.operator_v1 import OperatorV1Options
from reconciler.providers.base import ApplyContext
from reconciler.providers.http import ApiClient
from reconciler.providers.operator_v1 import OperatorV1Provider

BASE = "/api/v1/operator"
Handler = Callable[[httpx.Request], Any]

TENANTS = [
    {"id": 7, "name": "acme", "status": "SUSPENDED", "plan_id": 3, "configuration": None},
    {"id": 8, "name": "gone", "status": "DELETED"},
    {"id": 9, "name": "beta", "parent_id": 7},
]
USERS = [
    {"id": 1, "email": "Ann@X.example", "role": "operator-admin", "enabled": False},
    {"id": 2, "email": "farmer@x.example", "roles": ["customer"], "tenant_id": 7},
    {"id": 3, "email": "bob@x.example", "roles": ["operator", "operator-admin"], "tenant_id": 9},
]


def serve(
    handler: Handler, seen: list[httpx.Request], options: dict[str, Any] | None = None
) -> OperatorV1Provider:
    """A provider over MockTransport; ``options`` as written in reconciler.yaml."""

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = handler(request)
        return body if isinstance(body, httpx.Response) else httpx.Response(200, json=body)

    client = ApiClient("http://iot.test", "tok", transport=httpx.MockTransport(answer))
    return OperatorV1Provider(client, OperatorV1Options.model_validate(options or {}))


def named_lists(request: httpx.Request) -> Any:
    """Lists under their own name, without a total; the second page is empty."""
    if request.url.params.get("offset", "0") != "0":
        return {"tenants": [], "users": [], "plans": [], "device_tiers": []}
    path = request.url.path.removeprefix(BASE)
    if path == "/tenants":
        return {"tenants": TENANTS}
    if path == "/users":
        return {"users": USERS}
    if path == "/plans":
        return {"plans": [{"id": 3, "name": "fleet"}]}
    if path == "/plans/3/tier-defaults":
        return [{"tier": "basic", "slot_limit": 5}]
    return [{"id": 11, "name": "basic", "display_name": "Basic"}]  # device tiers: a bare list


def read(provider: OperatorV1Provider, kinds: list[Kind]) -> State:
    async def go() -> State:
        async with provider.client:
            return await provider.read(kinds)

    return asyncio.run(go())


def test_named_lists_numeric_ids_and_capital_status_are_read() -> None:
    seen: list[httpx.Request] = []
    state = read(serve(named_lists, seen), list(Kind))
    acme = state.get(ResourceId(Kind.TENANT, "acme"))
    assert acme is not None and acme.server["id"] == "7"
    assert acme.fields == {
        "display_name": None,
        "plan": "fleet",
        "status": "suspended",
        "parent": None,
        "configuration": {},
    }
    beta = state.get(ResourceId(Kind.TENANT, "beta"))
    assert (
        beta is not None and beta.fields["parent"] == "acme" and beta.fields["status"] == "active"
    )
    assert ResourceId(Kind.TENANT, "gone") not in state  # deleted, though still listed
    tiers = state.get(ResourceId(Kind.TIER_DEFAULTS, "fleet"))
    assert tiers is not None and tiers.fields == {"tiers": {"basic": 5}}
    assert state.get(ResourceId(Kind.DEVICE_TIER, "basic")) is not None


def test_only_users_holding_an_operator_role_are_operators() -> None:
    state = read(serve(named_lists, []), [Kind.OPERATOR])
    assert sorted(r.id.key for r in state.of_kind(Kind.OPERATOR)) == [
        "ann@x.example",
        "bob@x.example",
    ]
    ann = state.get(ResourceId(Kind.OPERATOR, "ann@x.example"))
    assert ann is not None
    assert ann.fields == {
        "name": None,
        "role": "operator-admin",
        "status": "disabled",
        "tenant": None,
    }
    bob = state.get(ResourceId(Kind.OPERATOR, "bob@x.example"))
    assert bob is not None and bob.fields["role"] == "operator-admin"
    assert bob.fields["tenant"] == "beta"


def apply(provider: OperatorV1Provider, change: Change, ctx: ApplyContext) -> Resource | None:
    async def go() -> Resource | None:
        async with provider.client:
            return await provider.apply(change, ctx)

    return asyncio.run(go())


def test_a_create_answered_with_a_message_finds_its_id_by_reading() -> None:
    """The route's source answers a tenant create with ``{tenant_id, status: created}``."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> Any:
        if request.method == "POST":
            return httpx.Response(201, json={"tenant_id": "acme", "status": "created"})
        if request.url.path == BASE + "/tenants":
            return {"items": [{"id": "t-1", "name": "acme"}], "total": 1}
        return {"items": [], "total": 0}

    want = Resource(ResourceId(Kind.TENANT, "acme"), {"display_name": "Acme"})
    change = Change(
        Action.CREATE, want.id, desired=want, fields=[FieldChange("display_name", None, "Acme")]
    )
    created = apply(serve(handler, seen), change, ApplyContext())
    assert created is not None and created.server_id == "t-1"
    assert json.loads(seen[0].content) == {"name": "acme", "display_name": "Acme"}


def test_a_server_that_ignores_status_in_patch_is_an_error_not_a_success() -> None:
    def handler(request: httpx.Request) -> Any:
        return {"id": "t-1", "name": "acme", "status": "active"}  # unchanged

    live = Resource(ResourceId(Kind.TENANT, "acme"), {"status": "active"}, server={"id": "t-1"})
    want = Resource(live.id, {"status": "suspended"})
    change = Change(
        Action.SUSPEND,
        live.id,
        desired=want,
        live=live,
        fields=[FieldChange("status", "active", "suspended")],
    )
    with pytest.raises(ApiError, match="does not take a tenant's status in PATCH") as caught:
        apply(serve(handler, []), change, ApplyContext())
    assert caught.value.resource == "Tenant/acme"


def test_a_patch_answered_with_a_message_is_taken_at_its_word() -> None:
    seen: list[httpx.Request] = []
    live = Resource(
        ResourceId(Kind.TENANT, "acme"),
        {"configuration": {"keep": 1, "drop": 2}},
        server={"id": "t-1"},
    )
    want = Resource(live.id, {"status": "suspended", "configuration": {"drop": None, "new": 3}})
    change = Change(
        Action.SUSPEND,
        live.id,
        desired=want,
        live=live,
        fields=[
            FieldChange("configuration.drop", 2, None),
            FieldChange("configuration.new", None, 3),
            FieldChange("status", "active", "suspended"),
        ],
    )
    apply(serve(lambda r: {"message": "updated"}, seen), change, ApplyContext())
    [patch] = seen
    assert patch.method == "PATCH" and patch.url.path == BASE + "/tenants/t-1"
    # the whole resulting configuration, removals as null: right for a merge patch,
    # and a server that replaces the object keeps the key nobody manages
    assert json.loads(patch.content) == {
        "status": "suspended",
        "configuration": {"keep": 1, "drop": None, "new": 3},
    }


# ---- through the target's options (issue 12) -------------------------------------------


def create(kind: Kind, key: str, fields: dict[str, Any]) -> Change:
    want = Resource(ResourceId(kind, key), fields)
    changes = [FieldChange(name, None, value) for name, value in fields.items()]
    return Change(Action.CREATE, want.id, desired=want, fields=changes)


def test_each_listing_is_declared_with_its_option_and_decoder() -> None:
    options = {"lists": {"users": {"items": "data", "paging": "page"}}, "fields": {"email": "mail"}}
    provider = serve(lambda r: {}, [], options)
    uses = {use.option: use for use in provider.listings()}
    assert list(uses) == ["lists.deviceTiers", "lists.plans", "lists.tenants", "lists.users"]
    assert uses["lists.users"].path == BASE + "/users"
    assert uses["lists.users"].listing.items == "data"
    assert uses["lists.tenants"].listing.items == "items"  # the default
    decode = uses["lists.users"].decode
    assert decode is not None
    assert decode({"id": 1, "mail": "a@x.example"}) == {"id": 1, "mail": "a@x.example"}
    with pytest.raises(ValueError, match="'mail'"):
        decode({"id": 1, "email": "a@x.example"})  # the configured key, not the default


def test_a_configured_envelope_is_read_as_configured_not_guessed() -> None:
    """At the defaults a list under the resource's name is tolerated; a listing the
    target configured is read exactly so, and another shape is refused naming its call."""
    options = {"lists": {"tenants": {"items": "data", "total": None}}}
    with pytest.raises(ApiError, match="'data'") as caught:
        read(serve(named_lists, [], options), [Kind.TENANT])
    assert caught.value.path == BASE + "/tenants"


def test_renamed_keys_integer_ids_and_another_id_key_are_read_and_written() -> None:
    options = {
        "idField": "uuid",
        "idType": "integer",
        "fields": {"displayName": "title", "plan": "planId", "name": "slug"},
        "lists": {"plans": {"items": "plans"}, "tenants": {"items": "tenants"}},
    }

    def handler(request: httpx.Request) -> Any:
        path = request.url.path.removeprefix(BASE)
        if request.method == "POST":
            return httpx.Response(201, json={"uuid": 12, **json.loads(request.content)})
        if path == "/plans":
            return {"plans": [{"uuid": 3, "slug": "fleet", "title": "Fleet"}], "total": 1}
        return {"tenants": [{"uuid": 7, "slug": "acme", "title": "Acme", "planId": 3}], "total": 1}

    seen: list[httpx.Request] = []
    provider = serve(handler, seen, options)
    state = read(provider, [Kind.SUBSCRIPTION_PLAN, Kind.TENANT])
    acme = state.get(ResourceId(Kind.TENANT, "acme"))
    assert acme is not None and acme.server["id"] == "7"  # kept as text
    assert acme.fields["display_name"] == "Acme" and acme.fields["plan"] == "fleet"
    seen.clear()
    ids = {ResourceId(Kind.SUBSCRIPTION_PLAN, "fleet"): "3"}
    change = create(Kind.TENANT, "beta", {"display_name": "Beta", "plan": "fleet"})
    created = apply(serve(handler, seen, options), change, ApplyContext(ids=ids))
    assert created is not None and created.server_id == "12"
    assert json.loads(seen[0].content) == {"slug": "beta", "title": "Beta", "planId": 3}


def test_tier_defaults_by_tier_id_in_a_bare_list() -> None:
    options = {
        "tierDefaults": {"wrapper": None, "tierField": "tier_id", "tierReference": "id"},
        "lists": {"deviceTiers": {"items": None, "total": None, "paging": "none"}},
    }
    rows: list[dict[str, Any]] = [{"tier_id": 11, "slot_limit": 5}]

    def handler(request: httpx.Request) -> Any:
        path = request.url.path.removeprefix(BASE)
        if path == "/device-tiers":
            return [{"id": 11, "name": "basic"}, {"id": 12, "name": "premium"}]
        if path == "/plans":
            return {"items": [{"id": 3, "name": "fleet"}], "total": 1}
        return rows

    state = read(serve(handler, [], options), [Kind.TIER_DEFAULTS])
    found = state.get(ResourceId(Kind.TIER_DEFAULTS, "fleet"))
    assert found is not None and found.fields == {"tiers": {"basic": 5}}

    seen: list[httpx.Request] = []
    ids = {
        ResourceId(Kind.SUBSCRIPTION_PLAN, "fleet"): "3",
        ResourceId(Kind.DEVICE_TIER, "basic"): "11",
        ResourceId(Kind.DEVICE_TIER, "premium"): "12",
    }
    change = create(Kind.TIER_DEFAULTS, "fleet", {"tiers": {"premium": 1}})
    change = Change(
        Action.UPDATE, change.id, desired=change.desired, live=found, fields=change.fields
    )
    apply(serve(handler, seen, {**options, "idType": "integer"}), change, ApplyContext(ids=ids))
    [put] = seen
    assert put.method == "PUT" and put.url.path == BASE + "/plans/3/tier-defaults"
    assert json.loads(put.content) == [
        {"tier_id": 11, "slot_limit": 5},  # kept: the whole set is written
        {"tier_id": 12, "slot_limit": 1},
    ]

    rows[:] = [{"tier_id": 99, "slot_limit": 5}]  # no such device tier listed
    with pytest.raises(MalformedResponse, match="99") as caught:
        read(serve(handler, [], options), [Kind.TIER_DEFAULTS])
    assert caught.value.path == BASE + "/plans/3/tier-defaults"


def test_an_id_that_is_no_whole_number_is_not_sent_as_one() -> None:
    seen: list[httpx.Request] = []
    ids = {ResourceId(Kind.SUBSCRIPTION_PLAN, "fleet"): "p-3"}
    change = create(Kind.TENANT, "beta", {"plan": "fleet"})
    with pytest.raises(PlanError, match=r"'p-3'.*idType: integer"):
        apply(serve(lambda r: {}, seen, {"idType": "integer"}), change, ApplyContext(ids=ids))
    assert seen == []  # refused before any call
    # an id ``plan --show-calls`` made up stands as it is: it is shown, never sent
    ids[ResourceId(Kind.SUBSCRIPTION_PLAN, "fleet")] = "<new-1>"
    apply(serve(lambda r: {"id": 5}, seen, {"idType": "integer"}), change, ApplyContext(ids=ids))
    assert json.loads(seen[0].content)["plan_id"] == "<new-1>"

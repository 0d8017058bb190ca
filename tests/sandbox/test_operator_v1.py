"""The operator-v1 sandbox serves document 000's routes as docs/apis/operator-v1.md fixes them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from reconciler.sandbox.app import create_app
from tests.conftest import InProcessFactory

BASE = "/api/v1/operator"

Connect = Callable[..., httpx.Client]


@pytest.fixture
def connect(in_process: InProcessFactory) -> Iterator[Connect]:
    """``connect(seed=..., token=...)``: a client on a fresh operator-v1 sandbox."""
    clients: list[httpx.Client] = []

    def start(seed: dict[str, Any] | None = None, token: str | None = None) -> httpx.Client:
        c = in_process("operator-v1", seed=seed).client(BASE, token=token)
        clients.append(c)
        return c

    yield start
    for c in clients:
        c.close()


@pytest.fixture
def api(connect: Connect) -> httpx.Client:
    return connect()


def made(answer: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    return body


def refused(answer: httpx.Response, status: int, words: str) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"error", "message"}
    assert words in body["message"], body


def test_every_call_needs_the_bearer_token(connect: Connect) -> None:
    wrong = connect(token="not-the-token")
    for method, path in [("GET", "/tenants"), ("POST", "/plans"), ("GET", "/device-tiers")]:
        answer = wrong.request(method, path, json={})
        assert answer.status_code == 401
        assert answer.json() == {"error": "unauthorized", "message": "invalid bearer token"}
        assert answer.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/feature-flags", 404),
        ("POST", "/tenants/t1/suspend", 404),
        ("POST", "/tenants/t1/resume", 404),
        ("GET", "/plans/p1", 405),
        ("DELETE", "/plans/p1", 405),
        ("DELETE", "/device-tiers/d1", 405),
        ("PATCH", "/users/u1", 405),
    ],
)
def test_routes_the_document_does_not_list_are_not_served(
    api: httpx.Client, method: str, path: str, status: int
) -> None:
    assert api.request(method, path).status_code == status


@pytest.mark.parametrize("path", ["/device-tiers", "/plans"])
def test_device_tiers_and_plans_are_created_listed_and_replaced(
    api: httpx.Client, path: str
) -> None:
    obj = made(api.post(path, json={"name": "basic", "display_name": "Basic", "description": "d"}))
    assert {k: obj[k] for k in ("name", "display_name", "description")} == {
        "name": "basic",
        "display_name": "Basic",
        "description": "d",
    }
    assert {"id", "created_at", "updated_at"} <= set(obj)
    refused(api.post(path, json={"name": "basic"}), 409, "already exists")
    listing = api.get(path).json()
    assert listing == {"items": [obj], "total": 1, "limit": 100, "offset": 0}
    # PUT replaces the whole object: what is left out becomes null.
    replaced = made(api.put(f"{path}/{obj['id']}", json={"display_name": "Basic v2"}), 200)
    assert replaced["display_name"] == "Basic v2" and replaced["description"] is None
    refused(api.put(f"{path}/{obj['id']}", json={"name": "other"}), 400, "cannot change")
    refused(api.put(f"{path}/nope", json={}), 404, "not found")
    refused(api.post(path, json={"name": ""}), 400, "name")


def test_tier_defaults_are_written_whole_and_name_existing_device_tiers(
    api: httpx.Client,
) -> None:
    plan = made(api.post("/plans", json={"name": "fleet"}))
    for tier in ("basic", "premium"):
        made(api.post("/device-tiers", json={"name": tier}))
    path = f"/plans/{plan['id']}/tier-defaults"
    assert api.get(path).json() == {"plan_id": plan["id"], "tier_defaults": []}
    rows = [{"tier": "basic", "slot_limit": 100}, {"tier": "premium", "slot_limit": 0}]
    assert made(api.put(path, json={"tier_defaults": rows}), 200)["tier_defaults"] == rows
    made(api.put(path, json={"tier_defaults": rows[:1]}), 200)
    assert api.get(path).json()["tier_defaults"] == rows[:1]  # replaced, not merged
    refused(
        api.put(path, json={"tier_defaults": [{"tier": "gold", "slot_limit": 1}]}),
        400,
        "no device tier named 'gold'",
    )
    refused(api.put(path, json={"tier_defaults": rows + rows[:1]}), 400, "more than once")
    for bad in (-1, "5", 1.5, None):
        answer = api.put(path, json={"tier_defaults": [{"tier": "basic", "slot_limit": bad}]})
        refused(answer, 400, "slot_limit")
    refused(api.get("/plans/nope/tier-defaults"), 404, "plan 'nope' not found")


def test_tenants_are_created_patched_and_read(api: httpx.Client) -> None:
    plan = made(api.post("/plans", json={"name": "fleet"}))
    tenant = made(
        api.post(
            "/tenants",
            json={"name": "acme", "plan_id": plan["id"], "configuration": {"a": 1, "b": 2}},
        )
    )
    assert tenant["status"] == "active" and tenant["suspended_at"] is None
    assert tenant["configuration"] == {"a": 1, "b": 2}
    refused(api.post("/tenants", json={"name": "acme"}), 409, "already exists")
    refused(api.post("/tenants", json={"name": "x", "plan_id": "nope"}), 400, "plan_id")
    path = f"/tenants/{tenant['id']}"
    patched = made(api.patch(path, json={"configuration": {"a": None, "c": 3}}), 200)
    assert patched["configuration"] == {"b": 2, "c": 3}  # a merge patch: null removes
    assert patched["plan_id"] == plan["id"]  # fields left out stay
    assert api.get(path).json() == patched
    refused(api.get("/tenants/nope"), 404, "tenant 'nope' not found")
    refused(api.patch(path, json={}), 400, "no fields to update")


def test_a_tenants_status_is_a_patch_field(api: httpx.Client) -> None:
    tenant = made(api.post("/tenants", json={"name": "acme"}))
    path = f"/tenants/{tenant['id']}"
    suspended = made(api.patch(path, json={"status": "suspended"}), 200)
    assert suspended["status"] == "suspended" and suspended["suspended_at"]
    again = made(api.patch(path, json={"status": "suspended"}), 200)
    assert again["suspended_at"] == suspended["suspended_at"]  # still since then
    resumed = made(api.patch(path, json={"status": "active"}), 200)
    assert resumed["status"] == "active" and resumed["suspended_at"] is None
    refused(api.patch(path, json={"status": "deleted"}), 400, "status")
    refused(api.patch(path, json={"status": None}), 400, "not null")


def test_tenant_parents_cannot_form_a_cycle(api: httpx.Client) -> None:
    a = made(api.post("/tenants", json={"name": "a"}))
    b = made(api.post("/tenants", json={"name": "b", "parent_id": a["id"]}))
    refused(api.patch(f"/tenants/{a['id']}", json={"parent_id": b["id"]}), 400, "own ancestor")
    refused(api.patch(f"/tenants/{a['id']}", json={"parent_id": "nope"}), 400, "parent_id")


def test_a_tenant_is_deleted_only_without_children_or_users(api: httpx.Client) -> None:
    parent = made(api.post("/tenants", json={"name": "parent"}))
    child = made(api.post("/tenants", json={"name": "child", "parent_id": parent["id"]}))
    user = made(
        api.post(
            "/users", json={"email": "a@x.example", "role": "operator", "tenant_id": child["id"]}
        )
    )
    refused(api.delete(f"/tenants/{parent['id']}"), 409, "child tenants")
    refused(api.delete(f"/tenants/{child['id']}"), 409, "users are assigned")
    made(api.post(f"/users/{user['id']}/tenant", json={"tenant_id": None}), 200)
    assert api.delete(f"/tenants/{child['id']}").status_code == 204
    assert api.delete(f"/tenants/{parent['id']}").status_code == 204
    assert api.get("/tenants").json()["total"] == 0
    refused(api.delete(f"/tenants/{parent['id']}"), 404, "not found")


def test_users_are_created_replaced_and_deleted(api: httpx.Client) -> None:
    ann = made(
        api.post("/users", json={"email": "Ann@x.example", "name": "Ann", "role": "operator"})
    )
    assert {k: ann[k] for k in ("email", "name", "enabled", "roles", "tenant_id")} == {
        "email": "Ann@x.example",
        "name": "Ann",
        "enabled": True,
        "roles": ["operator"],
        "tenant_id": None,
    }
    refused(api.post("/users", json={"email": "ann@X.example"}), 409, "already exists")
    refused(api.post("/users", json={"email": "b@x.example", "role": "customer"}), 400, "role")
    refused(api.post("/users", json={"email": "not-an-email"}), 400, "email")
    refused(api.post("/users", json={"email": "b@x.example", "tenant_id": "t"}), 400, "tenant_id")
    path = f"/users/{ann['id']}"
    replaced = made(api.put(path, json={"email": "ann@x.example"}), 200)
    assert replaced["email"] == "ann@x.example" and replaced["name"] is None  # PUT replaces
    refused(api.put(path, json={"name": "Ann"}), 400, "email")
    made(api.post("/users", json={"email": "bob@x.example"}))
    refused(api.put(path, json={"email": "BOB@x.example"}), 409, "already exists")
    assert api.delete(path).status_code == 204
    refused(api.delete(path), 404, "not found")


def test_enable_disable_and_roles_are_idempotent(api: httpx.Client) -> None:
    user = made(api.post("/users", json={"email": "a@x.example", "role": "operator"}))
    path = f"/users/{user['id']}"
    for _ in range(2):
        assert made(api.post(f"{path}/disable"), 200)["enabled"] is False
    assert made(api.post(f"{path}/enable"), 200)["enabled"] is True
    for _ in range(2):
        body = made(api.post(f"{path}/roles", json={"role": "operator-admin"}), 200)
        assert body["roles"] == ["operator", "operator-admin"]
    assert made(api.delete(f"{path}/roles/operator"), 200)["roles"] == ["operator-admin"]
    assert made(api.delete(f"{path}/roles/operator"), 200)["roles"] == ["operator-admin"]
    refused(api.post(f"{path}/roles", json={"role": "root"}), 400, "unknown role")
    refused(api.post("/users/nope/enable"), 404, "user 'nope' not found")


def test_a_user_keeps_at_least_one_role(api: httpx.Client) -> None:
    """Why a role change adds the new role before removing the old one."""
    user = made(api.post("/users", json={"email": "a@x.example", "role": "operator"}))
    refused(api.delete(f"/users/{user['id']}/roles/operator"), 409, "only role")


def test_a_user_is_assigned_to_a_tenant_or_to_none(api: httpx.Client) -> None:
    tenant = made(api.post("/tenants", json={"name": "acme"}))
    user = made(api.post("/users", json={"email": "a@x.example", "role": "operator"}))
    path = f"/users/{user['id']}/tenant"
    assert made(api.post(path, json={"tenant_id": tenant["id"]}), 200)["tenant_id"] == tenant["id"]
    assert made(api.post(path, json={"tenant_id": None}), 200)["tenant_id"] is None
    refused(api.post(path, json={"tenant_id": "nope"}), 400, "tenant_id")
    refused(api.post(path, json={}), 400, "tenant_id")


def test_lists_page_by_limit_and_offset_capped_at_500(connect: Connect) -> None:
    users = [{"email": f"u{i}@x.example", "roles": ["customer"]} for i in range(503)]
    api = connect(seed={"users": users})
    first = api.get("/users", params={"limit": 1000}).json()
    assert (len(first["items"]), first["limit"], first["total"]) == (500, 500, 503)
    rest = api.get("/users", params={"limit": 1000, "offset": 500}).json()
    assert [u["email"] for u in rest["items"]] == [
        "u500@x.example",
        "u501@x.example",
        "u502@x.example",
    ]
    assert api.get("/users", params={"offset": 600}).json()["items"] == []
    refused(api.get("/users", params={"limit": 0}), 400, "limit")
    refused(api.get("/users", params={"offset": -1}), 400, "offset")


def test_quirks_shrink_pages_and_add_fields(connect: Connect) -> None:
    api = connect(seed={"quirks": {"max_page": 2, "extra_fields": True}})
    for name in ("a", "b", "c"):
        made(api.post("/device-tiers", json={"name": name}))
    page = api.get("/device-tiers", params={"limit": 100}).json()
    assert len(page["items"]) == 2 and page["limit"] == 2 and page["total"] == 3
    assert page["has_more"] is True and "etag" in page["items"][0]
    plan = made(api.post("/plans", json={"name": "p"}))
    assert "audit" in plan
    rows = [{"tier": "a", "slot_limit": 1}]
    put = made(api.put(f"/plans/{plan['id']}/tier-defaults", json={"tier_defaults": rows}), 200)
    assert put["tier_defaults"] == [{"tier": "a", "slot_limit": 1, "unit": "devices"}]


def test_seeded_users_may_hold_roles_the_api_does_not_hand_out(connect: Connect) -> None:
    api = connect(seed={"users": [{"email": "farmer@contoso.example", "roles": ["customer"]}]})
    [farmer] = api.get("/users").json()["items"]
    assert farmer["roles"] == ["customer"] and farmer["enabled"] is True


@pytest.mark.parametrize(
    ("seed", "words"),
    [
        ({"tenants": []}, "unknown seed keys: tenants"),
        ({"quirks": {"slow": True}}, "unknown quirks: slow"),
        ({"quirks": {"max_page": 0}}, "max_page"),
        ({"users": [{"name": "no email"}]}, "valid email"),
        ({"users": [{"email": "a@x.example", "roles": "operator"}]}, "list of names"),
    ],
)
def test_a_bad_seed_is_refused(tmp_path: Any, seed: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        create_app("operator-v1", db_path=tmp_path / "s.sqlite", token="t", seed=seed)

"""Tenants, their lifecycle and their feature flags over real HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.sandbox.dialects.reference import merge_patch


def make(client: httpx.Client, name: str, **fields: Any) -> dict[str, Any]:
    response = client.post("/tenants", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_create_tenant_with_plan_and_parent(client: httpx.Client) -> None:
    plan = client.post("/plans", json={"name": "gold"}).json()
    parent = make(client, "parent")
    child = make(
        client,
        "child",
        display_name="Child",
        plan_id=plan["id"],
        parent_id=parent["id"],
        configuration={"region": "eu", "gone": None},
    )
    assert set(child) == {
        "id",
        "name",
        "display_name",
        "plan_id",
        "parent_id",
        "status",
        "configuration",
        "suspended_at",
        "created_at",
        "updated_at",
    }
    assert child["status"] == "active" and child["suspended_at"] is None
    assert child["plan_id"] == plan["id"] and child["parent_id"] == parent["id"]
    assert child["configuration"] == {"region": "eu"}
    assert parent["configuration"] == {} and parent["plan_id"] is None
    assert client.get(f"/tenants/{child['id']}").json() == child
    listed = client.get("/tenants").json()
    assert [t["name"] for t in listed["items"]] == ["parent", "child"] and listed["total"] == 2


def test_duplicate_tenant_name_is_409(client: httpx.Client) -> None:
    make(client, "acme")
    response = client.post("/tenants", json={"name": "acme"})
    assert response.status_code == 409 and response.json()["error"] == "conflict"


@pytest.mark.parametrize("field", ["plan_id", "parent_id"])
def test_unknown_references_are_400(client: httpx.Client, field: str) -> None:
    response = client.post("/tenants", json={"name": "acme", field: "no-such-id"})
    assert response.status_code == 400 and response.json()["error"] == "validation_error"
    tenant = make(client, "acme")
    patched = client.patch(f"/tenants/{tenant['id']}", json={field: "no-such-id"})
    assert patched.status_code == 400


@pytest.mark.parametrize("field", ["name", "display_name"])
def test_names_longer_than_100_are_400(client: httpx.Client, field: str) -> None:
    body = {"name": "acme", field: "x" * 101}
    response = client.post("/tenants", json=body)
    assert response.status_code == 400
    assert response.json()["error"] == "validation_error" and field in response.json()["message"]
    assert (
        client.post("/tenants", json={"name": "y" * 100, "display_name": "z" * 100}).status_code
        == 201
    )


def test_patch_changes_only_what_it_names(client: httpx.Client) -> None:
    plan = client.post("/plans", json={"name": "gold"}).json()
    tenant = make(client, "acme", display_name="Acme", plan_id=plan["id"])
    patched = client.patch(
        f"/tenants/{tenant['id']}", json={"display_name": "Acme Inc", "name": "x"}
    )
    assert patched.status_code == 200
    body = patched.json()
    assert (body["name"], body["display_name"], body["plan_id"]) == ("acme", "Acme Inc", plan["id"])
    cleared = client.patch(f"/tenants/{tenant['id']}", json={"plan_id": None}).json()
    assert cleared["plan_id"] is None and cleared["display_name"] == "Acme Inc"


def test_configuration_is_merge_patched(client: httpx.Client) -> None:
    tenant = make(client, "acme", configuration={"a": 1, "b": 2, "nested": {"x": 1, "y": 2}})
    path = f"/tenants/{tenant['id']}"
    patch = {"configuration": {"b": None, "c": 3, "nested": {"y": None, "z": 3}}}
    body = client.patch(path, json=patch).json()
    assert body["configuration"] == {"a": 1, "c": 3, "nested": {"x": 1, "z": 3}}
    assert client.get(path).json()["configuration"] == body["configuration"]
    assert client.patch(path, json={"configuration": None}).json()["configuration"] == {}
    assert client.patch(path, json={"configuration": [1]}).status_code == 400


def test_merge_patch_follows_rfc_7386() -> None:
    assert merge_patch({"a": "b"}, {"a": "c"}) == {"a": "c"}
    assert merge_patch({"a": "b"}, {"a": None}) == {}
    assert merge_patch({"a": [{"b": "c"}]}, {"a": [1]}) == {"a": [1]}
    assert merge_patch({"e": None}, {"a": 1}) == {"e": None, "a": 1}
    assert merge_patch({}, {"a": {"bb": {"ccc": None}}}) == {"a": {"bb": {}}}


def test_parent_cycles_are_400(client: httpx.Client) -> None:
    a = make(client, "a")
    b = make(client, "b", parent_id=a["id"])
    c = make(client, "c", parent_id=b["id"])
    for tenant, parent in [(a, c), (a, b), (a, a)]:
        response = client.patch(f"/tenants/{tenant['id']}", json={"parent_id": parent["id"]})
        assert response.status_code == 400 and response.json()["error"] == "validation_error"
    moved = client.patch(f"/tenants/{c['id']}", json={"parent_id": a["id"]})
    assert moved.status_code == 200 and moved.json()["parent_id"] == a["id"]
    assert client.patch(f"/tenants/{c['id']}", json={"parent_id": None}).json()["parent_id"] is None


def test_delete_is_refused_while_children_or_users_remain(client: httpx.Client) -> None:
    parent = make(client, "parent")
    child = make(client, "child", parent_id=parent["id"])
    refused = client.delete(f"/tenants/{parent['id']}")
    assert refused.status_code == 409 and refused.json()["error"] == "conflict"
    assert client.delete(f"/tenants/{child['id']}").status_code == 204
    user = client.post("/users", json={"email": "a@x.io", "tenant_id": parent["id"]}).json()
    assert client.delete(f"/tenants/{parent['id']}").status_code == 409
    client.post(f"/users/{user['id']}/tenant", json={"tenant_id": None})
    deleted = client.delete(f"/tenants/{parent['id']}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert client.get(f"/tenants/{parent['id']}").status_code == 404
    assert client.delete(f"/tenants/{parent['id']}").status_code == 404


def test_suspend_and_resume_are_idempotent(client: httpx.Client) -> None:
    tenant = make(client, "acme")
    path = f"/tenants/{tenant['id']}"
    suspended = client.post(f"{path}/suspend")
    assert suspended.status_code == 200
    body = suspended.json()
    assert body["status"] == "suspended" and body["suspended_at"] is not None
    again = client.post(f"{path}/suspend", json={"reason": "ignored"})
    assert again.status_code == 200 and again.json() == body  # a no-op: nothing changed
    resumed = client.post(f"{path}/resume").json()
    assert resumed["status"] == "active" and resumed["suspended_at"] is None
    assert client.post(f"{path}/resume").json() == resumed
    assert client.post("/tenants/nope/suspend").status_code == 404


def test_feature_flags_lifecycle(client: httpx.Client) -> None:
    tenant = make(client, "acme")
    other = make(client, "other")
    flags = f"/tenants/{tenant['id']}/feature-flags"
    assert client.get(flags).json() == {"items": [], "total": 0}
    created = client.post(flags, json={"key": "sso", "enabled": True})
    assert created.status_code == 201
    assert {"key", "enabled", "created_at", "updated_at"} <= set(created.json())
    assert client.post(flags, json={"key": "sso", "enabled": False}).status_code == 409
    # The same key on another tenant is another flag.
    elsewhere = f"/tenants/{other['id']}/feature-flags"
    assert client.post(elsewhere, json={"key": "sso", "enabled": False}).status_code == 201
    client.post(flags, json={"key": "beta", "enabled": False})
    listed = client.get(flags).json()
    assert [(f["key"], f["enabled"]) for f in listed["items"]] == [("sso", True), ("beta", False)]
    assert listed["total"] == 2
    updated = client.put(f"{flags}/sso", json={"enabled": False})
    assert updated.status_code == 200 and updated.json()["enabled"] is False
    assert client.put(f"{flags}/nope", json={"enabled": True}).status_code == 404
    assert client.put(f"{flags}/sso", json={"enabled": "yes"}).status_code == 400
    assert client.delete(f"{flags}/sso").status_code == 204
    assert client.delete(f"{flags}/sso").status_code == 404
    assert [f["key"] for f in client.get(flags).json()["items"]] == ["beta"]
    assert client.get("/tenants/nope/feature-flags").status_code == 404


def test_deleting_a_tenant_takes_its_flags(client: httpx.Client) -> None:
    tenant = make(client, "acme")
    client.post(f"/tenants/{tenant['id']}/feature-flags", json={"key": "sso", "enabled": True})
    assert client.delete(f"/tenants/{tenant['id']}").status_code == 204
    again = make(client, "acme")
    assert client.get(f"/tenants/{again['id']}/feature-flags").json()["total"] == 0

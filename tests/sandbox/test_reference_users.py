"""Users (operators), their roles and tenant assignment over real HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest


def make_user(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    response = client.post("/users", json={"email": "ann@example.com", **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_create_get_list_user(client: httpx.Client) -> None:
    user = make_user(client, name="Ann", roles=["operator", "operator"])
    assert set(user) == {
        "id",
        "email",
        "name",
        "enabled",
        "roles",
        "tenant_id",
        "created_at",
        "updated_at",
    }
    assert user["enabled"] is True and user["roles"] == ["operator"] and user["tenant_id"] is None
    assert client.get(f"/users/{user['id']}").json() == user
    listed = client.get("/users").json()
    assert listed["items"] == [user] and listed["total"] == 1
    assert client.get("/users/nope").status_code == 404


def test_duplicate_email_is_409_whatever_its_case(client: httpx.Client) -> None:
    make_user(client)
    for email in ["ann@example.com", "ANN@example.com"]:
        response = client.post("/users", json={"email": email})
        assert response.status_code == 409 and response.json()["error"] == "conflict"


@pytest.mark.parametrize(
    "body",
    [{"roles": ["root"]}, {"tenant_id": "nope"}, {"email": ""}, {"enabled": "no"}],
    ids=["role", "tenant", "empty-email", "enabled-string"],
)
def test_bad_users_are_400(client: httpx.Client, body: dict[str, Any]) -> None:
    response = client.post("/users", json={"email": "ann@example.com", **body})
    assert response.status_code == 400 and response.json()["error"] == "validation_error"


def test_put_updates_name_and_email(client: httpx.Client) -> None:
    user = make_user(client, name="Ann")
    make_user(client, email="bob@example.com")
    path = f"/users/{user['id']}"
    renamed = client.put(path, json={"name": "Ann B"}).json()
    assert renamed["name"] == "Ann B" and renamed["email"] == "ann@example.com"
    moved = client.put(path, json={"email": "ann@new.example"})
    assert moved.status_code == 200 and moved.json()["name"] == "Ann B"
    assert client.put(path, json={"email": "Bob@example.com"}).status_code == 409
    assert client.post("/users", json={"email": "ann@example.com"}).status_code == 201


def test_enable_disable_and_delete(client: httpx.Client) -> None:
    user = make_user(client, enabled=False)
    path = f"/users/{user['id']}"
    assert user["enabled"] is False
    assert client.post(f"{path}/enable").json()["enabled"] is True
    assert client.post(f"{path}/enable").json()["enabled"] is True
    assert client.post(f"{path}/disable").json()["enabled"] is False
    assert client.delete(path).status_code == 204
    assert client.delete(path).status_code == 404
    assert client.post(f"{path}/enable").status_code == 404


def test_roles_are_added_and_removed_idempotently(client: httpx.Client) -> None:
    user = make_user(client, roles=["operator"])
    path = f"/users/{user['id']}/roles"
    added = client.post(path, json={"role": "operator-admin"})
    assert added.status_code == 200 and added.json()["roles"] == ["operator", "operator-admin"]
    again = client.post(path, json={"role": "operator-admin"})
    assert again.json()["roles"] == ["operator", "operator-admin"]
    assert client.post(path, json={"role": "root"}).status_code == 400
    removed = client.delete(f"{path}/operator")
    assert removed.status_code == 200 and removed.json()["roles"] == ["operator-admin"]
    assert client.delete(f"{path}/operator").json()["roles"] == ["operator-admin"]


def test_tenant_assignment(client: httpx.Client) -> None:
    tenant = client.post("/tenants", json={"name": "acme"}).json()
    user = make_user(client)
    path = f"/users/{user['id']}/tenant"
    assigned = client.post(path, json={"tenant_id": tenant["id"]})
    assert assigned.status_code == 200 and assigned.json()["tenant_id"] == tenant["id"]
    assert client.post(path, json={"tenant_id": "nope"}).status_code == 400
    assert client.post(path, json={}).status_code == 400
    assert client.post(path, json={"tenant_id": None}).json()["tenant_id"] is None

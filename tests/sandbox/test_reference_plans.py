"""Plans and tier defaults over real HTTP, per docs/apis/reference.md."""

from __future__ import annotations

import re

import httpx
import pytest

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def test_create_get_list_plan(client: httpx.Client) -> None:
    created = client.post("/plans", json={"name": "gold", "display_name": "Gold", "extra": 1})
    assert created.status_code == 201
    plan = created.json()
    assert set(plan) == {"id", "name", "display_name", "description", "created_at", "updated_at"}
    assert plan["name"] == "gold" and plan["display_name"] == "Gold" and plan["description"] is None
    assert ISO_Z.match(plan["created_at"]) and plan["created_at"] == plan["updated_at"]
    assert client.get(f"/plans/{plan['id']}").json() == plan
    assert client.get("/plans").json() == {"items": [plan], "total": 1, "limit": 100, "offset": 0}


def test_duplicate_plan_name_is_a_conflict(client: httpx.Client) -> None:
    assert client.post("/plans", json={"name": "gold"}).status_code == 201
    duplicate = client.post("/plans", json={"name": "gold"})
    assert duplicate.status_code == 409
    assert duplicate.json()["error"] == "conflict" and "gold" in duplicate.json()["message"]


def test_put_plan_keeps_fields_left_out_and_never_renames(client: httpx.Client) -> None:
    plan = client.post(
        "/plans", json={"name": "gold", "display_name": "Gold", "description": "d"}
    ).json()
    updated = client.put(f"/plans/{plan['id']}", json={"description": "new", "name": "other"})
    assert updated.status_code == 200
    body = updated.json()
    assert (body["name"], body["display_name"], body["description"]) == ("gold", "Gold", "new")
    assert body["updated_at"] > plan["updated_at"] and body["created_at"] == plan["created_at"]


def test_unknown_plan_is_404_and_plans_cannot_be_deleted(client: httpx.Client) -> None:
    missing = client.get("/plans/nope")
    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "message": "plan 'nope' not found"}
    assert client.put("/plans/nope", json={}).status_code == 404
    plan = client.post("/plans", json={"name": "gold"}).json()
    assert client.delete(f"/plans/{plan['id']}").status_code == 405


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": 5}, {"name": None}, [1, 2]],
    ids=["missing", "empty", "number", "null", "not-object"],
)
def test_bad_plan_bodies_are_400_validation_error(client: httpx.Client, body: object) -> None:
    response = client.post("/plans", json=body)
    assert response.status_code == 400
    assert response.json()["error"] == "validation_error"
    assert "detail" not in response.json()


def test_malformed_json_is_400(client: httpx.Client) -> None:
    response = client.post(
        "/plans", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and response.json()["error"] == "validation_error"


def test_tier_defaults_are_replaced_as_a_whole(client: httpx.Client) -> None:
    plan = client.post("/plans", json={"name": "gold"}).json()
    path = f"/plans/{plan['id']}/tier-defaults"
    assert client.get(path).json() == {"plan_id": plan["id"], "tier_defaults": []}
    first = [{"tier": "basic", "slot_limit": 100}, {"tier": "pro", "slot_limit": 0}]
    put = client.put(path, json={"tier_defaults": first})
    assert put.status_code == 200
    assert put.json() == {"plan_id": plan["id"], "tier_defaults": first}
    second = [{"tier": "pro", "slot_limit": 5}]
    client.put(path, json={"tier_defaults": second})
    assert client.get(path).json()["tier_defaults"] == second


@pytest.mark.parametrize(
    "rows",
    [
        [{"tier": "basic", "slot_limit": -1}],
        [{"tier": "basic", "slot_limit": "5"}],
        [{"tier": "basic", "slot_limit": 1.5}],
        [{"tier": "basic"}],
        [{"tier": "a", "slot_limit": 1}, {"tier": "a", "slot_limit": 2}],
    ],
    ids=["negative", "string", "float", "missing", "duplicate"],
)
def test_bad_tier_defaults_are_400(client: httpx.Client, rows: object) -> None:
    plan = client.post("/plans", json={"name": "gold"}).json()
    response = client.put(f"/plans/{plan['id']}/tier-defaults", json={"tier_defaults": rows})
    assert response.status_code == 400 and response.json()["error"] == "validation_error"


def test_tier_defaults_of_unknown_plan_are_404(client: httpx.Client) -> None:
    assert client.get("/plans/nope/tier-defaults").status_code == 404
    assert client.put("/plans/nope/tier-defaults", json={"tier_defaults": []}).status_code == 404


def test_pagination_caps_limit_at_500_and_walks_by_offset(client: httpx.Client) -> None:
    names = [f"plan-{i:03d}" for i in range(520)]
    for name in names:
        assert client.post("/plans", json={"name": name}).status_code == 201
    first = client.get("/plans", params={"limit": 1000}).json()
    assert len(first["items"]) == 500
    assert (first["limit"], first["offset"], first["total"]) == (500, 0, 520)
    seen: list[str] = []
    offset = 0
    while True:
        page = client.get("/plans", params={"limit": 150, "offset": offset}).json()
        assert page["limit"] == 150 and page["offset"] == offset and page["total"] == 520
        seen += [p["name"] for p in page["items"]]
        if not page["items"]:
            break
        offset += len(page["items"])
    assert seen == names  # creation order, nothing skipped or repeated
    assert len(client.get("/plans").json()["items"]) == 100
    assert client.get("/plans", params={"offset": 600}).json()["items"] == []


@pytest.mark.parametrize("params", [{"limit": -1}, {"offset": -1}, {"limit": "ten"}])
def test_bad_paging_parameters_are_400(client: httpx.Client, params: dict[str, int | str]) -> None:
    response = client.get("/plans", params=params)
    assert response.status_code == 400 and response.json()["error"] == "validation_error"

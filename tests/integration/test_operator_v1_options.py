"""operator-v1 with non-default options, end to end over real HTTP (issue 12).

Document 000 lists routes and no bodies. The sandbox is seeded with options
that make it the "other reading" of that document: lists under the resource's
own name, integer ids, tier defaults as ``{"tier_defaults": [{"tier_id": <the
device tier's id>, "slot_limit": N}]}`` and FastAPI's ``{"detail": ...}``
errors. A target configured with the same options converges from empty and
plans empty after; one left at the defaults fails naming the call and the
server's words, and duplicates nothing.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import SANDBOX_TOKEN, FreshSandbox
from tests.integration.helpers import REPO, copy_tree, run_cli, tls

EXAMPLE = REPO / "examples" / "operator-v1"
BASE = "/api/v1/operator"
COLLECTIONS = {
    "deviceTiers": "device_tiers",
    "plans": "plans",
    "tenants": "tenants",
    "users": "users",
}
OTHER_READING: dict[str, Any] = {
    "lists": {option: {"items": key, "total": "total"} for option, key in COLLECTIONS.items()},
    "idType": "integer",
    "tierDefaults": {"tierField": "tier_id", "tierReference": "id"},
    "errors": {"message": "detail"},
}
PAGED_OTHERWISE: dict[str, Any] = {
    "lists": {
        "deviceTiers": {"paging": "page", "limitParam": "per_page", "items": "data"},
        "plans": {"paging": "page", "firstPage": 0, "items": "data", "total": "meta.total"},
        "tenants": {"paging": "cursor", "items": "results", "total": None, "next": "next_cursor"},
        "users": {"paging": "link", "items": "data", "total": "count", "next": "links.next"},
    },
    "fields": {"displayName": "title", "plan": "planId", "parent": "parentId"},
}


def specs(tmp_path: Path, box: Any, options: dict[str, Any] | None) -> Path:
    """The example's specs, with one target ``t`` at ``box`` (with ``options`` if given)."""
    root = Path(copy_tree(EXAMPLE, tmp_path / "specs"))
    api: Any = "operator-v1" if options is None else {"dialect": "operator-v1", "options": options}
    config = root / "reconciler.yaml"
    target = yaml.safe_dump({"targets": {"t": {"api": api, "url": box.url}}})
    config.write_text(config.read_text() + target)
    return root


def apply(root: Path) -> Any:
    return run_cli(["apply", str(root), "--target", "t", "--auto-approve"], SANDBOX_TOKEN)


def plan_exit(root: Path) -> int:
    args = ["plan", str(root), "--target", "t", "--detailed-exitcode"]
    return run_cli(args, SANDBOX_TOKEN).exit_code


def client(box: Any) -> httpx.Client:
    return httpx.Client(
        base_url=box.url + BASE, headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"}, verify=tls()
    )


def listed(box: Any, path: str, key: str) -> list[dict[str, Any]]:
    """Every object of a listing answered under ``key`` (the other reading's envelope)."""
    with client(box) as c:
        found: list[dict[str, Any]] = c.get(path, params={"limit": 500}).json()[key]
    return found


def queries(box: Any, path: str) -> list[str]:
    """The query strings of every GET of ``path`` the sandbox served."""
    with sqlite3.connect(box.db_path) as db:
        rows = db.execute(
            "SELECT query FROM request_log WHERE method = 'GET' AND path = ? ORDER BY seq",
            (BASE + path,),
        ).fetchall()
    return [q for (q,) in rows]


@pytest.fixture
def box(fresh_sandbox: FreshSandbox) -> Any:
    return fresh_sandbox("operator-v1", seed={"options": OTHER_READING})


def test_the_sandbox_answers_as_the_other_reading(box: Any) -> None:
    with client(box) as c:
        tier = c.post("/device-tiers", json={"name": "basic"}).json()
        plan = c.post("/plans", json={"name": "fleet"}).json()
        assert isinstance(tier["id"], int) and isinstance(plan["id"], int)
        assert c.get("/device-tiers").json() == {"device_tiers": [tier], "total": 1}
        path = f"/plans/{plan['id']}/tier-defaults"
        by_name = c.put(path, json={"tier_defaults": [{"tier": "basic", "slot_limit": 5}]})
        assert by_name.status_code == 422
        assert by_name.json() == {
            "detail": [
                {
                    "loc": ["body", "tier_defaults", 0, "tier_id"],
                    "msg": "Field required",
                    "type": "missing",
                }
            ]
        }
        rows = [{"tier_id": tier["id"], "slot_limit": 5}]
        put = c.put(path, json={"tier_defaults": rows})
        assert put.status_code == 200, put.text
        assert put.json() == {"plan_id": plan["id"], "tier_defaults": rows}
        text_id = c.post("/tenants", json={"name": "acme", "plan_id": str(plan["id"])})
        assert text_id.status_code == 422 and text_id.json()["detail"][0]["loc"] == [
            "body",
            "plan_id",
        ]
        missing = c.get("/tenants/999")
        assert missing.status_code == 404 and missing.json() == {"detail": "tenant '999' not found"}


def test_configured_the_same_it_converges_from_empty_and_plans_empty(
    box: Any, tmp_path: Path
) -> None:
    root = specs(tmp_path, box, OTHER_READING)
    applied = apply(root)
    assert applied.exit_code == 0, applied.output
    assert plan_exit(root) == 0
    tier_names = {t["id"]: t["name"] for t in listed(box, "/device-tiers", "device_tiers")}
    assert all(isinstance(i, int) for i in tier_names)
    with client(box) as c:
        for plan in listed(box, "/plans", "plans"):
            rows = c.get(f"/plans/{plan['id']}/tier-defaults").json()["tier_defaults"]
            assert all(isinstance(row["tier_id"], int) for row in rows)
            if plan["name"] == "fleet":
                found = {tier_names[row["tier_id"]]: row["slot_limit"] for row in rows}
                assert found == {"basic": 5000, "standard": 500, "premium": 50}
    tenants = {t["name"]: t for t in listed(box, "/tenants", "tenants")}
    child = tenants["northwind-cold-chain"]
    assert child["parent_id"] == tenants["northwind"]["id"] and isinstance(child["parent_id"], int)


def test_left_at_the_defaults_it_fails_naming_the_call_and_duplicates_nothing(
    box: Any, tmp_path: Path
) -> None:
    root = specs(tmp_path, box, None)
    for _ in range(2):
        applied = apply(root)
        assert applied.exit_code != 0
        assert "/tier-defaults returned 422" in applied.output  # the call, and the answer:
        assert '"tier_id"], "msg": "Field required"' in applied.output
    for path, key in [("/device-tiers", "device_tiers"), ("/plans", "plans"), ("/users", "users")]:
        names = Counter(obj.get("email", obj.get("name")) for obj in listed(box, path, key))
        assert names and max(names.values()) == 1, names


def test_paging_past_a_small_page_cap_with_the_named_lists(
    fresh_sandbox: FreshSandbox, tmp_path: Path
) -> None:
    box = fresh_sandbox("operator-v1", seed={"options": OTHER_READING, "quirks": {"max_page": 2}})
    root = specs(tmp_path, box, OTHER_READING)
    applied = apply(root)
    assert applied.exit_code == 0, applied.output
    assert plan_exit(root) == 0
    assert len(listed(box, "/tenants", "tenants")) == 2  # the cap, whatever the limit
    assert any("offset=2" in q for q in queries(box, "/tenants"))  # so a second page was read


def test_other_paging_styles_and_keys_are_what_is_used(
    fresh_sandbox: FreshSandbox, tmp_path: Path
) -> None:
    box = fresh_sandbox("operator-v1", seed={"options": PAGED_OTHERWISE, "quirks": {"max_page": 2}})
    root = specs(tmp_path, box, PAGED_OTHERWISE)
    applied = apply(root)
    assert applied.exit_code == 0, applied.output
    assert plan_exit(root) == 0
    assert any("page=2" in q and "per_page=" in q for q in queries(box, "/device-tiers"))
    assert all("page=0" in q for q in queries(box, "/plans"))  # pages counted from 0
    assert any("cursor=" in q for q in queries(box, "/tenants"))
    assert len(queries(box, "/users")) >= 2  # the next link was followed
    tenants = listed(box, "/tenants", "results")
    assert {"title", "planId", "parentId"} <= set(tenants[0])
    assert "display_name" not in tenants[0]


def test_show_calls_shows_the_bodies_the_options_shape(box: Any, tmp_path: Path) -> None:
    """The preview uses the target's options: tier defaults are shown by tier id."""
    root = specs(tmp_path, box, OTHER_READING)
    shown = run_cli(["plan", str(root), "--target", "t", "--show-calls"], SANDBOX_TOKEN)
    assert shown.exit_code == 0, shown.output
    calls = shown.output[shown.output.index("tier-defaults") :]
    assert '"tier_id"' in calls and '"tier":' not in calls

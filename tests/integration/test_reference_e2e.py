"""End to end over real HTTP: the CLI against a running reference sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.helpers import api, copy_specs, requests, run_cli, target_args, writes


def by_name(client: Any, path: str) -> dict[str, dict[str, Any]]:
    items = client.get(path, params={"limit": 500}).json()["items"]
    key = "email" if path == "/users" else "name"
    return {item[key]: item for item in items}


def test_empty_then_apply_then_plan_shows_nothing(sandbox: Any, tmp_path: Path) -> None:
    specs = copy_specs(tmp_path)
    args = target_args(sandbox)

    first = run_cli(["plan", str(specs), *args, "--detailed-exitcode"], sandbox.token)
    assert first.exit_code == 2, first.output
    assert "+ Tenant/acme will be created" in first.stdout
    assert "Plan: " in first.stdout

    applied = run_cli(["apply", str(specs), *args, "--auto-approve"], sandbox.token)
    assert applied.exit_code == 0, applied.output
    assert "0 failed, 0 skipped" in applied.stdout
    assert "Verified" in applied.stdout

    second = run_cli(["plan", str(specs), *args, "--detailed-exitcode"], sandbox.token)
    assert second.exit_code == 0, second.output
    assert "No changes" in second.stdout

    with api(sandbox) as client:
        tenants = by_name(client, "/tenants")
        plans = by_name(client, "/plans")
        assert tenants["acme-eu"]["parent_id"] == tenants["acme"]["id"]
        assert tenants["acme-eu"]["plan_id"] == plans["enterprise"]["id"]
        assert tenants["initech"]["status"] == "suspended"
        flags = client.get(f"/tenants/{tenants['acme-eu']['id']}/feature-flags").json()["items"]
        assert {f["key"]: f["enabled"] for f in flags} == {"sso": True, "beta_dashboard": True}
        tiers = client.get(f"/plans/{plans['pro']['id']}/tier-defaults").json()["tier_defaults"]
        assert {t["tier"]: t["slot_limit"] for t in tiers} == {
            "basic": 1000,
            "standard": 250,
            "premium": 25,
        }
        users = by_name(client, "/users")
        assert users["support@example.com"]["tenant_id"] == tenants["acme"]["id"]
        assert users["ops-lead@example.com"]["roles"] == ["operator-admin"]


def test_one_edit_is_exactly_one_update(sandbox: Any, tmp_path: Path) -> None:
    specs = copy_specs(tmp_path)
    args = target_args(sandbox)
    assert run_cli(["apply", str(specs), *args, "--auto-approve"], sandbox.token).exit_code == 0

    path = specs / "tenants" / "globex.yaml"
    path.write_text(path.read_text().replace("displayName: Globex", "displayName: Globex Inc"))
    planned = run_cli(["plan", str(specs), *args, "--format", "json"], sandbox.token)
    doc = json.loads(planned.stdout)
    assert [(c["action"], c["id"]) for c in doc["changes"]] == [("update", "Tenant/globex")]
    assert doc["changes"][0]["fields"] == [
        {"path": "displayName", "old": "Globex", "new": "Globex Inc"}
    ]

    before = len(requests(sandbox.db_path))
    assert run_cli(["apply", str(specs), *args, "--auto-approve"], sandbox.token).exit_code == 0
    made = writes(sandbox.db_path, before)
    assert len(made) == 1
    method, path_, status = made[0]
    assert method == "PATCH" and path_.startswith("/api/v1/operator/tenants/") and status == 200


HAND_MADE = "legacy-co"


def make_by_hand(sandbox: Any) -> str:
    with api(sandbox) as client:
        created = client.post("/tenants", json={"name": HAND_MADE, "display_name": "Legacy"})
        assert created.status_code == 201, created.text
        return str(created.json()["id"])


@pytest.mark.parametrize("policy", ["ignore", "suspend", "delete"])
def test_removal_follows_the_prune_policy(sandbox: Any, tmp_path: Path, policy: str) -> None:
    specs = copy_specs(tmp_path)
    (specs / "reconciler.yaml").write_text(
        f"apiVersion: reconciler.dev/v1\nprune:\n  Tenant: {policy}\n"
    )
    args = target_args(sandbox)
    assert run_cli(["apply", str(specs), *args, "--auto-approve"], sandbox.token).exit_code == 0
    tenant_id = make_by_hand(sandbox)

    planned = run_cli(["plan", str(specs), *args], sandbox.token)
    before = len(requests(sandbox.db_path))
    result = run_cli(["apply", str(specs), *args, "--auto-approve"], sandbox.token)
    assert result.exit_code == 0, result.output
    made = writes(sandbox.db_path, before)
    with api(sandbox) as client:
        live = client.get(f"/tenants/{tenant_id}")
    if policy == "ignore":
        assert (
            f"Unmanaged (live, in no spec; left alone by the prune policy): Tenant/{HAND_MADE}"
            in planned.stdout
        )
        assert made == []
        assert live.json()["status"] == "active"
    elif policy == "suspend":
        assert f"! Tenant/{HAND_MADE} will be suspended" in planned.stdout
        assert made == [("POST", f"/api/v1/operator/tenants/{tenant_id}/suspend", 200)]
        assert live.json()["status"] == "suspended"
    else:
        assert f"- Tenant/{HAND_MADE} will be deleted" in planned.stdout
        assert made == [("DELETE", f"/api/v1/operator/tenants/{tenant_id}", 204)]
        assert live.status_code == 404


REJECTED = """\
apiVersion: reconciler.dev/v1
kind: Plan
name: basic
---
apiVersion: reconciler.dev/v1
kind: Tenant
name: rejected
displayName: "{long}"
plan: basic
features: {{sso: true}}
---
apiVersion: reconciler.dev/v1
kind: Tenant
name: rejected-child
parent: rejected
---
apiVersion: reconciler.dev/v1
kind: Operator
email: someone@example.com
tenant: rejected-child
---
apiVersion: reconciler.dev/v1
kind: Tenant
name: fine
plan: basic
features: {{sso: false}}
"""


def test_a_rejected_change_skips_its_dependents_and_the_rest_applies(
    sandbox: Any, tmp_path: Path
) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "all.yaml").write_text(REJECTED.format(long="x" * 150))
    result = run_cli(["apply", str(specs), *target_args(sandbox), "--auto-approve"], sandbox.token)
    assert result.exit_code == 1
    out = result.stdout
    assert "Failed:" in out and "Tenant/rejected: POST /api/v1/operator/tenants returned 400" in out
    for skipped in (
        "Tenant/rejected-child",
        "FeatureFlag/rejected/sso",
        "Operator/someone@example.com",
    ):
        assert f"  {skipped}: skipped" in out, out
    with api(sandbox) as client:
        tenants = by_name(client, "/tenants")
        assert set(tenants) == {"fine"}
        fine_flags = client.get(f"/tenants/{tenants['fine']['id']}/feature-flags").json()
        assert [f["key"] for f in fine_flags["items"]] == ["sso"]


def test_apply_without_a_terminal_refuses_and_changes_nothing(sandbox: Any, tmp_path: Path) -> None:
    specs = copy_specs(tmp_path)
    result = run_cli(["apply", str(specs), *target_args(sandbox)], sandbox.token)
    assert result.exit_code == 1
    assert "--auto-approve" in result.stderr
    assert writes(sandbox.db_path) == []


def test_a_bad_spec_fails_before_any_api_call(sandbox: Any, tmp_path: Path) -> None:
    specs = copy_specs(tmp_path)
    (specs / "broken.yaml").write_text(
        "apiVersion: reconciler.dev/v1\nkind: Tenant\nname: x\nplna: pro\n"
    )
    result = run_cli(["plan", str(specs), *target_args(sandbox)], sandbox.token)
    assert result.exit_code == 1
    assert "broken.yaml:4:1" in result.stderr and "plna" in result.stderr
    assert "Traceback" not in result.output
    assert requests(sandbox.db_path) == []


def test_parallel_and_serial_apply_reach_the_same_state(sandbox: Any, tmp_path: Path) -> None:
    specs = copy_specs(tmp_path)
    args = [*target_args(sandbox), "--parallelism", "1"]
    assert run_cli(["apply", str(specs), *args, "--auto-approve"], sandbox.token).exit_code == 0
    again = run_cli(["plan", str(specs), *args, "--detailed-exitcode"], sandbox.token)
    assert again.exit_code == 0, again.output

"""The tenants-v1 dialect end to end over real HTTP, through the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.sandbox.faults import FaultConfig
from tests.conftest import SANDBOX_TOKEN, FreshSandbox, SandboxFactory, request_log
from tests.integration.helpers import REPO, assert_converges_through_faults, copy_tree, run_cli, tls

EXAMPLE = REPO / "examples" / "tenants-v1"
LIMITED = "limited-token-SECRET-456"
BASE = "/v1/tenants"


def target(box: Any) -> list[str]:
    return ["--api", "tenants-v1", "--url", box.url]


def call(box: Any, method: str, path: str, token: str = SANDBOX_TOKEN, **kw: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.request(method, box.url + BASE + path, headers=headers, **kw, verify=tls())


def writes(box: Any, since: int = 0) -> list[tuple[str, str, int]]:
    return [r for r in request_log(box.db_path)[since:] if r[0] != "GET"]


@pytest.fixture
def box(fresh_sandbox: FreshSandbox) -> Any:
    return fresh_sandbox(
        "tenants-v1", seed={"tokens": [{"token": LIMITED, "roles": ["tenant_admin"]}]}
    )


def apply(root: Path, box: Any, token: str = SANDBOX_TOKEN) -> Any:
    return run_cli(["apply", str(root), *target(box), "--auto-approve"], token)


def copy(tmp_path: Path) -> Path:
    return Path(copy_tree(EXAMPLE, tmp_path / "specs"))


def test_example_applies_and_a_second_plan_is_empty(box: Any) -> None:
    result = apply(EXAMPLE, box)
    assert result.exit_code == 0, result.output
    tenants = {t["name"]: t for t in call(box, "GET", "", params={"limit": 100}).json()["data"]}
    assert tenants["globex-legacy"]["status"] == "suspended"
    assert tenants["globex-research"]["parent_id"] == tenants["globex"]["id"]
    kids = call(box, "GET", f"/{tenants['globex']['id']}/children").json()["data"]
    assert {k["name"] for k in kids} == {"globex-research", "globex-legacy"}
    again = run_cli(["plan", str(EXAMPLE), *target(box), "--detailed-exitcode"], SANDBOX_TOKEN)
    assert again.exit_code == 0, again.output


def test_a_flag_change_is_delete_then_create(box: Any, tmp_path: Path) -> None:
    specs = copy(tmp_path)
    assert apply(specs, box).exit_code == 0
    tenants = specs / "tenants.yaml"
    tenants.write_text(tenants.read_text().replace("new_billing: false", "new_billing: true"))
    before = len(request_log(box.db_path))
    assert apply(specs, box).exit_code == 0
    done = [(m, p.rsplit("/", 2)[-2:]) for m, p, _ in writes(box, before)]
    assert done == [("DELETE", ["feature-flags", "new_billing"]), ("POST", done[1][1])]
    assert done[1][1][-1] == "feature-flags"


def test_lifecycle_needs_the_elevated_role(box: Any, tmp_path: Path) -> None:
    specs = copy(tmp_path)
    assert apply(specs, box).exit_code == 0
    tenants = specs / "tenants.yaml"
    tenants.write_text(tenants.read_text().replace("status: active\n", "status: suspended\n", 1))
    result = apply(specs, box, token=LIMITED)
    assert result.exit_code == 1
    assert "Tenant/globex: POST /v1/tenants/" in result.stdout
    assert "/suspend returned 403: platform admin role required" in result.stdout
    assert LIMITED not in result.output


def test_a_bad_uuid_is_400_and_never_sent(box: Any, tmp_path: Path) -> None:
    answer = call(box, "GET", "/not-a-uuid")
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "validation_error",
        "message": "tenant_id must be a valid UUID",
    }
    root = tmp_path / "specs"
    root.mkdir()
    (root / "t.yaml").write_text(
        "apiVersion: reconciler.dev/v1\nkind: Tenant\nname: t\nplan: p\n"
        "roles: {admin: {members: [alice]}}\n---\n"
        "apiVersion: reconciler.dev/v1\nkind: Plan\nname: p\n"
    )
    before = len(request_log(box.db_path))
    result = run_cli(["plan", str(root), *target(box)], SANDBOX_TOKEN)
    assert result.exit_code == 1
    assert "identifies users by UUID; 'alice' is not one" in result.stderr
    assert "the tenants-v1 API does not manage Plan objects" in result.stderr
    assert len(request_log(box.db_path)) == before


def test_removed_grants_are_revoked_and_state_machine_enforced(box: Any, tmp_path: Path) -> None:
    specs = copy(tmp_path)
    assert apply(specs, box).exit_code == 0
    tenants = specs / "tenants.yaml"
    tenants.write_text(tenants.read_text().replace(", 9c2e0f33-5d4b-4a6f-9b7c-3d4e5f6a7b8c]", "]"))
    before = len(request_log(box.db_path))
    assert apply(specs, box).exit_code == 0
    [(method, path, status)] = writes(box, before)
    assert method == "POST" and path.endswith("/revoke") and status == 200
    globex = next(t for t in call(box, "GET", "").json()["data"] if t["name"] == "globex")
    assert call(box, "POST", f"/{globex['id']}/resume").status_code == 409  # not suspended


def test_faults_and_small_pages_still_converge(sandbox_factory: SandboxFactory) -> None:
    assert_converges_through_faults(
        sandbox_factory, "tenants-v1", EXAMPLE, FaultConfig(rate=0.2, seed=6, max_page=1)
    )


def write_specs(tmp_path: Path, text: str) -> Path:
    root = tmp_path / "specs"
    root.mkdir(exist_ok=True)
    (root / "t.yaml").write_text(text)
    return root


def test_a_role_without_a_description_is_created_and_plans_empty(box: Any, tmp_path: Path) -> None:
    refused = call(box, "POST", "", json={"name": "probe"}).json()["id"]
    answer = call(box, "POST", f"/{refused}/roles", json={"name": "r", "description": None})
    assert answer.status_code == 400, answer.text  # as strict as the strictest server met
    assert answer.json() == {
        "error": "validation_error",
        "message": "description must be a string",
    }
    specs = write_specs(
        tmp_path,
        "apiVersion: reconciler.dev/v1\nkind: Tenant\nname: initech\n"
        "roles: {auditor: {permissions: [tenants.read]}}\n",
    )
    result = apply(specs, box)
    assert result.exit_code == 0, result.output
    again = run_cli(["plan", str(specs), *target(box), "--detailed-exitcode"], SANDBOX_TOKEN)
    assert again.exit_code == 0, again.output


def test_status_inactive_deactivates_and_activates(box: Any, tmp_path: Path) -> None:
    head = "apiVersion: reconciler.dev/v1\nkind: Tenant\nname: initech\nstatus: "
    specs = write_specs(tmp_path, head + "inactive\n")
    assert apply(specs, box).exit_code == 0  # created, then deactivated
    [initech] = call(box, "GET", "").json()["data"]
    assert initech["status"] == "inactive"
    for status in ("suspended", "inactive", "active"):
        write_specs(tmp_path, head + status + "\n")
        result = apply(specs, box)
        assert result.exit_code == 0, result.output
        [initech] = call(box, "GET", "").json()["data"]
        assert initech["status"] == status
        plan = run_cli(["plan", str(specs), *target(box), "--detailed-exitcode"], SANDBOX_TOKEN)
        assert plan.exit_code == 0, plan.output


def test_a_dialect_without_inactive_refuses_it_in_validate(tmp_path: Path) -> None:
    specs = write_specs(
        tmp_path, "apiVersion: reconciler.dev/v1\nkind: Tenant\nname: initech\nstatus: inactive\n"
    )
    result = run_cli(["validate", str(specs), "--api", "reference"], SANDBOX_TOKEN)
    assert result.exit_code == 1
    assert "t.yaml:4:9: Tenant/initech: status 'inactive' is not one the reference" in (
        result.stderr
    )


def test_export_of_a_deactivated_tenant_plans_no_changes(box: Any, tmp_path: Path) -> None:
    assert apply(EXAMPLE, box).exit_code == 0
    globex = next(t for t in call(box, "GET", "").json()["data"] if t["name"] == "globex")
    assert call(box, "POST", f"/{globex['id']}/deactivate").status_code == 200
    out = tmp_path / "exported"
    result = run_cli(["export", str(out), *target(box)], SANDBOX_TOKEN)
    assert result.exit_code == 0, result.output
    assert "status: inactive" in (out / "tenants.yaml").read_text()
    plan = run_cli(["plan", str(out), *target(box), "--detailed-exitcode"], SANDBOX_TOKEN)
    assert plan.exit_code == 0, plan.output

"""The admin-operators dialect end to end over real HTTP, through the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from reconciler.sandbox.faults import FaultConfig
from tests.conftest import SANDBOX_TOKEN, SandboxFactory, request_log
from tests.integration.helpers import REPO, assert_converges_through_faults, run_cli

EXAMPLE = REPO / "examples" / "admin-operators"
DATA = yaml.safe_load((EXAMPLE / ".sandbox" / "data.yaml").read_text())
HEADER = "apiVersion: reconciler.dev/v1\nkind: Operator\n"


def target(box: Any) -> list[str]:
    return ["--api", "admin-operators", "--url", box.url]


def listing(box: Any) -> dict[str, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    body = httpx.get(box.url + "/admin/operators", headers=headers).json()
    return {o["email"]: o for o in body["operators"]}


def writes(box: Any, since: int = 0) -> list[tuple[str, str, int]]:
    return [r for r in request_log(box.db_path)[since:] if r[0] != "GET"]


@pytest.fixture
def box(sandbox_factory: SandboxFactory) -> Any:
    return sandbox_factory("admin-operators", seed=DATA)


def specs(tmp_path: Path, text: str) -> Path:
    root = tmp_path / "specs"
    root.mkdir(exist_ok=True)
    (root / "ops.yaml").write_text(text)
    return root


def test_example_applies_and_a_second_plan_is_empty(box: Any) -> None:
    applied = run_cli(["apply", str(EXAMPLE), *target(box), "--auto-approve"], SANDBOX_TOKEN)
    assert applied.exit_code == 0, applied.output
    ops = listing(box)
    assert set(ops) == {
        "line-lead@plant.example.com",
        "maintenance@plant.example.com",
        "night-shift@plant.example.com",
    }
    # invited (201) vs promoted (200): the promoted user keeps its name
    assert ops["maintenance@plant.example.com"]["name"] == "Maintenance Team"
    assert ops["line-lead@plant.example.com"]["email_verified"] is False
    log = request_log(box.db_path)
    assert ("POST", "/admin/operators", 201) in log and ("POST", "/admin/operators", 200) in log
    # the former contractor was deactivated: one PATCH, no delete
    assert [w for w in writes(box) if w[0] != "POST"] == [
        ("PATCH", "/admin/operators/3/status", 200)
    ]
    again = run_cli(["plan", str(EXAMPLE), *target(box), "--detailed-exitcode"], SANDBOX_TOKEN)
    assert again.exit_code == 0, again.output


def test_an_admin_account_is_refused_with_the_servers_words(box: Any, tmp_path: Path) -> None:
    root = specs(tmp_path, HEADER + "email: admin@plant.example.com\nstatus: active\n")
    result = run_cli(["apply", str(root), *target(box), "--auto-approve"], SANDBOX_TOKEN)
    assert result.exit_code == 1
    assert (
        "Operator/admin@plant.example.com: POST /admin/operators returned 409: "
        "Admin accounts cannot be converted into operators." in result.stdout
    )


def test_removal_deactivates_then_deletes_in_that_order(box: Any, tmp_path: Path) -> None:
    root = specs(tmp_path, HEADER + "email: keep@plant.example.com\n")
    (root / "reconciler.yaml").write_text(
        "apiVersion: reconciler.dev/v1\nprune: {Operator: delete}\n"
    )
    before = len(request_log(box.db_path))
    result = run_cli(["apply", str(root), *target(box), "--auto-approve"], SANDBOX_TOKEN)
    assert result.exit_code == 0, result.output
    removal = [w for w in writes(box, before) if w[1] != "/admin/operators"]
    # the seeded operator (id 3): deactivate, then delete
    assert removal == [
        ("PATCH", "/admin/operators/3/status", 200),
        ("DELETE", "/admin/operators/3", 200),
    ]
    assert set(listing(box)) == {"keep@plant.example.com"}


def test_the_api_refuses_to_delete_an_active_operator(box: Any) -> None:
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    refused = httpx.delete(box.url + "/admin/operators/3", headers=headers)
    assert refused.status_code == 400
    assert refused.json() == {"error": "Deactivate the operator before deleting the account."}
    missing = httpx.delete(box.url + "/admin/operators/999", headers=headers)
    assert missing.status_code == 404 and missing.json() == {"error": "Operator not found."}


def test_reactivation_invites_again(box: Any, tmp_path: Path) -> None:
    root = specs(
        tmp_path, HEADER + "email: former-contractor@plant.example.com\nstatus: disabled\n"
    )
    assert (
        run_cli(["apply", str(root), *target(box), "--auto-approve"], SANDBOX_TOKEN).exit_code == 0
    )
    assert "former-contractor@plant.example.com" not in listing(box)
    (root / "ops.yaml").write_text(
        HEADER + "email: former-contractor@plant.example.com\nstatus: active\n"
    )
    back = run_cli(["apply", str(root), *target(box), "--auto-approve"], SANDBOX_TOKEN)
    assert back.exit_code == 0, back.output
    assert listing(box)["former-contractor@plant.example.com"]["role"] == "operator"


def test_name_and_role_cannot_be_set_and_nothing_is_called(box: Any, tmp_path: Path) -> None:
    root = specs(tmp_path, HEADER + "email: a@plant.example.com\nname: A\nrole: operator\n")
    result = run_cli(["plan", str(root), *target(box)], SANDBOX_TOKEN)
    assert result.exit_code == 1
    assert "field 'name' cannot be set through the admin-operators API" in result.stderr
    assert "field 'role' cannot be set through the admin-operators API" in result.stderr
    assert f"{root / 'ops.yaml'}:4:" in result.stderr  # where name: was written
    assert request_log(box.db_path) == []


def test_extra_fields_and_faults_still_converge(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    assert_converges_through_faults(
        sandbox_factory,
        "admin-operators",
        EXAMPLE,
        FaultConfig(rate=0.2, seed=3),
        seed={**DATA, "quirks": {"extra_fields": True}},
    )

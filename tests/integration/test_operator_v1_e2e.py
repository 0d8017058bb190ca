"""The operator-v1 dialect end to end over real HTTP, through the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.sandbox.faults import FaultConfig
from tests.conftest import SANDBOX_TOKEN, SandboxFactory, request_log
from tests.integration.helpers import REPO, assert_converges_through_faults, run_cli

EXAMPLE = REPO / "examples" / "operator-v1"
BASE = "/api/v1/operator"


def target(box: Any) -> list[str]:
    return ["--api", "operator-v1", "--url", box.url]


def get(box: Any, path: str) -> Any:
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    return httpx.get(box.url + BASE + path, headers=headers)


def writes(box: Any, since: int = 0) -> list[tuple[str, str, int]]:
    return [r for r in request_log(box.db_path)[since:] if r[0] != "GET"]


@pytest.fixture
def box(sandbox_factory: SandboxFactory) -> Any:
    return sandbox_factory("operator-v1")


def apply(root: Path, box: Any) -> Any:
    return run_cli(["apply", str(root), *target(box), "--auto-approve"], SANDBOX_TOKEN)


def test_example_applies_and_a_second_plan_is_empty(box: Any) -> None:
    result = apply(EXAMPLE, box)
    assert result.exit_code == 0, result.output
    tiers = {t["name"] for t in get(box, "/device-tiers").json()["items"]}
    assert tiers == {"basic", "standard", "premium"}
    log = request_log(box.db_path)
    # device tiers are created before the tier defaults that name them
    first_defaults = next(
        i for i, r in enumerate(log) if r[1].endswith("/tier-defaults") and r[0] == "PUT"
    )
    last_tier = max(i for i, r in enumerate(log) if r[:2] == ("POST", BASE + "/device-tiers"))
    assert last_tier < first_defaults
    again = run_cli(["plan", str(EXAMPLE), *target(box), "--detailed-exitcode"], SANDBOX_TOKEN)
    assert again.exit_code == 0, again.output


def test_a_field_change_is_one_call(box: Any, tmp_path: Path) -> None:
    specs = Path(shutil.copytree(EXAMPLE, tmp_path / "specs"))
    assert apply(specs, box).exit_code == 0
    tiers = specs / "device-tiers.yaml"
    tiers.write_text(tiers.read_text().replace("Standard gateways", "Standard gateways v2"))
    before = len(request_log(box.db_path))
    assert apply(specs, box).exit_code == 0
    [(method, path, status)] = writes(box, before)
    assert method == "PUT" and path.startswith(BASE + "/device-tiers/") and status == 200


def test_operator_removal_is_a_disable_and_a_tenant_delete_works(box: Any, tmp_path: Path) -> None:
    specs = Path(shutil.copytree(EXAMPLE, tmp_path / "specs"))
    assert apply(specs, box).exit_code == 0
    (specs / "tenants" / "contoso.yaml").unlink()
    ops = specs / "operators.yaml"
    ops.write_text(ops.read_text().split("---\n")[0])
    (specs / "reconciler.yaml").write_text(
        "apiVersion: reconciler.dev/v1\nprune: {Tenant: delete, Operator: suspend}\n"
    )
    before = len(request_log(box.db_path))
    result = apply(specs, box)
    assert result.exit_code == 0, result.output
    done = sorted(
        (m, p.rsplit("/", 1)[-1] if m == "POST" else p.split("/")[4])
        for m, p, _ in writes(box, before)
    )
    assert done == [("DELETE", "tenants"), ("POST", "disable")]


def test_flags_and_tenant_status_are_not_in_this_api(box: Any, tmp_path: Path) -> None:
    root = tmp_path / "specs"
    root.mkdir()
    (root / "t.yaml").write_text(
        "apiVersion: reconciler.dev/v1\nkind: Tenant\nname: t\nstatus: suspended\n"
        "features: {sso: true}\n"
    )
    result = run_cli(["plan", str(root), *target(box)], SANDBOX_TOKEN)
    assert result.exit_code == 1
    assert "Tenant/t: field 'status' cannot be set through the operator-v1 API" in result.stderr
    assert "the operator-v1 API does not manage FeatureFlag objects" in result.stderr
    assert request_log(box.db_path) == []
    # and the sandbox serves only the document's routes
    assert get(box, "/feature-flags").status_code == 404


def test_faults_still_converge(sandbox_factory: SandboxFactory) -> None:
    assert_converges_through_faults(
        sandbox_factory, "operator-v1", EXAMPLE, FaultConfig(rate=0.2, seed=5, max_page=2)
    )

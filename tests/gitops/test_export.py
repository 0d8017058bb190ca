"""``reconciler export``: live state → specs that plan to no changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.helpers import api, copy_specs, run_cli, target_args

TRICKY = ["yes", "null", "1.0", "${HOME} and $${x}", "line one\nline two", "<b>@team #1</b>"]


@pytest.fixture
def applied(sandbox: Any, tmp_path: Path) -> Path:
    specs = copy_specs(tmp_path)
    result = run_cli(["apply", str(specs), *target_args(sandbox), "--auto-approve"], sandbox.token)
    assert result.exit_code == 0, result.output
    with api(sandbox) as client:  # objects made by hand, with values YAML reads otherwise
        for i, display in enumerate(TRICKY):
            made = client.post("/tenants", json={"name": f"odd-{i}", "display_name": display})
            assert made.status_code == 201, made.text
    return specs


@pytest.mark.parametrize("layout", ["kind", "tenant"])
def test_export_then_plan_shows_no_changes(
    sandbox: Any, applied: Path, tmp_path: Path, layout: str
) -> None:
    out = tmp_path / f"exported-{layout}"
    result = run_cli(["export", str(out), *target_args(sandbox), "--layout", layout], sandbox.token)
    assert result.exit_code == 0, result.output
    if layout == "tenant":
        assert (out / "tenants" / "acme-eu.yaml").is_file()
        assert "features:" in (out / "tenants" / "acme-eu.yaml").read_text()
    else:
        assert {p.name for p in out.iterdir()} >= {"plans.yaml", "tenants.yaml", "operators.yaml"}
    plan = run_cli(["plan", str(out), *target_args(sandbox), "--detailed-exitcode"], sandbox.token)
    assert plan.exit_code == 0, plan.output
    for path in out.rglob("*.yaml"):
        assert sandbox.token not in path.read_text()


def test_export_refuses_to_overwrite_without_force(
    sandbox: Any, applied: Path, tmp_path: Path
) -> None:
    out = tmp_path / "exported"
    args = ["export", str(out), *target_args(sandbox)]
    assert run_cli(args, sandbox.token).exit_code == 0
    again = run_cli(args, sandbox.token)
    assert again.exit_code == 1 and "refusing to overwrite" in again.stderr
    assert run_cli([*args, "--force"], sandbox.token).exit_code == 0

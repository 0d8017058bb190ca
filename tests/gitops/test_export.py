"""``reconciler export``: live state → specs that plan to no changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.helpers import States, api, copy_specs, run_cli, target_args

TRICKY = ["yes", "null", "1.0", "${HOME} and $${x}", "line one\nline two", "<b>@team #1</b>"]


@pytest.fixture
def applied(sandbox: Any, tmp_path: Path, states: States) -> Path:
    specs = copy_specs(tmp_path)

    def make() -> None:
        args = ["apply", str(specs), *target_args(sandbox), "--auto-approve"]
        result = run_cli(args, sandbox.token)
        assert result.exit_code == 0, result.output
        with api(sandbox) as client:  # objects made by hand, with values YAML reads otherwise
            for i, display in enumerate(TRICKY):
                made = client.post("/tenants", json={"name": f"odd-{i}", "display_name": display})
                assert made.status_code == 201, made.text

    states.made(sandbox, "the starter specs applied, tricky tenants made by hand", make)
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


def test_what_the_spec_cannot_express_is_left_out_with_a_warning(
    sandbox: Any, applied: Path, tmp_path: Path
) -> None:
    """Issue 12: export never writes a spec that does not load. A tenant whose
    name the spec refuses (a bidi control) is left out, and so is its child."""
    with api(sandbox) as client:
        bad = client.post("/tenants", json={"name": "evil\u202ename"})
        assert bad.status_code == 201, bad.text
        child = client.post("/tenants", json={"name": "kid", "parent_id": bad.json()["id"]})
        assert child.status_code == 201, child.text
    out = tmp_path / "exported"
    result = run_cli(["export", str(out), *target_args(sandbox)], sandbox.token)
    assert result.exit_code == 0, result.output
    assert "warning: Tenant 'evil\\u202ename' left out: the spec format cannot" in result.stderr
    assert "warning: Tenant 'kid' left out" in result.stderr  # it names that parent
    written = (out / "tenants.yaml").read_text()
    assert "odd-0" in written and "kid" not in written and "evil" not in written
    plan = run_cli(["plan", str(out), *target_args(sandbox)], sandbox.token)
    assert plan.exit_code == 0, plan.output  # it loads; the two left out are unmanaged


def test_objects_naming_one_left_out_are_left_out_too() -> None:
    from reconciler.export import expressible
    from reconciler.model import Kind

    def doc(kind: str, **fields: Any) -> dict[str, Any]:
        return {"apiVersion": "reconciler.dev/v1", "kind": kind, **fields}

    kept, left = expressible(
        {
            Kind.SUBSCRIPTION_PLAN: [doc("Plan", name="pro", displayName=7)],  # not text
            Kind.TENANT: [
                doc("Tenant", name="a", plan="pro"),
                doc("Tenant", name="b", parent="a"),
                doc("Tenant", name="c"),
            ],
            Kind.OPERATOR: [doc("Operator", email="ops@example.com", tenant="b")],
        }
    )
    assert [(x.kind, x.key) for x in left] == [
        (Kind.SUBSCRIPTION_PLAN, "pro"),
        (Kind.TENANT, "a"),
        (Kind.TENANT, "b"),
        (Kind.OPERATOR, "ops@example.com"),
    ]
    assert "its parent Tenant 'a' is left out" in str(left[2])
    assert kept == {Kind.TENANT: [doc("Tenant", name="c")]}


def test_export_writes_its_target_and_is_byte_identical_when_repeated(
    sandbox: Any, applied: Path, tmp_path: Path
) -> None:
    """Issue 14: the suggested ``reconciler plan DIR`` reads the exported platform
    (not an empty local sandbox), and re-exporting an unchanged platform is no diff."""
    out = tmp_path / "exported"
    first = run_cli(["export", str(out), *target_args(sandbox)], sandbox.token)
    assert first.exit_code == 0, first.output
    config = (out / "reconciler.yaml").read_text()
    assert f"url: {sandbox.url}" in config and "defaultTarget: platform" in config
    assert sandbox.token not in config and "tokenEnv: RECONCILER_TOKEN" in config
    files = {p: p.read_bytes() for p in out.rglob("*.yaml")}
    plan = run_cli(["plan", str(out), "--detailed-exitcode"], sandbox.token)
    assert plan.exit_code == 0, plan.output
    assert sandbox.url in plan.output
    again = run_cli(["export", str(out), *target_args(sandbox), "--force"], sandbox.token)
    assert again.exit_code == 0, again.output
    assert {p: p.read_bytes() for p in out.rglob("*.yaml")} == files

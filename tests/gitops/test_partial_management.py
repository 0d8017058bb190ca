"""Partial management (issue 14): one team's specs on a shared platform, and ``--only``.

A team's spec tree manages its own tenant and refers to a plan and a parent
tenant the platform team manages: declared external (``managed: false``, or
``external:`` in reconciler.yaml), they are checked live and never changed.
``--only KIND/NAME`` plans and applies one object and what it needs, and says
what it left out. Against the reference sandbox over HTTP; the request log
shows what was written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler import core
from reconciler.engine.graph import dependencies
from reconciler.engine.planner import Planner
from reconciler.engine.select import narrow
from reconciler.errors import PlanError
from reconciler.model import Action, Kind, Resource, ResourceId, State
from reconciler.rules import Rules
from tests.integration.helpers import api, requests, run_cli, target_args, writes

HEAD = "apiVersion: reconciler.dev/v1\n"
BASE = "/api/v1/operator"

PLATFORM = {
    "platform.yaml": f"""{HEAD}kind: Plan
name: enterprise
displayName: Enterprise
---
{HEAD}kind: Tenant
name: holding
displayName: Holding
plan: enterprise
features: {{audit: true}}
---
{HEAD}kind: Tenant
name: other-team
plan: enterprise
"""
}
"""What the platform team manages (applied first, from its own tree)."""

TEAM = {
    "external.yaml": f"{HEAD}kind: Plan\nname: enterprise\nmanaged: false\n",
    "acme.yaml": f"""{HEAD}kind: Tenant
name: acme
displayName: Acme
plan: enterprise
parent: holding
features: {{sso: true}}
""",
    "reconciler.yaml": f"{HEAD}external: [Tenant/holding]\n",
}
"""One team's tree: its tenant, on the platform's plan, under the platform's tenant."""


def tree(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def with_platform(sandbox: Any, tmp_path: Path) -> int:
    """The platform team's objects live; the number of requests so far (for ``writes``)."""
    platform = tree(tmp_path / "platform", PLATFORM)
    applied = run_cli(
        ["apply", str(platform), *target_args(sandbox), "--auto-approve"], sandbox.token
    )
    assert applied.exit_code == 0, applied.output
    return len(requests(sandbox.db_path))


def live(sandbox: Any) -> dict[str, dict[str, Any]]:
    """Every plan and tenant by name, as the API has them."""
    with api(sandbox) as client:
        found = {}
        for path in ("/plans", "/tenants"):
            for item in client.get(path, params={"limit": 100}).json()["items"]:
                found[f"{path[1:-1]}/{item['name']}"] = item
        return found


def planned(result: Any) -> list[str]:
    """The change ids of a ``plan --format json`` run, in order."""
    assert result.exit_code == 0, result.output
    return [c["id"] for c in json.loads(result.stdout)["changes"]]


def library_plan(sandbox: Any, specs: Path, monkeypatch: pytest.MonkeyPatch) -> core.PlanRun:
    monkeypatch.setenv("RECONCILER_TOKEN", sandbox.token)
    return core.plan(specs, core.TargetChoice(dialect=sandbox.dialect, url=sandbox.url))


# ---- external references ------------------------------------------------------------------


def test_a_team_tree_plans_and_applies_only_its_tenant_beside_external_objects(
    sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = with_platform(sandbox, tmp_path)
    platform = live(sandbox)
    specs = tree(tmp_path / "team", TEAM)
    args = [str(specs), *target_args(sandbox)]

    as_json = run_cli(["plan", *args, "--format", "json"], sandbox.token)
    assert planned(as_json) == ["Tenant/acme", "FeatureFlag/acme/sso"]
    reported = json.loads(as_json.stdout)["external"]
    assert [(e["id"], e["status"]) for e in reported] == [
        ("Plan/enterprise", "exists"),
        ("Tenant/holding", "exists"),
    ]
    as_text = run_cli(["plan", *args], sandbox.token).stdout
    assert "external: Plan/enterprise (exists; never changed)" in as_text
    checked = library_plan(sandbox, specs, monkeypatch).plan.external
    plan_id, holding_id = (
        ResourceId(Kind.SUBSCRIPTION_PLAN, "enterprise"),
        ResourceId(Kind.TENANT, "holding"),
    )
    assert [(str(r), e.status) for r, e in checked.items()] == [
        ("Plan/enterprise", "exists"),
        ("Tenant/holding", "exists"),
    ]
    assert str(checked[plan_id].declared) == f"{specs / 'external.yaml'}:1:1"
    assert str(checked[holding_id].declared) == f"{specs / 'reconciler.yaml'}:2:12"
    assert [str(r) for r in checked[holding_id].referrers] == [
        f"Tenant/acme ('parent' at {specs / 'acme.yaml'}:6:9)"
    ]

    applied = run_cli(["apply", *args, "--auto-approve"], sandbox.token)
    assert applied.exit_code == 0, applied.output
    assert "2 applied, 0 failed" in applied.stdout
    acme = live(sandbox)["tenant/acme"]
    assert [(m, p) for m, p, _ in writes(sandbox.db_path, before)] == [
        ("POST", f"{BASE}/tenants"),
        ("POST", f"{BASE}/tenants/{acme['id']}/feature-flags"),
    ], "nothing but the team's own tenant is written"
    after = live(sandbox)
    assert {k: v for k, v in after.items() if k != "tenant/acme"} == platform
    assert acme["parent_id"] == platform["tenant/holding"]["id"]

    again = run_cli(["plan", *args, "--detailed-exitcode"], sandbox.token)
    assert again.exit_code == 0, again.output
    assert "No changes" in again.stdout


def test_an_external_object_missing_live_is_an_error_naming_where_it_was_declared(
    sandbox: Any, tmp_path: Path
) -> None:
    before = with_platform(sandbox, tmp_path)
    files = dict(TEAM)
    files["external.yaml"] = f"{HEAD}kind: Plan\nname: gold\nmanaged: false\n"
    files["acme.yaml"] = TEAM["acme.yaml"].replace("plan: enterprise", "plan: gold")
    files["reconciler.yaml"] = f"{HEAD}external: [Tenant/holding, Tenant/ghost]\n"
    specs = tree(tmp_path / "team", files)

    for command in (["plan"], ["apply", "--auto-approve"]):
        result = run_cli([*command, str(specs), *target_args(sandbox)], sandbox.token)
        assert result.exit_code == 1, result.output
        assert (
            f"Plan/gold is declared external at {specs / 'external.yaml'}:1:1 but does not "
            "exist on the target"
        ) in result.stderr
        assert f"referred to by Tenant/acme ('plan' at {specs / 'acme.yaml'}:5:7)" in result.stderr
        assert (
            f"Tenant/ghost is declared external at {specs / 'reconciler.yaml'}:2:28"
        ) in result.stderr
        assert "Traceback" not in result.output
    assert writes(sandbox.db_path, before) == [], "refused before any write"


def test_a_target_s_external_list_holds_for_that_target_only(sandbox: Any, tmp_path: Path) -> None:
    before = with_platform(sandbox, tmp_path)
    files = dict(TEAM)
    files["reconciler.yaml"] = (
        f"{HEAD}targets:\n  shared:\n    api: reference\n    url: {sandbox.url}\n"
        "    external: [Tenant/holding]\n"
    )
    specs = tree(tmp_path / "team", files)
    chosen = run_cli(["plan", str(specs), "-t", "shared", "--format", "json"], sandbox.token)
    assert planned(chosen) == ["Tenant/acme", "FeatureFlag/acme/sso"]
    one_off = run_cli(["plan", str(specs), *target_args(sandbox)], sandbox.token)
    assert one_off.exit_code == 1
    assert (
        f"Tenant/acme ('parent' at {specs / 'acme.yaml'}:6:9) refers to Tenant/holding, which "
        "is neither in the specs nor declared external for this target"
    ) in one_off.stderr
    assert writes(sandbox.db_path, before) == []


def test_prune_policies_never_touch_external_objects_nor_what_they_own(
    sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plan/enterprise is never planned for deletion (the reference API cannot delete plans:
    such a plan would be refused), Tenant/holding and its flag stay; an unmanaged tenant goes.
    Applied from a saved plan, whose verifying re-read holds to the same declarations."""
    before = with_platform(sandbox, tmp_path)
    files = dict(TEAM)
    files["reconciler.yaml"] = (
        f"{HEAD}external: [Tenant/holding]\n"
        "prune: {Plan: delete, Tenant: delete, FeatureFlag: delete}\n"
    )
    specs = tree(tmp_path / "team", files)
    args = [str(specs), *target_args(sandbox)]
    assert planned(run_cli(["plan", *args, "--format", "json"], sandbox.token)) == [
        "Tenant/other-team",
        "Tenant/acme",
        "FeatureFlag/acme/sso",
    ]
    run = library_plan(sandbox, specs, monkeypatch)
    deleted = [str(c.id) for c in run.plan.changes if c.action is Action.DELETE]
    assert deleted == ["Tenant/other-team"], "the policy is on, and spares the externals"
    assert "Plan/enterprise" in {str(r) for r in run.plan.external}

    holding = live(sandbox)["tenant/holding"]
    other_id = live(sandbox)["tenant/other-team"]["id"]
    out = tmp_path / "plan.json"
    assert run_cli(["plan", *args, "--out", str(out)], sandbox.token).exit_code == 0
    saved = json.loads(out.read_text())
    assert {"Plan/enterprise"} == {d["id"] for d in saved["desired"] if d.get("managed") is False}
    assert list(saved["target"]["external"]) == ["Tenant/holding"]
    applied = run_cli(["apply", str(out), "--auto-approve"], sandbox.token)
    assert applied.exit_code == 0, applied.output
    assert "Verified" in applied.stdout
    after = live(sandbox)
    assert "plan/enterprise" in after and after["tenant/holding"] == holding
    assert "tenant/other-team" not in after
    deletes = [p for m, p, _ in writes(sandbox.db_path, before) if m == "DELETE"]
    assert deletes == [f"{BASE}/tenants/{other_id}"]
    with api(sandbox) as client:
        flags = client.get(f"/tenants/{holding['id']}/feature-flags").json()["items"]
    assert [(f["key"], f["enabled"]) for f in flags] == [("audit", True)]


# ---- --only ---------------------------------------------------------------------------------

SEVERAL = {
    "plans.yaml": f"{HEAD}kind: Plan\nname: gold\ndisplayName: Gold\n",
    "tenants.yaml": f"""{HEAD}kind: Tenant
name: parent-co
---
{HEAD}kind: Tenant
name: x
plan: gold
parent: parent-co
features: {{sso: true}}
---
{HEAD}kind: Tenant
name: x-child
parent: x
---
{HEAD}kind: Tenant
name: y
""",
    "operators.yaml": f"{HEAD}kind: Operator\nemail: ops@x.example\nrole: operator\ntenant: x\n",
}
"""A tree with several pending changes: x needs gold and parent-co; x-child and the
operator wait for x; y is unrelated."""


def test_only_plans_and_applies_one_object_and_what_it_needs(sandbox: Any, tmp_path: Path) -> None:
    specs = tree(tmp_path / "specs", SEVERAL)
    args = [str(specs), *target_args(sandbox), "--only", "Tenant/x"]
    shown = run_cli(["plan", *args, "--format", "json"], sandbox.token)
    assert planned(shown) == ["Plan/gold", "Tenant/parent-co", "Tenant/x", "FeatureFlag/x/sso"]
    warning = shown.stderr
    assert (
        "--only Tenant/x (with what it needs: Plan/gold, Tenant/parent-co): 3 other changes "
        "pending are not shown, and the rest of the specs was not checked"
    ) in warning
    assert "run a full plan" in warning
    assert (
        "--only left out changes that wait for the selection: "
        "Tenant/x-child, Operator/ops@x.example"
    ) in warning

    applied = run_cli(["apply", *args, "--auto-approve"], sandbox.token)
    assert applied.exit_code == 0, applied.output
    assert "4 applied, 0 failed" in applied.stdout
    assert "Verified for --only Tenant/x: a re-read matches the specs there" in applied.stdout
    assert "--only Tenant/x (with what it needs" in applied.stderr
    names = set(live(sandbox))
    assert names == {"plan/gold", "tenant/parent-co", "tenant/x"}
    posted = [p for m, p, _ in writes(sandbox.db_path)]
    assert posted.count(f"{BASE}/tenants") == 2 and f"{BASE}/users" not in posted

    rest = run_cli(["plan", str(specs), *target_args(sandbox), "--format", "json"], sandbox.token)
    assert planned(rest) == ["Tenant/x-child", "Tenant/y", "Operator/ops@x.example"]


def test_only_an_unknown_object_is_an_error_with_what_was_meant(
    sandbox: Any, tmp_path: Path
) -> None:
    specs = tree(tmp_path / "specs", SEVERAL)
    args = [str(specs), *target_args(sandbox)]
    for command in (["plan"], ["apply", "--auto-approve"]):
        unknown = run_cli([*command, *args, "--only", "Tenant/x-chld"], sandbox.token)
        assert unknown.exit_code == 1
        assert (
            "--only Tenant/x-chld: no such object in the specs or on the target "
            "(did you mean 'Tenant/x-child'?)"
        ) in unknown.stderr
        kind = run_cli([*command, *args, "--only", "Tenat/x"], sandbox.token)
        assert kind.exit_code == 1 and "(did you mean 'Tenant'?)" in kind.stderr
    assert writes(sandbox.db_path) == []


def test_only_an_external_object_is_refused(sandbox: Any, tmp_path: Path) -> None:
    with_platform(sandbox, tmp_path)
    specs = tree(tmp_path / "team", TEAM)
    result = run_cli(
        ["plan", str(specs), *target_args(sandbox), "--only", "Plan/enterprise"], sandbox.token
    )
    assert result.exit_code == 1
    assert "--only Plan/enterprise: it is declared external" in result.stderr


def test_only_includes_a_removal_when_the_object_named_is_the_one_pruned(
    sandbox: Any, tmp_path: Path
) -> None:
    before = with_platform(sandbox, tmp_path)
    files = dict(TEAM)
    files["reconciler.yaml"] = f"{HEAD}external: [Tenant/holding]\nprune: {{Tenant: delete}}\n"
    specs = tree(tmp_path / "team", files)
    args = [str(specs), *target_args(sandbox)]
    acme_only = run_cli(["plan", *args, "--only", "Tenant/acme", "--format", "json"], sandbox.token)
    assert planned(acme_only) == ["Tenant/acme", "FeatureFlag/acme/sso"]
    pruned = run_cli(
        ["apply", *args, "--only", "Tenant/other-team", "--auto-approve"], sandbox.token
    )
    assert pruned.exit_code == 0, pruned.output
    assert [m for m, _, _ in writes(sandbox.db_path, before)] == ["DELETE"]


def test_a_saved_plan_with_only_applies_exactly_its_selection(sandbox: Any, tmp_path: Path) -> None:
    specs = tree(tmp_path / "specs", SEVERAL)
    out = tmp_path / "plan.json"
    made = run_cli(
        ["plan", str(specs), *target_args(sandbox), "--only", "Tenant/y", "--out", str(out)],
        sandbox.token,
    )
    assert made.exit_code == 0, made.output
    saved = json.loads(out.read_text())
    assert saved["plan"]["selection"]["only"] == ["Tenant/y"]
    assert [c["id"] for c in saved["plan"]["changes"]] == ["Tenant/y"]
    assert len(saved["plan"]["selection"]["left_out"]) == 6

    other = run_cli(["apply", str(out), "--only", "Tenant/x", "--auto-approve"], sandbox.token)
    assert other.exit_code == 1
    assert "is applied exactly as it was planned (--only Tenant/y); drop --only" in other.stderr
    assert writes(sandbox.db_path) == []

    applied = run_cli(["apply", str(out), "--auto-approve"], sandbox.token)
    assert applied.exit_code == 0, applied.output
    assert "1 applied, 0 failed" in applied.stdout
    assert "Verified for --only Tenant/y: a re-read matches the specs there" in applied.stdout
    assert "--only Tenant/y: 6 other changes pending are not shown" in applied.stderr
    assert set(live(sandbox)) == {"tenant/y"}
    assert [(m, p) for m, p, _ in writes(sandbox.db_path)] == [("POST", f"{BASE}/tenants")]


# ---- the engine alone -----------------------------------------------------------------------

T, P = Kind.TENANT, Kind.SUBSCRIPTION_PLAN


def test_a_change_on_an_external_object_waits_for_nothing_and_base_specs_do_not_error() -> None:
    """No edge to an external object (it has no change); planned against base specs that lack
    it (``--base``), the plan is made and only says it is missing."""
    enterprise = Resource(ResourceId(P, "enterprise"), {}, managed=False)
    acme = Resource(ResourceId(T, "acme"), {"plan": "enterprise"})
    desired = State([enterprise, acme])
    plan = Planner().plan(desired, State())
    assert [(c.action, str(c.id)) for c in plan.changes] == [(Action.CREATE, "Tenant/acme")]
    assert not plan.external[enterprise.id].exists
    assert dependencies(plan.changes) == {acme.id: set()}


def test_only_refuses_to_leave_out_a_removal_a_selected_removal_waits_for() -> None:
    old = Resource(ResourceId(T, "old"), {"status": "active"})
    child = Resource(ResourceId(T, "kid"), {"parent": "old", "status": "active"})
    plan = Planner(Rules(prune={T: "delete"})).plan(State(), State([old, child]))
    assert [str(c.id) for c in plan.changes] == ["Tenant/kid", "Tenant/old"]
    with pytest.raises(PlanError, match="--only: Tenant/old must wait for Tenant/kid"):
        narrow(plan, [old.id], State(), State([old, child]))
    both = narrow(plan, [old.id, child.id], State(), State([old, child]))
    assert [str(c.id) for c in both.changes] == ["Tenant/kid", "Tenant/old"]


def test_a_plan_keeps_its_external_checks_and_selection_through_a_plan_file() -> None:
    from reconciler.planfile import dump_plan, load_plan

    enterprise = Resource(ResourceId(P, "enterprise"), {}, managed=False)
    acme = Resource(ResourceId(T, "acme"), {"plan": "enterprise", "display_name": "A"})
    beta = Resource(ResourceId(T, "beta"), {"parent": "acme"})
    on_platform = Resource(enterprise.id, {"display_name": "Enterprise"}, server={"id": "p1"})
    desired, live_state = State([enterprise, acme, beta]), State([on_platform])
    plan = narrow(Planner().plan(desired, live_state), [acme.id], desired, live_state)
    assert plan.selection is not None and plan.selection.dependents == (beta.id,)
    assert plan.external[enterprise.id].referrers[0].id == acme.id
    assert load_plan(json.loads(json.dumps(dump_plan(plan)))) == plan

"""The planner: the one way a plan is made, shaped by rules and by declared capabilities.

What used to be patched onto a plan after the fact (creates already met by
absence, sensitive values masked) is the planner's own work, so every plan —
main, both halves of ``--base``, verification, bench — gets it.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from reconciler.engine.planner import SENSITIVE, Planner, PlannerCapabilities
from reconciler.model import Action, Change, Kind, Resource, ResourceId, State
from reconciler.providers import provider_class
from reconciler.rules import Rules

T, OP, F = Kind.TENANT, Kind.OPERATOR, Kind.FEATURE_FLAG


def res(kind: Kind, key: str, server_id: str | None = None, **fields: Any) -> Resource:
    return Resource(ResourceId(kind, key), fields, server={"id": server_id} if server_id else {})


def test_capabilities_are_read_from_what_a_provider_declares() -> None:
    caps = PlannerCapabilities.of(provider_class("admin-operators"))
    assert caps.absent_is_inactive == frozenset({OP})
    iaas = PlannerCapabilities.of(provider_class("iaas-v1"))
    assert iaas.sensitive[OP] == frozenset({"wireguard_pubkey"})
    assert iaas.admin_role == "operator"
    assert PlannerCapabilities.of(provider_class("reference")).unaddressable is not None


def test_an_inactive_object_the_api_never_lists_is_already_met() -> None:
    desired = State([res(OP, "gone@x.io", status="disabled"), res(OP, "new@x.io", name="N")])
    planner = Planner(capabilities=PlannerCapabilities(absent_is_inactive=frozenset({OP})))
    plan = planner.plan(desired, State())
    assert [str(c.id) for c in plan.changes] == ["Operator/new@x.io"]
    assert plan.unchanged == [ResourceId(OP, "gone@x.io")]
    assert Planner().plan(desired, State()).summary()[Action.CREATE] == 2


def test_sensitive_values_never_reach_a_plan() -> None:
    desired = State([res(OP, "a@x.io", wireguard_pubkey="NEW", name="A")])
    live = State([res(OP, "a@x.io", "1", wireguard_pubkey="OLD", name="B")])
    caps = PlannerCapabilities(sensitive={OP: frozenset({"wireguard_pubkey"})})
    [change] = Planner(capabilities=caps).plan(desired, live).changes
    shown = {fc.path: (fc.old, fc.new) for fc in change.fields}
    assert shown == {"name": ("B", "A"), "wireguard_pubkey": (SENSITIVE, SENSITIVE)}
    assert change.desired is not None and change.desired.fields["wireguard_pubkey"] == "NEW"


def test_a_change_the_api_cannot_address_is_noted_not_planned() -> None:
    live = State([res(T, "bad", "../x")])
    desired = State([res(T, "bad"), res(F, "bad/sso", tenant="bad", flag="sso", enabled=True)])

    def through_parent(change: Change, live: State) -> str | None:
        assert change.desired is not None
        parent = live.get(ResourceId(T, str(change.desired.fields["tenant"])))
        return "its tenant's id holds '/'" if parent and "/" in str(parent.server_id) else None

    plan = Planner(capabilities=PlannerCapabilities(unaddressable=through_parent)).plan(
        desired, live
    )
    flag = ResourceId(F, "bad/sso")
    assert plan.changes == [] and plan.unsafe == {flag: "its tenant's id holds '/'"}
    assert plan.notes[flag].startswith("cannot be managed safely")


def test_rules_hold_in_every_plan_the_planner_makes() -> None:
    """The --base split plans base → PR and base → live with the same planner."""
    rules = Rules(ignore_fields={T: frozenset({"display_name"})}, prune={T: "suspend"})
    planner = Planner(rules)
    base = State([res(T, "a", display_name="A"), res(T, "b", display_name="B")])
    pr = State([res(T, "a", display_name="A2")])
    live = State([res(T, "a", "1", display_name="by hand"), res(T, "b", "2", status="active")])
    pr_changes = planner.plan(pr, base)
    assert [(str(c.id), c.action) for c in pr_changes.changes] == [("Tenant/b", Action.SUSPEND)]
    drift = planner.plan(base, live)
    assert drift.changes == []
    assert drift.ignored == {ResourceId(T, k): ["display_name"] for k in ("a", "b")}


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("reconciler.spec", ("reconciler.engine", "reconciler.providers", "reconciler.journal")),
        ("reconciler.rules", ("reconciler.engine", "reconciler.spec", "reconciler.providers")),
        (
            "reconciler.engine",
            ("reconciler.engine.executor", "reconciler.providers", "reconciler.journal"),
        ),
    ],
)
def test_light_modules_import_nothing_heavy(module: str, forbidden: tuple[str, ...]) -> None:
    code = (
        f"import sys, {module}\n"
        f"print('\\n'.join(m for m in sys.modules if m.startswith({forbidden!r})))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert loaded == [], f"importing {module} loads {loaded}"

"""Destructive is a property of the change, not of the section it is shown in.

A suspension, a deletion, a status moved to an inactive state by any action
(``null → "suspended"`` in a ``--base`` split) and a demotion down the
dialect's role order are marked ⚠️, listed first and counted once, wherever
they appear; a promotion is not a demotion.
"""

from __future__ import annotations

import json

import pytest

from reconciler.engine.planner import Planner, PlannerCapabilities
from reconciler.model import Action, Change, FieldChange, Kind, Resource, ResourceId, State
from reconciler.providers.iaas_v1 import IaasProvider
from reconciler.providers.reference import ReferenceProvider
from reconciler.report import json_report
from reconciler.report.markdown import build_report
from reconciler.rules import Rules

REFERENCE = Planner(capabilities=PlannerCapabilities.of(ReferenceProvider))


def res(kind: Kind, key: str, **fields: object) -> Resource:
    return Resource(ResourceId(kind, key), dict(fields), server={"id": key})


def one(planner: Planner, desired: list[Resource], live: list[Resource]) -> Change:
    plan = planner.plan(State(desired), State(live))
    assert len(plan.changes) == 1, plan.changes
    return plan.changes[0]


def test_a_suspension_the_base_specs_never_set_is_destructive() -> None:
    """``--base``: the branch adds ``status: suspended`` where the base had no status."""
    change = one(
        Planner(),
        [res(Kind.TENANT, "globex", status="suspended")],
        [res(Kind.TENANT, "globex")],
    )
    assert change.action is Action.UPDATE  # what the diff of two spec trees says...
    assert change.fields == [FieldChange("status", None, "suspended")]
    assert change.deactivates and change.is_destructive and change.is_risky  # ...is a suspension


@pytest.mark.parametrize(
    ("kind", "before", "after", "destructive"),
    [
        (Kind.TENANT, "suspended", "inactive", True),  # deeper out of service
        (Kind.OPERATOR, None, "disabled", True),
        (Kind.OPERATOR, "pending", "disabled", True),
        (Kind.TENANT, None, "active", False),
        (Kind.TENANT, "inactive", "suspended", True),
    ],
)
def test_any_move_to_an_inactive_state_is_destructive(
    kind: Kind, before: object, after: str, destructive: bool
) -> None:
    live = res(kind, "x") if before is None else res(kind, "x", status=before)
    change = one(Planner(), [res(kind, "x", status=after)], [live])
    assert change.is_destructive is destructive


def test_creating_an_object_suspended_is_not_destructive() -> None:
    change = one(Planner(), [res(Kind.TENANT, "new", status="suspended")], [])
    assert change.action is Action.CREATE and not change.is_risky


def test_a_protected_object_is_not_suspended_through_an_update_either() -> None:
    want = res(Kind.TENANT, "acme", status="suspended")
    want.protect = True
    plan = Planner().plan(State([want]), State([res(Kind.TENANT, "acme")]))
    assert plan.changes == [] and "Tenant/acme is protected" in plan.protected[0]


def test_the_role_order_comes_from_the_dialect() -> None:
    assert PlannerCapabilities.of(ReferenceProvider).role_order == ("operator", "operator-admin")
    assert PlannerCapabilities.of(IaasProvider).role_order == ("member", "operator")


@pytest.mark.parametrize(
    ("planner", "before", "after", "demotion"),
    [
        (REFERENCE, "operator-admin", "operator", True),
        (REFERENCE, "operator", "operator-admin", False),  # a promotion
        (Planner(capabilities=PlannerCapabilities.of(IaasProvider)), "operator", "member", True),
        (Planner(capabilities=PlannerCapabilities.of(IaasProvider)), "member", "operator", False),
        (REFERENCE, "auditor", "operator", False),  # from a role the API does not order
        (REFERENCE, "operator", "auditor", True),  # to one: below every known role
        (Planner(), "operator-admin", "operator", False),  # no order known: no guess
    ],
)
def test_a_demotion_goes_down_the_role_order_and_a_promotion_is_not_one(
    planner: Planner, before: str, after: str, demotion: bool
) -> None:
    change = one(
        planner,
        [res(Kind.OPERATOR, "a@x.io", role=after)],
        [res(Kind.OPERATOR, "a@x.io", role=before)],
    )
    assert change.demotion is demotion and change.is_risky is demotion
    assert not change.is_destructive  # not a removal: no guard, no protect refusal


def test_the_report_marks_and_counts_each_destructive_change_once() -> None:
    """The ``--base`` split: a suspension in the PR, a demotion and a delete in the drift.
    Apply would make 3 destructive changes; the report says 3, not 6 (sections added up)."""
    base = State(
        [
            res(Kind.TENANT, "globex"),
            res(Kind.TENANT, "acme", display_name="Acme"),
            res(Kind.OPERATOR, "a@x.io", role="operator"),
        ]
    )
    branch = State(
        [
            res(Kind.TENANT, "globex", status="suspended"),
            res(Kind.TENANT, "acme", display_name="Acme Group"),
            res(Kind.OPERATOR, "a@x.io", role="operator"),
        ]
    )
    live = State(
        [
            res(Kind.TENANT, "globex", status="active"),
            res(Kind.TENANT, "acme", display_name="Acme", status="active"),
            res(Kind.TENANT, "stray", status="active"),
            res(Kind.OPERATOR, "a@x.io", role="operator-admin"),  # promoted by hand
        ]
    )
    planner = Planner(Rules(prune={Kind.TENANT: "delete"}), REFERENCE.capabilities)
    plan = planner.plan(branch, live)
    drift = planner.plan(base, live)
    pr = planner.plan(branch, base)
    assert sum(c.is_risky for c in pr.changes + drift.changes + plan.changes) == 6
    text = build_report(
        title="plan", target="t", specs="s", plan=plan, pr_changes=pr, drift=drift, base="main"
    ).render()
    assert "**Apply on merge would make 3 destructive change(s)**" in text
    pr_part, rest = text.split("### Drift already on the live platform")
    assert "| Tenant |  | 1 | 1 |  |  | " in pr_part  # the table counts it as a suspension
    assert pr_part.index("⚠️ <code>~ Tenant/globex will be updated in place (deactivation") < (
        pr_part.index("<code>~ Tenant/acme will be updated")
    )
    drift_part = rest.split("### Apply on merge")[0]
    assert drift_part.count("⚠️") == 2
    assert "⚠️ <code>- Tenant/stray will be deleted" in drift_part
    assert (
        '⚠️ <code>~ Operator/a@&#8203;x.io will be updated in place (demotion: role "operator-admin"'
        in drift_part
    )


def test_json_reports_say_which_changes_are_destructive() -> None:
    live = [res(Kind.OPERATOR, "a@x.io", role="operator-admin"), res(Kind.TENANT, "t")]
    desired = [
        res(Kind.OPERATOR, "a@x.io", role="operator"),
        res(Kind.TENANT, "t", status="suspended"),
    ]
    plan = REFERENCE.plan(State(desired), State(live))
    document = json.loads(json_report.dumps(json_report.plan_dict(plan, {})))
    assert {c["id"]: c["destructive"] for c in document["changes"]} == {
        "Tenant/t": True,
        "Operator/a@x.io": True,
    }
    assert document["summary"]["destructive"] == 2

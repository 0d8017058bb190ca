"""Planner.plan() and change_support_problems(): ordered changes, counts, unsupported actions."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from reconciler.engine.plan import Plan, change_support_problems
from reconciler.engine.planner import Planner
from reconciler.model import Action, Change, Kind, Resource, ResourceId, State
from reconciler.providers.base import ApplyContext, Capabilities, KindSupport, Provider
from reconciler.rules import Rules

T, P, TD, F, OP = (
    Kind.TENANT,
    Kind.SUBSCRIPTION_PLAN,
    Kind.TIER_DEFAULTS,
    Kind.FEATURE_FLAG,
    Kind.OPERATOR,
)


def res(kind: Kind, key: str, **fields: Any) -> Resource:
    return Resource(ResourceId(kind, key), fields)


class LimitedProvider(Provider):
    """Tenants can be created and updated, nothing else."""

    capabilities = Capabilities(
        dialect="limited",
        title="test",
        supports={
            T: KindSupport(frozenset({Action.CREATE, Action.UPDATE}), frozenset({"status"})),
            P: KindSupport(frozenset({Action.CREATE}), frozenset()),
        },
    )

    def __init__(self) -> None:
        pass

    async def read(self, kinds: Collection[Kind]) -> State:
        return State()

    async def apply(self, change: Change, ctx: ApplyContext) -> Resource | None:
        return None


def test_planner_orders_counts_and_summarises() -> None:
    desired = State(
        [res(T, "acme", plan="gold"), res(P, "gold", display_name="Gold"), res(T, "same")]
    )
    live = State([res(T, "same"), res(OP, "stray@x", status="active"), res(OP, "keep@x")])
    plan = Planner(Rules(prune={OP: "delete"})).plan(desired, live)
    # removals first (reviewed first, and they free names), then forward changes
    assert [str(c.id) for c in plan.changes] == [
        "Operator/keep@x",
        "Operator/stray@x",
        "Plan/gold",
        "Tenant/acme",
    ]
    assert [c.action for c in plan.changes] == [Action.DELETE] * 2 + [Action.CREATE] * 2
    assert plan.unchanged == [ResourceId(T, "same")]
    assert plan.unmanaged == []
    assert plan.desired_counts == {P: 1, T: 2}
    assert plan.live_counts == {T: 1, OP: 2}
    assert plan.summary() == {
        Action.CREATE: 2,
        Action.UPDATE: 0,
        Action.SUSPEND: 0,
        Action.RESUME: 0,
        Action.DELETE: 2,
        Action.NOOP: 1,
    }
    assert plan.has_changes
    assert [str(c.id) for c in plan.destructive] == ["Operator/keep@x", "Operator/stray@x"]


def test_empty_plan_has_no_changes() -> None:
    plan = Planner().plan(State([res(T, "a")]), State([res(T, "a")]))
    assert not plan.has_changes
    assert plan.summary()[Action.NOOP] == 1


def test_change_support_problems_name_resource_action_and_dialect() -> None:
    plan = Plan(
        changes=[
            Change(Action.CREATE, ResourceId(P, "gold")),
            Change(Action.DELETE, ResourceId(T, "old")),
            Change(Action.CREATE, ResourceId(F, "a/b")),
        ]
    )
    problems = change_support_problems(plan, LimitedProvider())
    assert len(problems) == 2
    assert "Tenant/old" in problems[0] and "delete" in problems[0] and "limited" in problems[0]
    assert "FeatureFlag/a/b" in problems[1] and "create" in problems[1]


def test_change_support_problems_know_what_a_lifecycle_create_needs() -> None:
    plan = Planner().plan(State([res(T, "sleepy", status="suspended")]), State())
    problems = change_support_problems(plan, LimitedProvider())
    assert problems == [
        "Tenant/sleepy: the limited API cannot suspend Tenant objects (planned: create)"
    ]

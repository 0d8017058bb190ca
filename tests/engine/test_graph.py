"""Ordering: references first for forward changes, referrers first for removals."""

from __future__ import annotations

import random
from typing import Any

import pytest

from reconciler.engine.graph import dependencies, order
from reconciler.errors import PlanError
from reconciler.model import Action, Change, Kind, Resource, ResourceId

T, P, TD, F, OP = (
    Kind.TENANT,
    Kind.SUBSCRIPTION_PLAN,
    Kind.TIER_DEFAULTS,
    Kind.FEATURE_FLAG,
    Kind.OPERATOR,
)


def rid(kind: Kind, key: str) -> ResourceId:
    return ResourceId(kind, key)


def fwd(action: Action, kind: Kind, key: str, **fields: Any) -> Change:
    return Change(action, rid(kind, key), desired=Resource(rid(kind, key), fields))


def gone(action: Action, kind: Kind, key: str, **fields: Any) -> Change:
    return Change(action, rid(kind, key), live=Resource(rid(kind, key), fields))


def names(changes: list[Change]) -> list[str]:
    return [str(c.id) for c in changes]


def test_creates_follow_references() -> None:
    changes = [
        fwd(Action.CREATE, OP, "op@x", tenant="acme"),
        fwd(Action.CREATE, F, "acme/beta", tenant="acme", flag="beta"),
        fwd(Action.CREATE, T, "child", parent="acme", plan="gold"),
        fwd(Action.CREATE, T, "acme", plan="gold"),
        fwd(Action.CREATE, TD, "gold"),
        fwd(Action.CREATE, P, "gold"),
    ]
    deps = dependencies(changes)
    assert deps[rid(T, "acme")] == {rid(P, "gold"), rid(TD, "gold")}
    assert deps[rid(T, "child")] == {rid(P, "gold"), rid(TD, "gold"), rid(T, "acme")}
    assert deps[rid(F, "acme/beta")] == {rid(T, "acme")}
    assert deps[rid(TD, "gold")] == {rid(P, "gold")}
    assert deps[rid(P, "gold")] == set()
    assert names(order(changes)) == [
        "Plan/gold",
        "TierDefaults/gold",
        "Tenant/acme",
        "Tenant/child",
        "FeatureFlag/acme/beta",
        "Operator/op@x",
    ]


def test_child_before_parent_even_when_key_sorts_first() -> None:
    changes = [
        fwd(Action.CREATE, T, "a-child", parent="z-parent"),
        fwd(Action.CREATE, T, "z-parent"),
    ]
    assert names(order(changes)) == ["Tenant/z-parent", "Tenant/a-child"]


def test_forward_change_ignores_references_that_do_not_change() -> None:
    changes = [fwd(Action.UPDATE, T, "acme", plan="gold", display_name="x")]
    assert dependencies(changes) == {rid(T, "acme"): set()}


def test_removals_go_children_first() -> None:
    changes = [
        gone(Action.DELETE, T, "a-parent"),
        gone(Action.SUSPEND, T, "b-child", parent="a-parent"),
        gone(Action.DELETE, F, "a-parent/beta", tenant="a-parent", flag="beta"),
        gone(Action.DELETE, OP, "op@x", tenant="a-parent"),
    ]
    deps = dependencies(changes)
    assert deps[rid(T, "a-parent")] == {
        rid(T, "b-child"),
        rid(F, "a-parent/beta"),
        rid(OP, "op@x"),
    }
    assert names(order(changes)) == [
        "Operator/op@x",
        "FeatureFlag/a-parent/beta",
        "Tenant/b-child",
        "Tenant/a-parent",
    ]


def test_tenants_move_off_a_plan_before_it_is_deleted() -> None:
    move = Change(
        Action.UPDATE,
        rid(T, "acme"),
        desired=Resource(rid(T, "acme"), {"plan": "new"}),
        live=Resource(rid(T, "acme"), {"plan": "old"}),
    )
    changes = [gone(Action.DELETE, P, "old"), move, fwd(Action.CREATE, P, "new")]
    deps = dependencies(changes)
    assert deps[rid(P, "old")] == {rid(T, "acme")}
    assert deps[rid(T, "acme")] == {rid(P, "new")}
    assert names(order(changes)) == ["Plan/new", "Tenant/acme", "Plan/old"]


def test_forward_change_does_not_wait_for_a_removal_it_references() -> None:
    # The spec keeps the tenant but suspends it; its flag update needs no lifecycle call first.
    suspend = Change(
        Action.SUSPEND,
        rid(T, "acme"),
        desired=Resource(rid(T, "acme"), {"status": "suspended"}),
        live=Resource(rid(T, "acme"), {"status": "active"}),
    )
    flag = Change(
        Action.UPDATE,
        rid(F, "acme/beta"),
        desired=Resource(rid(F, "acme/beta"), {"tenant": "acme", "enabled": False}),
        live=Resource(rid(F, "acme/beta"), {"tenant": "acme", "enabled": True}),
    )
    deps = dependencies([suspend, flag])
    assert deps == {rid(T, "acme"): {rid(F, "acme/beta")}, rid(F, "acme/beta"): set()}


def test_cycle_is_a_plan_error_naming_it() -> None:
    changes = [
        fwd(Action.CREATE, T, "a", parent="b"),
        fwd(Action.CREATE, T, "b", parent="a"),
        fwd(Action.CREATE, P, "free"),
    ]
    with pytest.raises(PlanError) as info:
        order(changes)
    message = str(info.value)
    assert "cycle" in message
    assert "Tenant/a" in message and "Tenant/b" in message
    assert "Plan/free" not in message


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(PlanError, match="more than one change"):
        dependencies([fwd(Action.CREATE, P, "x"), fwd(Action.UPDATE, P, "x")])


def test_order_is_deterministic_whatever_the_input_order() -> None:
    changes = [fwd(Action.CREATE, P, f"p{i}") for i in range(5)]
    changes += [fwd(Action.CREATE, T, f"t{i}", plan=f"p{i % 5}") for i in range(20)]
    changes += [gone(Action.DELETE, OP, f"o{i}@x") for i in range(5)]
    expected = names(order(changes))
    for seed in range(5):
        shuffled = changes[:]
        random.Random(seed).shuffle(shuffled)
        assert names(order(shuffled)) == expected
    # ties: rank (kind order forward, reverse kind order for removals), then key
    assert expected == (
        [f"Operator/o{i}@x" for i in range(5)]
        + [f"Plan/p{i}" for i in range(5)]
        + sorted(f"Tenant/t{i}" for i in range(20))
    )

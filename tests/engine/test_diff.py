"""diff(): only what specs set is compared; unmanaged objects obey prune policies."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from reconciler.engine.diff import diff
from reconciler.model import Action, Change, FieldChange, Kind, Resource, ResourceId, State

T, P, TD, F, OP = (
    Kind.TENANT,
    Kind.SUBSCRIPTION_PLAN,
    Kind.TIER_DEFAULTS,
    Kind.FEATURE_FLAG,
    Kind.OPERATOR,
)


def res(kind: Kind, key: str, server: dict[str, Any] | None = None, **fields: Any) -> Resource:
    return Resource(ResourceId(kind, key), fields, server=server or {})


def flag(tenant: str, name: str, enabled: bool = True) -> Resource:
    return res(F, f"{tenant}/{name}", tenant=tenant, flag=name, enabled=enabled)


def one(desired: list[Resource], live: list[Resource], **prune: Any) -> Change | None:
    result = diff(State(desired), State(live), {Kind(k): v for k, v in prune.items()})
    assert len(result.changes) <= 1
    return result.changes[0] if result.changes else None


def test_desired_only_is_a_create_listing_every_field() -> None:
    change = one([res(T, "acme", display_name="Acme", configuration={"a": 1, "gone": None})], [])
    assert change is not None
    assert change.action is Action.CREATE
    assert change.fields == [
        FieldChange("configuration", None, {"a": 1}),
        FieldChange("display_name", None, "Acme"),
    ]


def test_inactive_create_is_a_create_with_a_note() -> None:
    change = one([res(T, "acme", status="suspended")], [])
    assert change is not None and change.action is Action.CREATE
    assert "suspended" in change.reason


def test_only_fields_the_spec_sets_are_compared() -> None:
    desired = res(T, "acme", display_name="Acme")
    live = res(T, "acme", display_name="Acme", plan="gold", status="active", parent="root")
    assert one([desired], [live]) is None


def test_server_fields_never_diff() -> None:
    desired = res(P, "gold", display_name="Gold")
    live = res(P, "gold", server={"id": "1", "updated_at": "now"}, display_name="Gold")
    result = diff(State([desired]), State([live]), {})
    assert result.changes == []
    assert result.unchanged == [ResourceId(P, "gold")]


def test_changed_scalar_is_an_update() -> None:
    change = one(
        [res(P, "gold", display_name="Gold", description="x")],
        [res(P, "gold", display_name="Old", description="x")],
    )
    assert change is not None and change.action is Action.UPDATE
    assert change.fields == [FieldChange("display_name", "Old", "Gold")]
    assert change.live is not None and change.desired is not None


def test_dict_fields_compare_per_key_and_none_means_absent() -> None:
    desired = res(T, "acme", configuration={"region": "eu", "same": 1, "legacy": None, "new": 2})
    live = res(T, "acme", configuration={"region": "us", "same": 1, "legacy": True, "extra": 9})
    change = one([desired], [live])
    assert change is not None and change.action is Action.UPDATE
    assert change.fields == [
        FieldChange("configuration.legacy", True, None),
        FieldChange("configuration.new", None, 2),
        FieldChange("configuration.region", "us", "eu"),
    ]


def test_none_for_a_key_already_absent_is_no_change() -> None:
    desired = res(TD, "gold", tiers={"basic": 10, "old": None})
    live = res(TD, "gold", tiers={"basic": 10, "pro": 5})
    assert one([desired], [live]) is None


def test_nested_values_get_field_level_detail() -> None:
    desired = res(T, "acme", configuration={"limits": {"cpu": 2, "mem": 4}, "hosts": ["a", "b"]})
    live = res(T, "acme", configuration={"limits": {"cpu": 1, "mem": 4}, "hosts": ["a"]})
    change = one([desired], [live])
    assert change is not None
    assert change.fields == [
        FieldChange("configuration.hosts[1]", None, "b"),
        FieldChange("configuration.limits.cpu", 1, 2),
    ]


def test_suspend_and_resume_are_detected_with_other_fields_riding_along() -> None:
    suspend = one(
        [res(T, "a", status="suspended", display_name="A")],
        [res(T, "a", status="active", display_name="old")],
    )
    assert suspend is not None and suspend.action is Action.SUSPEND
    assert {fc.path for fc in suspend.fields} == {"status", "display_name"}
    resume = one([res(OP, "x@y", status="active")], [res(OP, "x@y", status="disabled")])
    assert resume is not None and resume.action is Action.RESUME
    assert resume.fields == [FieldChange("status", "disabled", "active")]


def test_unmanaged_objects_are_ignored_by_default() -> None:
    result = diff(State(), State([res(T, "b"), res(P, "a"), res(OP, "z@x")]), {})
    assert result.changes == []
    assert result.unmanaged == [ResourceId(P, "a"), ResourceId(T, "b"), ResourceId(OP, "z@x")]


def test_prune_delete_and_suspend() -> None:
    live = [res(T, "t", status="active"), res(OP, "o@x", status="active")]
    result = diff(State(), State(live), {T: "suspend", OP: "delete"})
    actions = {c.id: c.action for c in result.changes}
    assert actions == {ResourceId(T, "t"): Action.SUSPEND, ResourceId(OP, "o@x"): Action.DELETE}
    assert result.unmanaged == []
    suspend = next(c for c in result.changes if c.action is Action.SUSPEND)
    assert suspend.reason == "not in specs; prune policy for Tenant is 'suspend'"
    assert suspend.fields == [FieldChange("status", "active", "suspended")]
    # providers read the target status from the desired side, as for spec-driven suspends
    assert suspend.desired is not None and suspend.desired.fields == {"status": "suspended"}


def test_prune_suspend_leaves_inactive_and_non_lifecycle_kinds_alone() -> None:
    live = [res(T, "t", status="suspended"), res(P, "p")]
    result = diff(State(), State(live), {T: "suspend", P: "suspend"})
    assert result.changes == []
    assert result.unmanaged == [ResourceId(P, "p"), ResourceId(T, "t")]


def test_owned_kinds_are_pruned_only_when_their_owner_is_managed() -> None:
    desired = [res(T, "managed")]
    live = [res(T, "managed"), flag("managed", "beta"), flag("other", "beta")]
    result = diff(State(desired), State(live), {F: "delete"})
    assert [(c.action, c.id) for c in result.changes] == [
        (Action.DELETE, ResourceId(F, "managed/beta"))
    ]
    assert result.unmanaged == [ResourceId(F, "other/beta")]


def test_tier_defaults_are_never_pruned() -> None:
    desired = [res(P, "gold")]
    live = [res(P, "gold"), res(TD, "gold", tiers={"a": 1})]
    result = diff(State(desired), State(live), {TD: "delete", P: "delete"})
    assert result.changes == []
    assert result.unmanaged == [ResourceId(TD, "gold")]


def test_results_are_sorted_deterministically() -> None:
    desired = [res(OP, "b@x", name="B"), res(T, "z"), res(T, "a"), res(P, "m")]
    live = [res(T, "z"), res(OP, "b@x", name="old")]
    result = diff(State(desired), State(live), {})
    assert [c.id for c in result.changes] == [
        ResourceId(P, "m"),
        ResourceId(T, "a"),
        ResourceId(OP, "b@x"),
    ]
    reversed_result = diff(State(reversed(desired)), State(reversed(live)), {})
    assert [c.id for c in reversed_result.changes] == [c.id for c in result.changes]


def test_a_no_op_diff_compares_each_object_once_and_never_in_detail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """How a no-op plan of 110,000 objects stays cheap (its time is measured in bench/,
    never asserted here): equal objects are settled by ``==``, none reaches the
    field-by-field detail (deepdiff), and none is reported."""
    diff_module = importlib.import_module("reconciler.engine.diff")

    def build() -> list[Resource]:
        out = []
        for t in range(2_000):
            out.append(
                res(
                    T,
                    f"t{t}",
                    display_name=f"T{t}",
                    plan="gold",
                    status="active",
                    configuration={"region": "eu", "hosts": ["a", "b"], "limits": {"x": 1}},
                )
            )
            out.extend(flag(f"t{t}", f"f{i}") for i in range(4))
        return out

    def detail(*args: object, **kwargs: object) -> object:
        raise AssertionError("an unchanged object was compared in detail")

    monkeypatch.setattr(diff_module, "_detail", detail)
    desired, live = State(build()), State(build())
    result = diff(desired, live, {})
    assert result.changes == [] and len(result.unchanged) == 10_000


@pytest.mark.parametrize("state", ["suspended", "inactive"])
def test_taking_a_tenant_out_of_service_is_a_suspension_whatever_the_state(state: str) -> None:
    """A deactivation (``inactive``) is as destructive as a suspension: never an update."""
    change = one(
        [res(Kind.TENANT, "acme", status=state)], [res(Kind.TENANT, "acme", status="active")]
    )
    assert change is not None
    assert change.action is Action.SUSPEND and change.is_destructive
    back = one(
        [res(Kind.TENANT, "acme", status="active")], [res(Kind.TENANT, "acme", status=state)]
    )
    assert back is not None and back.action is Action.RESUME


def test_a_deactivated_tenant_is_not_suspended_again_by_a_prune() -> None:
    live = [res(Kind.TENANT, "acme"), res(Kind.TENANT, "old", status="inactive")]
    result = diff(State([res(Kind.TENANT, "acme")]), State(live), {Kind.TENANT: "suspend"})
    assert result.changes == []

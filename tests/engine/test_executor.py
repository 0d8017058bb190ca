"""execute(): dependency order, bounded concurrency, failures skip only dependents."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import replace
from typing import Any

import pytest

from reconciler.engine.executor import ApplyResult, ChangeEvent, execute
from reconciler.engine.plan import Plan
from reconciler.engine.planner import Planner, PlannerCapabilities
from reconciler.errors import ApiError, ConflictError
from reconciler.model import Action, Change, Kind, Resource, ResourceId, State, references
from reconciler.providers.base import ApplyContext, Capabilities, KindSupport, Provider
from reconciler.rules import Rules

T, P, TD, F, OP = (
    Kind.TENANT,
    Kind.SUBSCRIPTION_PLAN,
    Kind.TIER_DEFAULTS,
    Kind.FEATURE_FLAG,
    Kind.OPERATOR,
)
ALL = frozenset(Action) - {Action.NOOP}


def rid(kind: Kind, key: str) -> ResourceId:
    return ResourceId(kind, key)


def res(kind: Kind, key: str, **fields: Any) -> Resource:
    return Resource(rid(kind, key), fields)


class FakeProvider(Provider):
    """In memory: records calls and the server ids each call could see, fails on demand."""

    capabilities = Capabilities(
        dialect="fake",
        title="in-memory test provider",
        supports={k: KindSupport(ALL, frozenset()) for k in Kind},
    )

    def __init__(
        self,
        fail: Collection[str] = (),
        bug: Collection[str] = (),
        delays: dict[str, float] | None = None,
    ) -> None:
        self.fail, self.bug, self.delays = set(fail), set(bug), delays or {}
        self.calls: list[tuple[Action, str]] = []
        self.finished: list[str] = []
        self.cancelled: list[str] = []
        self.seen_ids: dict[str, dict[str, str]] = {}
        self.in_flight = 0
        self.high_water = 0

    async def read(self, kinds: Collection[Kind]) -> State:
        return State()

    async def apply(self, change: Change, ctx: ApplyContext) -> Resource | None:
        name = str(change.id)
        self.calls.append((change.action, name))
        self.in_flight += 1
        self.high_water = max(self.high_water, self.in_flight)
        try:
            resource = change.desired or change.live
            assert resource is not None
            # a real provider resolves references to server ids: fail loudly if one is missing
            refs = [r for r in references(resource) if r.kind is not TD]  # no id of their own
            self.seen_ids[name] = {str(r): ctx.server_id(r) for r in refs}
            await asyncio.sleep(self.delays.get(name, 0.01))
            if name in self.bug:
                raise RuntimeError(f"bug in {name}")
            if name in self.fail:
                raise ApiError("POST", "/things", 422, "boom", resource=name)
            self.finished.append(name)
        except asyncio.CancelledError:
            self.cancelled.append(name)
            raise
        finally:
            self.in_flight -= 1
        if change.action is Action.CREATE:
            return Resource(change.id, {}, server={"id": f"id-{change.id.key}"})
        return None


def run(plan: Plan, provider: FakeProvider, ctx: ApplyContext | None = None, **kw: Any) -> Any:
    return asyncio.run(execute(plan, provider, ctx or ApplyContext(), **kw))


def creates(*resources: Resource) -> Plan:
    return Planner().plan(State(resources), State())


def tree() -> Plan:
    """gold ← acme ← child ← grandchild, acme ← flag; solo on its own plan."""
    return creates(
        res(P, "gold"),
        res(T, "acme", plan="gold"),
        res(T, "child", parent="acme"),
        res(T, "grandchild", parent="child"),
        res(F, "acme/beta", tenant="acme", flag="beta", enabled=True),
        res(P, "solo"),
        res(T, "solo", plan="solo"),
    )


def test_creates_run_in_order_and_children_get_their_parents_id() -> None:
    provider, ctx = FakeProvider(), ApplyContext(ids={})
    result = run(tree(), provider, ctx)
    assert result.ok and result.failed == {} and result.skipped == {}
    assert len(result.applied) == 7
    assert provider.seen_ids["Tenant/child"] == {"Tenant/acme": "id-acme"}
    assert provider.seen_ids["Tenant/grandchild"] == {"Tenant/child": "id-child"}
    assert provider.seen_ids["Tenant/acme"] == {"Plan/gold": "id-gold"}
    assert ctx.ids[rid(T, "grandchild")] == "id-grandchild"
    names = [name for _, name in provider.calls]
    assert names.index("Plan/gold") < names.index("Tenant/acme") < names.index("Tenant/child")


def test_live_ids_from_the_caller_are_used() -> None:
    plan = creates(res(T, "acme", parent="root"))
    provider = FakeProvider()
    run(plan, provider, ApplyContext(ids={rid(T, "root"): "srv-root"}))
    assert provider.seen_ids["Tenant/acme"] == {"Tenant/root": "srv-root"}


def test_failure_skips_dependents_transitively_and_the_rest_goes_on() -> None:
    events: list[ChangeEvent] = []
    provider = FakeProvider(fail={"Tenant/acme"})
    result: ApplyResult = run(tree(), provider, on_event=events.append)
    assert not result.ok
    assert list(result.failed) == [rid(T, "acme")]
    assert "Tenant/acme" in result.failed[rid(T, "acme")]
    assert "boom" in result.failed[rid(T, "acme")]
    reason = "skipped: depends on Tenant/acme, which failed"
    assert result.skipped == {
        rid(T, "child"): reason,
        rid(T, "grandchild"): reason,
        rid(F, "acme/beta"): reason,
    }
    assert set(result.applied) == {rid(P, "gold"), rid(P, "solo"), rid(T, "solo")}
    called = {name for _, name in provider.calls}
    assert not called & {"Tenant/child", "Tenant/grandchild", "FeatureFlag/acme/beta"}
    kinds = [(e.kind, str(e.change.id)) for e in events]
    assert ("failed", "Tenant/acme") in kinds
    assert ("skipped", "Tenant/grandchild") in kinds
    assert sum(1 for k, _ in kinds if k == "started") == len(provider.calls) == 4


def test_parallelism_bound_is_respected_and_used() -> None:
    plan = creates(*(res(P, f"p{i:02}") for i in range(20)))
    provider = FakeProvider()
    result = run(plan, provider, parallelism=3)
    assert len(result.applied) == 20
    assert provider.high_water == 3
    serial = FakeProvider()
    run(plan, serial, parallelism=1)
    assert serial.high_water == 1


def test_results_are_in_plan_order_whatever_finishes_first() -> None:
    plan = creates(*(res(P, f"p{i}") for i in range(6)))
    delays = {f"Plan/p{i}": 0.002 * (6 - i) for i in range(6)}
    provider = FakeProvider(delays=delays)
    result = run(plan, provider)
    assert provider.finished != [str(c.id) for c in plan.changes]  # they did finish out of order
    assert result.applied == [c.id for c in plan.changes]


def test_removals_run_children_first() -> None:
    live = State(
        [
            res(T, "parent", status="active"),
            res(T, "kid", parent="parent", status="active"),
            res(OP, "op@x", tenant="kid"),
        ]
    )
    plan = Planner(Rules(prune={T: "delete", OP: "delete"})).plan(State(), live)
    provider = FakeProvider()
    ctx = ApplyContext(ids={rid(T, "parent"): "1", rid(T, "kid"): "2", rid(OP, "op@x"): "3"})
    result = run(plan, provider, ctx, parallelism=8)
    assert result.ok
    assert [name for _, name in provider.calls] == ["Operator/op@x", "Tenant/kid", "Tenant/parent"]
    assert ctx.ids == {}  # deleted objects no longer have server ids


def test_a_bug_propagates_and_cancels_what_is_in_flight() -> None:
    plan = creates(res(P, "bad"), res(P, "slow1"), res(P, "slow2"))
    provider = FakeProvider(bug={"Plan/bad"}, delays={"Plan/slow1": 5, "Plan/slow2": 5})

    async def main() -> None:
        with pytest.raises(RuntimeError, match="bug in Plan/bad"):
            await execute(plan, provider, ApplyContext())
        assert asyncio.all_tasks() == {asyncio.current_task()}

    asyncio.run(main())
    assert sorted(provider.cancelled) == ["Plan/slow1", "Plan/slow2"]


def test_parallelism_must_be_positive() -> None:
    with pytest.raises(ValueError):
        run(creates(res(P, "x")), FakeProvider(), parallelism=0)


class ExistingProvider(FakeProvider):
    """A server where some objects already exist: their create answers 409."""

    def __init__(self, existing: dict[str, Resource]) -> None:
        super().__init__()
        self.existing = existing
        self.reads: list[set[Kind]] = []

    async def read(self, kinds: Collection[Kind]) -> State:
        self.reads.append(set(kinds))
        return State(r for r in self.existing.values() if r.id.kind in kinds)

    async def apply(self, change: Change, ctx: ApplyContext) -> Resource | None:
        if change.action is Action.CREATE and str(change.id) in self.existing:
            self.calls.append((change.action, str(change.id)))
            raise ConflictError("POST", "/tenants", 409, "already exists", resource=str(change.id))
        return await super().apply(change, ctx)


def test_a_create_that_meets_409_adopts_the_existing_object_and_updates_it() -> None:
    existing = Resource(
        rid(T, "acme"), {"display_name": "Old", "status": "active"}, server={"id": "srv-7"}
    )
    provider = ExistingProvider({"Tenant/acme": existing})
    desired = State([res(T, "acme", display_name="Acme"), res(F, "acme/sso", tenant="acme")])
    ctx = ApplyContext()
    result = run(Planner().plan(desired, State()), provider, ctx)
    assert result.ok and result.applied == [rid(T, "acme"), rid(F, "acme/sso")]
    assert provider.reads == [{T}]
    # one create (refused), then an update of the adopted object: never a second create
    assert provider.calls[:2] == [(Action.CREATE, "Tenant/acme"), (Action.UPDATE, "Tenant/acme")]
    assert ctx.ids[rid(T, "acme")] == "srv-7"
    assert provider.seen_ids["FeatureFlag/acme/sso"] == {"Tenant/acme": "srv-7"}


def test_a_409_with_nothing_to_adopt_is_a_failure() -> None:
    class Refusing(ExistingProvider):
        async def read(self, kinds: Collection[Kind]) -> State:
            self.reads.append(set(kinds))
            return State()

    provider = Refusing({"Tenant/acme": res(T, "acme")})
    result = run(Planner().plan(State([res(T, "acme", display_name="A")]), State()), provider)
    assert list(result.failed) == [rid(T, "acme")]
    assert "already exists" in result.failed[rid(T, "acme")]


class LostAnswerProvider(ExistingProvider):
    """Creates land on the server, but the answer is lost (a 500 after the commit)."""

    def __init__(self, landed: bool) -> None:
        super().__init__({})
        self.landed = landed

    async def apply(self, change: Change, ctx: ApplyContext) -> Resource | None:
        if change.action is Action.CREATE and (change.action, str(change.id)) not in self.calls:
            self.calls.append((change.action, str(change.id)))
            if self.landed:
                self.existing[str(change.id)] = Resource(
                    change.id,
                    dict(change.desired.fields if change.desired else {}),
                    server={"id": "srv-1"},
                )
            raise ApiError("POST", "/tenants", 500, "internal error", resource=str(change.id))
        return await super().apply(change, ctx)


def test_a_create_lost_after_commit_is_adopted_never_repeated() -> None:
    provider = LostAnswerProvider(landed=True)
    ctx = ApplyContext()
    result = run(Planner().plan(State([res(T, "acme", display_name="A")]), State()), provider, ctx)
    assert result.ok
    assert provider.calls == [(Action.CREATE, "Tenant/acme")]  # one create, nothing more
    assert provider.reads == [{T}]
    assert ctx.ids[rid(T, "acme")] == "srv-1"


def test_a_create_that_did_not_land_is_tried_once_more_after_a_read() -> None:
    provider = LostAnswerProvider(landed=False)
    result = run(Planner().plan(State([res(T, "acme", display_name="A")]), State()), provider)
    assert result.ok
    assert provider.reads == [{T}]
    assert provider.calls == [(Action.CREATE, "Tenant/acme"), (Action.CREATE, "Tenant/acme")]


def test_a_definite_refusal_is_not_retried() -> None:
    provider = FakeProvider(fail={"Tenant/acme"})  # 422: the server said no
    result = run(Planner().plan(State([res(T, "acme")]), State()), provider)
    assert list(result.failed) == [rid(T, "acme")]
    assert provider.calls == [(Action.CREATE, "Tenant/acme")]


# ---- guards at execution time --------------------------------------------------


class AdminProvider(FakeProvider):
    capabilities = replace(FakeProvider.capabilities, admin_role="operator-admin")


def handover(new_admin_fails: bool) -> tuple[Plan, AdminProvider]:
    """old@ is the only active admin; the specs make new@ admin and disable old@."""
    live = State([res(OP, "old@x.io", role="operator-admin", status="active")])
    desired = State(
        [
            res(OP, "old@x.io", role="operator-admin", status="disabled"),
            res(OP, "new@x.io", role="operator-admin", status="active"),
        ]
    )
    plan = Planner(capabilities=PlannerCapabilities(admin_role="operator-admin")).plan(
        desired, live
    )
    return plan, AdminProvider(fail={"Operator/new@x.io"} if new_admin_fails else ())


def test_the_old_admin_is_disabled_only_after_the_new_one_exists() -> None:
    plan, provider = handover(new_admin_fails=False)
    assert [str(c.id) for c in plan.changes] == ["Operator/new@x.io", "Operator/old@x.io"]
    result = run(plan, provider, parallelism=8)
    assert result.ok
    assert provider.finished == ["Operator/new@x.io", "Operator/old@x.io"]


def test_a_failed_replacement_keeps_the_old_admin_active() -> None:
    plan, provider = handover(new_admin_fails=True)
    result = run(plan, provider, parallelism=8)
    old = rid(OP, "old@x.io")
    assert (Action.SUSPEND, "Operator/old@x.io") not in provider.calls
    assert old in result.skipped
    assert "lockout guard" in result.skipped[old]
    assert "Operator/new@x.io" in result.skipped[old]


def test_the_handover_holds_for_a_plan_made_without_the_admin_role() -> None:
    """A plan loaded from a file is re-ordered by the executor from the provider's role."""
    live = State([res(OP, "old@x.io", role="operator-admin", status="active")])
    desired = State(
        [
            res(OP, "old@x.io", role="operator"),  # a demotion, not a suspension
            res(OP, "new@x.io", role="operator-admin"),
        ]
    )
    plan = Planner().plan(desired, live)
    provider = AdminProvider(fail={"Operator/new@x.io"})
    result = run(plan, provider, parallelism=8)
    assert (Action.UPDATE, "Operator/old@x.io") not in provider.calls
    assert "lockout guard" in result.skipped[rid(OP, "old@x.io")]


@pytest.mark.parametrize("how", ["spec", "rules"])
def test_the_executor_refuses_to_remove_a_protected_object(how: str) -> None:
    acme = res(T, "acme")
    acme.protect = how == "spec"
    change = Change(Action.DELETE, acme.id, live=acme, reason="edited plan file")
    provider = FakeProvider()
    protected = {acme.id} if how == "rules" else set()
    result = run(Plan(changes=[change]), provider, protected=protected)
    assert provider.calls == []
    assert "protected" in result.failed[acme.id]


def test_live_objects_that_cannot_be_addressed_are_never_changed() -> None:
    live = State(
        [
            res(T, "acme"),
            res(F, "acme/../../users/1", tenant="acme", flag="../../users/1", enabled=True),
            res(F, "acme/beta", tenant="acme", flag="beta", enabled=True),
        ]
    )
    desired = State(
        [res(T, "acme"), res(F, "acme/beta", tenant="acme", flag="beta", enabled=False)]
    )

    def unaddressable(change: Change, live: State) -> str | None:
        assert change.live is not None
        flag = str(change.live.fields.get("flag"))
        return f"its key {flag!r} holds '/'" if "/" in flag else None

    planner = Planner(Rules(prune={F: "delete"}), PlannerCapabilities(unaddressable=unaddressable))
    plan = planner.plan(desired, live)
    assert [str(c.id) for c in plan.changes] == ["FeatureFlag/acme/beta"]
    hostile = rid(F, "acme/../../users/1")
    assert "cannot be managed safely" in plan.notes[hostile]
    assert hostile in plan.unsafe

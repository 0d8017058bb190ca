"""Diff rules: grace periods, ignored fields, protection, and the guards' arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reconciler.engine.guards import lockout_problems, mass_change_problems
from reconciler.engine.planner import Planner
from reconciler.model import Action, Kind, Resource, ResourceId, State
from reconciler.rules import GuardPolicy, Rules, parse_duration

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
T, OP = Kind.TENANT, Kind.OPERATOR


def live(key: str, kind: Kind = T, **fields: object) -> Resource:
    server = {"id": key}
    if "suspended_at" in fields:
        server["suspended_at"] = str(fields.pop("suspended_at"))
    return Resource(ResourceId(kind, key), dict(fields), server=server)


def rules(**kw: object) -> Rules:
    return Rules(prune={T: "suspend-then-delete"}, grace={T: timedelta(days=30)}, now=NOW, **kw)  # type: ignore[arg-type]


def test_suspend_then_delete_suspends_first_then_deletes_when_due() -> None:
    state = State(
        [
            live("active", status="active"),
            live("recent", status="suspended", suspended_at="2026-11-01T00:00:00Z"),
            live("old", status="suspended", suspended_at="2026-09-01T00:00:00+00:00"),
            live("unknown", status="suspended"),
        ]
    )
    plan = Planner(rules()).plan(State(), state)
    actions = {str(c.id): c.action for c in plan.changes}
    assert actions == {"Tenant/active": Action.SUSPEND, "Tenant/old": Action.DELETE}
    assert "deletion due 2026-12-01 00:00 UTC" in plan.notes[ResourceId(T, "recent")]
    assert "does not say since when" in plan.notes[ResourceId(T, "unknown")]


def test_ignored_fields_are_set_on_create_and_never_compared_after() -> None:
    want = Resource(
        ResourceId(T, "a"),
        {"display_name": "A", "configuration": {"region": "eu", "owner": "x"}},
        ignore_fields=frozenset({"configuration.owner"}),
    )
    created = Planner(Rules(now=NOW)).plan(State([want]), State())
    assert created.changes[0].fields[0].new == {"region": "eu", "owner": "x"}
    have = live("a", display_name="A", configuration={"region": "eu", "owner": "y"})
    plan = Planner(Rules(now=NOW)).plan(State([want]), State([have]))
    assert plan.changes == [] and plan.ignored == {ResourceId(T, "a"): ["configuration.owner"]}
    kind_wide = Rules(ignore_fields={T: frozenset({"display_name"})}, now=NOW)
    renamed = live("a", display_name="B", configuration={"region": "eu", "owner": "x"})
    plan = Planner(kind_wide).plan(State([want]), State([renamed]))
    assert plan.changes == [] and plan.ignored[ResourceId(T, "a")] == ["display_name"]


def test_mass_change_limits_by_count_and_by_share() -> None:
    many = State(live(f"t{i}", status="active") for i in range(40))
    plan = Planner(Rules(prune={T: "suspend"}, now=NOW)).plan(State(), many)
    problems = mass_change_problems(plan, many, GuardPolicy(max_removals=50))
    assert (
        problems[0] == "40 of 40 live Tenant objects (100%) would be suspended or deleted, "
        "over the limit of 20%"
    )
    assert mass_change_problems(plan, many, GuardPolicy(50, 100)) == []
    few = State(live(f"t{i}", status="active") for i in range(5))
    plan = Planner(Rules(prune={T: "suspend"}, now=NOW)).plan(State(), few)
    assert mass_change_problems(plan, few, GuardPolicy()) == []  # 5 of 5, but under 10 live


def test_lockout_of_this_runs_own_identity() -> None:
    me = live("me@example.com", OP, role="operator-admin", status="active")
    other = live("o@example.com", OP, role="operator-admin", status="active")
    want = Resource(me.id, {"role": "operator"})
    plan = Planner().plan(State([want, other]), State([me, other]))
    assert lockout_problems(plan, State([me, other]), "operator-admin", "ME@example.com") == [
        "Operator/me@example.com is the identity of this run's token and would lose "
        "'operator-admin'"
    ]
    assert lockout_problems(plan, State([me, other]), "operator-admin", None) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30d", timedelta(days=30)), ("12h", timedelta(hours=12)), ("2w", timedelta(weeks=2))],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("30 days")

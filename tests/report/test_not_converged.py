"""An apply that did not converge names what is still pending, not only how much."""

from __future__ import annotations

from reconciler.engine.planner import Planner
from reconciler.engine.results import ApplyResult
from reconciler.model import Kind, Resource, ResourceId, State
from reconciler.report.text import PENDING_SHOWN, render_apply


def res(kind: Kind, key: str, **fields: object) -> Resource:
    return Resource(ResourceId(kind, key), dict(fields), server={"id": key})


def test_each_pending_change_is_listed_with_what_remains() -> None:
    live = State([res(Kind.TENANT, "acme", display_name="ACME", status="active")])
    desired = State(
        [res(Kind.TENANT, "acme", display_name="Acme"), res(Kind.TENANT, "new", display_name="N")]
    )
    remaining = Planner().plan(desired, live)
    shown = render_apply(ApplyResult(applied=[ResourceId(Kind.TENANT, "acme")]), False, remaining)
    lines = shown.splitlines()
    assert lines[1] == "Not converged: a re-read still shows 2 pending change(s):"
    assert "  ~ Tenant/acme will be updated in place (fields differ: displayName)" in lines
    assert '      displayName: "ACME" -> "Acme"' in lines
    assert any(line.startswith("  + Tenant/new will be created") for line in lines)
    assert '      displayName = "N"' in lines
    assert "more" not in shown


def test_a_long_list_is_cut_and_says_how_many_more() -> None:
    count = PENDING_SHOWN + 7
    desired = State([res(Kind.TENANT, f"t{i:03d}", display_name="T") for i in range(count)])
    remaining = Planner().plan(desired, State())
    shown = render_apply(ApplyResult(), False, remaining)
    heads = [line for line in shown.splitlines() if line.startswith("  + Tenant/")]
    assert len(heads) == PENDING_SHOWN
    assert heads[0].startswith("  + Tenant/t000 ") and heads[-1].startswith("  + Tenant/t019 ")
    assert shown.splitlines()[-1] == "  and 7 more (run a plan to see them all)"
    assert f"shows {count} pending change(s):" in shown


def test_a_converged_apply_lists_nothing() -> None:
    shown = render_apply(ApplyResult(), True, Planner().plan(State(), State()))
    assert "Not converged" not in shown and "Verified" in shown

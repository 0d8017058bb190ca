"""An over-long report is cut by priority across the whole report, and every cut is well formed.

Destructive changes of every section are kept first, then updates, then
creates; the warning stays true; every ``<details>`` and code fence is closed
and the note saying what was cut stands outside them, naming the artifact and
the job summary that hold the full report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler.calls import PlannedCall
from reconciler.engine.planner import Planner, PlannerCapabilities
from reconciler.model import Kind, Resource, ResourceId, State
from reconciler.providers.reference import ReferenceProvider
from reconciler.report.limits import COMMENT_LIMIT
from reconciler.report.markdown import build_report
from reconciler.report.metadata import Metadata
from reconciler.report.text import render_calls
from reconciler.rules import Rules
from tests.report.balance import assert_balanced, details_depth_at

PLANNER = Planner(Rules(prune={Kind.TENANT: "delete"}), PlannerCapabilities.of(ReferenceProvider))
META = Metadata(run_url="https://github.com/octo/app/actions/runs/77", artifact="reconciler-plan-7")
CUT_NOTE = "This report was cut to fit"


def tenant(key: str, **fields: object) -> Resource:
    return Resource(ResourceId(Kind.TENANT, key), dict(fields), server={"id": key})


def operator(email: str, role: str) -> Resource:
    return Resource(ResourceId(Kind.OPERATOR, email), {"role": role}, server={"id": email})


def review(creates: int) -> dict[str, Any]:
    """A pull request creating ``creates`` tenants and suspending globex (whose base spec
    set no status); drift: a tenant made by hand (deleted on apply), an operator promoted
    by hand (demoted back), and a renamed tenant (an update)."""
    many = [tenant(f"t{i:04d}", display_name="x" * 40) for i in range(creates)]
    base = [tenant("globex"), tenant("acme", display_name="Acme"), operator("a@x.io", "operator")]
    branch = [tenant("globex", status="suspended"), *base[1:], *many]
    live = [
        tenant("globex", status="active"),
        tenant("acme", display_name="Renamed by hand", status="active"),
        tenant("stray", status="active"),
        operator("a@x.io", "operator-admin"),
    ]
    plan = PLANNER.plan(State(branch), State(live))
    drift = PLANNER.plan(State(base), State(live))
    return {
        "plan": plan,
        "pr_changes": PLANNER.plan(State(branch), State(base)),
        "drift": drift,
        "reverted": [c for c in drift.changes if c.id in {x.id for x in plan.changes}],
    }


def test_destructive_changes_of_every_section_are_kept_before_any_create() -> None:
    report = build_report(
        title="plan", target="t", specs="specs", base="main", meta=META, **review(2000)
    )
    text = report.render()
    assert len(text) <= COMMENT_LIMIT
    assert_balanced(text)
    pr_part, rest = text.split("### Drift already on the live platform")
    drift_part = rest.split("### Apply on merge")[0]
    # the PR's suspension heads its section, the drift's delete and demotion head theirs
    first_pr = pr_part.index("<details>")
    assert pr_part.index("⚠️ <code>~ Tenant/globex will be updated in place") == first_pr + len(
        "<details><summary>"
    )
    assert "⚠️ <code>- Tenant/stray will be deleted" in drift_part
    assert "⚠️ <code>~ Operator/a@&#8203;x.io will be updated in place (demotion" in drift_part
    # ...and the drift's update is kept before the PR's creates
    assert "<code>~ Tenant/acme will be updated in place" in drift_part
    shown = pr_part.count("will be created</code>")
    assert 0 < shown < 2000
    assert f"_{2000 - shown} more changed resource(s) in this section are not shown here._" in (
        pr_part
    )
    # counted per change, from what apply would do: suspension, delete, demotion
    assert "**Apply on merge would make 3 destructive change(s)**" in text
    assert "listed first in each section" in text and "did not fit" not in text


def test_the_cut_note_is_outside_every_details_and_names_where_the_full_report_is() -> None:
    text = build_report(
        title="plan",
        target="t",
        specs="specs",
        meta=META,
        report_file="report.json",
        **review(900),
    ).render(20_000)
    assert len(text) <= 20_000
    assert_balanced(text)
    assert details_depth_at(text, CUT_NOTE) == 0
    note = text[text.index(CUT_NOTE) :]
    assert "the job summary of [run 77](https://github.com/octo/app/actions/runs/77)" in note
    assert "the artifact `reconciler-plan-7` (file `report.json`)" in note
    assert "\\`" not in note  # code spans, not escaped backticks


def test_when_even_destructive_details_do_not_fit_the_warning_says_so() -> None:
    plan = PLANNER.plan(State(), State(tenant(f"gone{i:03d}", status="active") for i in range(300)))
    text = build_report(title="plan", target="t", specs="s", plan=plan, meta=META).render(8_000)
    assert len(text) <= 8_000
    assert_balanced(text)
    assert "**This plan makes 300 destructive change(s)**" in text
    shown = text.count("⚠️ <code>")
    assert 0 < shown < 300
    assert f"The details of {300 - shown} of the ⚠️ changes did not fit here" in text
    assert f"{300 - shown} changed resource(s), {300 - shown} of them destructive," in text


def test_a_long_list_of_calls_is_cut_with_its_fence_closed() -> None:
    plan = PLANNER.plan(State(tenant(f"t{i:04d}") for i in range(40)), State())
    calls = [
        PlannedCall(f"Tenant/t{i:04d}", "POST", "/api/v1/operator/tenants", None, {"n": "`" * 5})
        for i in range(3000)
    ]
    text = build_report(
        title="plan", target="t", specs="s", plan=plan, calls=render_calls(calls, {}), meta=META
    ).render()
    assert len(text) <= COMMENT_LIMIT
    assert_balanced(text)
    assert text.count("will be created</code>") == 40  # calls go before any detail
    assert "line(s) of calls are not shown here" in text
    assert "line(s) of the HTTP calls are left out" in text[text.index(CUT_NOTE) :]
    assert details_depth_at(text, CUT_NOTE) == 0


def test_a_report_whose_summary_alone_is_too_long_is_still_well_formed() -> None:
    plan = PLANNER.plan(State(), State([tenant("gone", status="active")]))
    text = build_report(title="T" * 3000, target="t", specs="s", plan=plan, meta=META).render(2_000)
    assert len(text) <= 2_000
    assert_balanced(text)
    assert "too long for the 2,000-character limit" in text
    assert "This plan makes 1 destructive change(s)" in text


def test_an_empty_template_still_gives_a_body(tmp_path: Path) -> None:
    template = tmp_path / "empty.md.j2"
    template.write_text("{# nothing #}", encoding="utf-8")
    empty = build_report(title="p", target="t", specs="s", plan=PLANNER.plan(State(), State()))
    empty.template = template
    assert "No changes" in empty.render()
    one = build_report(
        title="p", target="t", specs="s", plan=PLANNER.plan(State([tenant("n")]), State())
    )
    one.template = template
    assert "the plan has 1 change(s)" in one.render()


def test_no_changes_says_so() -> None:
    text = build_report(
        title="p", target="t", specs="s", plan=PLANNER.plan(State(), State())
    ).render()
    assert "No changes: the live platform matches the specs." in text
    assert "[!WARNING]" not in text

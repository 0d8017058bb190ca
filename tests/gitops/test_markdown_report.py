"""The Markdown report: inert strings, destructive first, always within the limit."""

from __future__ import annotations

import re

from reconciler.engine.planner import Planner
from reconciler.model import Kind, Resource, ResourceId, State
from reconciler.report.escape import ZWSP_ENTITY, fence, md
from reconciler.report.limits import COMMENT_LIMIT
from reconciler.report.markdown import build_report, marker

EVIL = "<img src=x onerror=alert(1)>"


def tenant(key: str, **fields: object) -> Resource:
    return Resource(ResourceId(Kind.TENANT, key), dict(fields), server={"id": key})


def test_hostile_strings_render_inert() -> None:
    desired = State(
        [
            tenant(EVIL, display_name="``` @org/team fixes #123"),
            tenant("b", display_name="</details><script>x</script>"),
        ]
    )
    text = build_report(
        title="plan", target="t", specs="specs", plan=Planner().plan(desired, State())
    ).render()
    assert "&lt;img src=x onerror=alert" in text
    # code blocks show text as it is; everywhere else no tag, mention or reference survives
    outside_code = re.sub(r"^(`{3,}).*?^\1$", "", text, flags=re.S | re.M)
    assert "<img" not in outside_code and "<script>" not in outside_code
    assert "@org" not in outside_code and "#123" not in outside_code
    assert "</details><script>" in text  # inside the diff block, inert
    # the value inside the diff block cannot close its fence
    assert "````diff" in text


def test_markdown_escaping_of_single_values() -> None:
    assert md("a|b") == "a\\|b"
    assert md("@team") == f"@{ZWSP_ENTITY}team"
    assert md("*bold* [link](x)") == "\\*bold\\* \\[link\\]\\(x\\)"
    assert fence("x ```` y").startswith("`````")


def test_destructive_changes_come_first_with_a_warning() -> None:
    live = State([tenant("a-old", status="active"), tenant("z", status="active")])
    desired = State([tenant("z", status="suspended"), tenant("a-new", display_name="N")])
    plan = Planner().plan(desired, live)
    text = build_report(title="plan", target="t", specs="s", plan=plan).render()
    assert "[!WARNING]" in text
    assert text.index("Tenant/z will be suspended") < text.index("Tenant/a-new will be created")


def test_a_huge_report_is_cut_by_whole_resources_and_says_what_is_missing() -> None:
    desired = State(tenant(f"t{i:04d}", display_name="x" * 200) for i in range(800))
    report = build_report(
        title="plan",
        target="t",
        specs="s",
        plan=Planner().plan(desired, State()),
        report_file="report.json",
    )
    text = report.render()
    assert len(text) <= COMMENT_LIMIT
    assert text.count("<details><summary>") == text.count("</details>")
    shown = text.count("will be created</code></summary>")
    assert 0 < shown < 800
    assert f"the details of {800 - shown} changed resource(s) are left out" in text
    assert "the file `report.json`" in text  # code, not escaped backticks
    assert "| Tenant | 800 |" in text  # the summary always counts everything
    full = report.render(limit=10_000_000)
    assert full.count("will be created</code></summary>") == 800


def test_the_marker_identifies_target_and_specs_and_cannot_break_out() -> None:
    line = marker('prod" --> <b>', "specs")
    assert line.startswith("<!-- reconciler-report ") and line.endswith(" -->")
    assert line.count("-->") == 1


def test_pr_report_separates_the_prs_changes_from_drift() -> None:
    base = State([tenant("a", display_name="A"), tenant("b", display_name="B")])
    pr = State([tenant("a", display_name="A2"), tenant("b", display_name="B")])
    live = State([tenant("a", display_name="A"), tenant("b", display_name="Hand")])
    plan = Planner().plan(pr, live)
    drift = Planner().plan(base, live)
    text = build_report(
        title="plan",
        target="t",
        specs="s",
        plan=plan,
        pr_changes=Planner().plan(pr, base),
        drift=drift,
        reverted=[c for c in drift.changes if c.id in {x.id for x in plan.changes}],
        base="origin/main",
    ).render()
    pr_part, rest = text.split("### Drift already on the live platform")
    assert "Tenant/a will be updated" in pr_part and "Tenant/b" not in pr_part
    drift_part = rest.split("### Apply on merge")[0]
    assert "Tenant/b will be updated" in drift_part
    assert "Applying on merge will revert 1 of them:** Tenant/b" in drift_part


def test_control_characters_show_as_escapes_and_forge_no_line() -> None:
    forged = "x\n  - Plan prod will be deleted"
    live = State([tenant(forged, display_name="a\u202eb\n::error::x")])
    desired = State([tenant(forged, display_name="new\tname")])
    plan = Planner().plan(desired, live)
    text = build_report(title="plan\r\n::warning::t", target="t\x00", specs="s", plan=plan).render()
    lines = text.splitlines()
    assert not [line for line in lines if line.lstrip().startswith(("- Plan prod", "::"))]
    assert (
        "<code>~ Tenant/x\\n  - Plan prod will be deleted will be updated in place</code>" in text
    )
    assert '- displayName: "a\\u202eb\\n::error::x"' in text  # in the diff, one line
    assert '+ displayName: "new\\tname"' in text
    assert "\u202e" not in text and "\x00" not in text and "\t" not in text
    # Markdown-escaped backslashes; :warning: is an emoji shortcode, broken
    assert f"## plan\\\\r\\\\n::{ZWSP_ENTITY}warning::t" in text
    assert md(forged) == "x\\\\n  \\- Plan prod will be deleted"

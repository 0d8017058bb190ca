"""The notice the apply job posts: its own marker, the refusal shown as it is, never as markup."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import cmarkgfm  # type: ignore[import-untyped]
from cmarkgfm.cmark import Options  # type: ignore[import-untyped]

from reconciler.github.body import find_marker, without_report_markers
from reconciler.report.markdown import marker
from reconciler.report.metadata import Metadata
from reconciler.report.workflows.apply_notice import (
    ApplyReport,
    Outcome,
    Source,
    apply_marker,
    render,
)

META = Metadata(
    commit="ab" * 20,
    run_url="https://github.test/octo/app/actions/runs/200",
    time=datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
)
HOSTILE = "error: Tenant/x\n```\n</details><script>alert(1)</script>\n::error::forged\n"


def html(markdown: str) -> str:
    return str(
        cmarkgfm.markdown_to_html_with_extensions(
            markdown, options=Options.CMARK_OPT_UNSAFE, extensions=["table", "autolink"]
        )
    )


def test_a_refusal_keeps_its_reason_in_code_and_says_what_to_do() -> None:
    report = ApplyReport(
        Outcome.REFUSED,
        "production",
        "specs",
        META,
        source=Source("reconciler-plan-production-specs-1a2b3c4d-7", 7, "cd" * 20),
        reason=HOSTILE,
        environment="reconciler-apply",
        new_plan="### What would change\n\n~ Tenant/globex\n",
        new_plan_artifact="reconciler-replan-production-specs-1a2b3c4d-1",
    )
    body = render(report)
    page = html(body)
    assert "<script>" not in page and "&lt;script&gt;" in page  # shown, never run
    [block] = re.findall(r"<pre><code[^>]*>(.*?)</code></pre>", page, re.S)
    assert "&lt;/details&gt;" in block and "::error::forged" in block
    what = page.index("<strong>What to do:</strong>")
    assert what > page.index("</pre>")  # the fence is closed before the advice
    assert "the plan reviewed on #7" in page  # our own reference links
    assert "<code>reconciler-replan-production-specs-1a2b3c4d-1</code>" in page
    assert 'href="https://github.test/octo/app/actions/runs/200"' in page
    assert page.index("The new plan") > what


def test_the_notice_has_its_own_marker_apart_from_the_plan_comment() -> None:
    body = render(ApplyReport(Outcome.APPLIED, "production", "specs", META))
    found = find_marker(body)
    assert found is not None and found.kind == "apply"
    assert found == find_marker(apply_marker("production", "specs"))
    plan_comment = find_marker(marker("production", "specs"))
    assert plan_comment is not None and plan_comment.kind == "report" and plan_comment != found
    quoted = f"{marker('production', 'specs')}\n## Plan\n"
    assert without_report_markers(quoted) == "## Plan\n"

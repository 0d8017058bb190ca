"""Every report says what it is (commit, run, time), and a failed run marks the shown plan stale."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.cli_report import report_metadata
from reconciler.engine.planner import Planner
from reconciler.model import Kind, Resource, ResourceId, State
from reconciler.report import metadata
from reconciler.report.markdown import build_report
from reconciler.report.metadata import Metadata
from reconciler.report.stale import stale_report
from tests.report.balance import assert_balanced

SHA = "4f1c0ffee4f1c0ffee4f1c0ffee4f1c0ffee4f1c"
LATER = "9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a"
NOW = datetime(2026, 11, 30, 14, 5, tzinfo=UTC)
GITHUB = {
    "GITHUB_SHA": SHA,
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "octo/app",
    "GITHUB_RUN_ID": "123",
    "RECONCILER_ARTIFACT": "reconciler-plan-prod-specs-7",
}


def report(meta: Metadata, limit: int = 65_536) -> str:
    desired = State([Resource(ResourceId(Kind.TENANT, "acme"), {"display_name": "Acme"})])
    plan = Planner().plan(desired, State())
    return build_report(title="plan", target="prod", specs="specs", plan=plan, meta=meta).render(
        limit
    )


def test_metadata_comes_from_github_actions_variables_unless_given() -> None:
    meta = report_metadata(environ=GITHUB, now=NOW)
    assert meta == Metadata(
        commit=SHA,
        run_url="https://github.com/octo/app/actions/runs/123",
        time=NOW,
        artifact="reconciler-plan-prod-specs-7",
    )
    given = report_metadata("abc1234", "https://ci.example/run/9", environ=GITHUB, now=NOW)
    assert (given.commit, given.run_url) == ("abc1234", "https://ci.example/run/9")
    assert report_metadata(environ={}) == Metadata()  # a local run: no footer, no time


def test_the_footer_names_commit_run_and_time_and_a_later_run_reads_them_back() -> None:
    meta = report_metadata(environ=GITHUB, now=NOW)
    text = report(meta)
    assert (
        "<sub>Made from commit `4f1c0ffee4f1` by "
        "[run 123](https://github.com/octo/app/actions/runs/123) at 2026-11-30 14:05 UTC.</sub>"
    ) in text
    assert text.splitlines()[0].startswith("<!-- reconciler-report ")  # the marker stays first
    assert metadata.read(text) == Metadata(commit=SHA, run_url=meta.run_url, time=NOW)
    assert "<sub>" not in report(Metadata())


def test_a_run_link_that_is_no_plain_url_is_shown_as_code() -> None:
    odd = Metadata(run_url="javascript:alert(1)//actions/runs/5")
    text = report(odd)
    assert "](javascript" not in text and "`javascript:alert(1)//actions/runs/5`" in text


def test_a_failed_run_marks_the_shown_plan_stale_and_keeps_the_comment_findable() -> None:
    shown = report(report_metadata(environ=GITHUB, now=NOW))
    failed = Metadata(
        commit=LATER, run_url="https://github.com/octo/app/actions/runs/124", time=NOW
    )
    text = stale_report(shown, failed=failed, reason="specs/a.yaml:3:1: @team broke #5")
    assert text.splitlines()[0] == shown.splitlines()[0]  # the same marker: the same comment
    notice = text[: text.index("## plan")]
    assert "**This plan is stale.** The plan shown was made at commit `4f1c0ffee4f1`" in notice
    assert "by [run 123](https://github.com/octo/app/actions/runs/123)" in notice
    assert "[run 124](https://github.com/octo/app/actions/runs/124) for commit `9a9a9a9a9a9a`" in (
        notice
    )
    assert "failed: specs/a\\.yaml:3:1: @&#8203;team broke \\#&#8203;5" in notice
    assert "Acme" in text  # the old plan is still shown, under the notice
    assert_balanced(text)
    again = stale_report(text, failed=failed, reason="still broken")
    assert again.count("This plan is stale") == 1 and "still broken" in again
    assert "made at commit `4f1c0ffee4f1`" in again  # still the plan shown, not the failed run


def test_a_stale_notice_fits_the_limit_and_says_where_the_old_report_is() -> None:
    shown = report(report_metadata(environ=GITHUB, now=NOW))
    text = stale_report(shown, failed=Metadata(commit=LATER), reason="x", limit=len(shown))
    assert len(text) <= len(shown)
    assert "too long to keep under this notice" in text
    assert "[run 123](https://github.com/octo/app/actions/runs/123)" in text


def test_with_no_plan_shown_the_notice_says_none_could_be_made() -> None:
    text = stale_report(
        None, failed=Metadata(commit=LATER), reason="boom", target="prod", specs="s"
    )
    assert text.startswith('<!-- reconciler-report target="prod" specs="s" -->')
    assert "**No plan could be made for commit `9a9a9a9a9a9a`:** the run failed: boom" in text
    again = stale_report(text, failed=Metadata(commit=LATER), reason="boom again")
    assert again.count("No plan could be made") == 1 and "boom again" in again


def test_commit_and_run_url_options_reach_the_footer(sandbox: Any, tmp_path: Path) -> None:
    from tests.integration.helpers import copy_specs, run_cli, target_args

    specs = copy_specs(tmp_path)
    args = ["plan", str(specs), *target_args(sandbox), "--format", "markdown"]
    args += ["--commit", "0123456789abcdef", "--run-url", "https://ci.example/runs/7"]
    shown = run_cli(args, sandbox.token, GITHUB_SHA="", GITHUB_RUN_ID="")
    assert shown.exit_code == 0, shown.output
    assert "0123456" in shown.stdout and "https://ci.example/runs/7" in shown.stdout

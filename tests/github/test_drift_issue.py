"""``reconciler drift-issue``: one issue per drifting target, opened, kept current, closed."""

from __future__ import annotations

from pathlib import Path

from reconciler.report.markdown import marker
from tests.github.fake_github import GH_TOKEN, FakeGitHub, RunGh

PROD = marker("production", "specs")
ISSUES = "/repos/octo/app/issues"


def drift_report(tmp_path: Path, text: str) -> str:
    path = tmp_path / "drift.md"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_drift_opens_one_issue_updates_it_while_it_lasts_and_closes_it_when_gone(
    github: FakeGitHub, run_gh: RunGh, tmp_path: Path
) -> None:
    first = run_gh(
        ["drift-issue", drift_report(tmp_path, f"{PROD}\n1 drifted\n"), "--state", "drift"]
    )
    assert first.exit_code == 0, first.output
    [number] = [n for n, i in github.issues.items() if "pull_request" not in i]
    assert f"Opened the drift issue octo/app#{number}" in first.output
    issue = github.issues[number]
    assert issue["title"] == "Drift detected: production"
    assert [x["name"] for x in issue["labels"]] == ["reconciler-drift"]
    assert issue["body"].startswith(f"{PROD}\n1 drifted")

    again = run_gh(
        ["drift-issue", drift_report(tmp_path, f"{PROD}\n2 drifted\n"), "--state", "drift"]
    )
    assert again.exit_code == 0 and f"Updated the drift issue octo/app#{number}" in again.output
    assert github.issues[number]["body"].startswith(f"{PROD}\n2 drifted")
    same = run_gh(
        ["drift-issue", drift_report(tmp_path, f"{PROD}\n2 drifted\n"), "--state", "drift"]
    )
    assert same.exit_code == 0 and "already up to date" in same.output

    clean = run_gh(
        ["drift-issue", drift_report(tmp_path, f"{PROD}\nno changes\n"), "--state", "clean"],
        GITHUB_SERVER_URL="https://github.test",
        GITHUB_RUN_ID="42",
    )
    assert clean.exit_code == 0 and f"Closed the drift issue octo/app#{number}" in clean.output
    assert github.issues[number]["state"] == "closed"
    [closing] = github.comments_on(number)
    assert "No drift any more" in closing["body"]
    assert "https://github.test/octo/app/actions/runs/42" in closing["body"]
    assert github.writes() == [
        ("POST", ISSUES),
        ("PATCH", f"{ISSUES}/{number}"),
        ("POST", f"{ISSUES}/{number}/comments"),
        ("PATCH", f"{ISSUES}/{number}"),
    ]
    assert len([i for i in github.issues.values() if "pull_request" not in i]) == 1

    quiet = run_gh(
        ["drift-issue", drift_report(tmp_path, f"{PROD}\nno changes\n"), "--state", "clean"]
    )
    assert quiet.exit_code == 0 and "nothing to do" in quiet.output
    assert len(github.writes()) == 4
    reopened = run_gh(["drift-issue", drift_report(tmp_path, f"{PROD}\n3\n"), "--state", "drift"])
    assert reopened.exit_code == 0 and "Opened" in reopened.output  # a closed issue stays closed


def test_the_issue_is_found_on_page_two_among_other_labelled_issues(
    github: FakeGitHub, run_gh: RunGh, tmp_path: Path
) -> None:
    github.max_page = 3
    github.add_issue(
        20, labels=["reconciler-drift"], body=f"{PROD}\nold\n", login="github-actions[bot]"
    )
    for n in range(21, 26):  # newer, listed first
        github.add_issue(n, labels=["reconciler-drift"], body=f"{marker(f't{n}', 'specs')}\n")
    result = run_gh(["drift-issue", drift_report(tmp_path, f"{PROD}\nnew\n"), "--state", "drift"])
    assert result.exit_code == 0, result.output
    assert github.writes() == [("PATCH", f"{ISSUES}/20")]
    gets = [r.query for r in github.requests if r.method == "GET"]
    assert [q.get("page", "1") for q in gets] == ["1", "2"]
    assert all(q["state"] == "open" and q["labels"] == "reconciler-drift" for q in gets)


def test_other_targets_and_pull_requests_with_the_marker_are_left_alone(
    github: FakeGitHub, run_gh: RunGh, tmp_path: Path
) -> None:
    staging = f"{marker('staging', 'specs')}\nstaging drift\n"
    github.add_issue(30, labels=["reconciler-drift"], body=staging)
    github.add_issue(31, labels=["reconciler-drift"], body=f"{PROD}\n", pull_request=True)
    result = run_gh(["drift-issue", drift_report(tmp_path, f"{PROD}\nx\n"), "--state", "clean"])
    assert result.exit_code == 0 and "nothing to do" in result.output
    opened = run_gh(["drift-issue", drift_report(tmp_path, f"{PROD}\nx\n"), "--state", "drift"])
    assert opened.exit_code == 0 and "Opened" in opened.output
    assert github.issues[30]["body"] == staging and github.issues[30]["state"] == "open"
    assert github.writes() == [("POST", ISSUES)]


def test_403_on_issues_names_the_issues_permission(
    github: FakeGitHub, run_gh: RunGh, tmp_path: Path
) -> None:
    github.deny_writes = "Resource not accessible by integration"
    result = run_gh(["drift-issue", drift_report(tmp_path, f"{PROD}\nx\n"), "--state", "drift"])
    assert result.exit_code == 1
    assert (
        "GITHUB_TOKEN cannot write issues on octo/app (403: Resource not accessible by "
        "integration); give the workflow `permissions: issues: write`"
    ) in result.output
    assert GH_TOKEN not in result.output


def test_a_huge_drift_report_still_fits_the_issue_body(
    github: FakeGitHub, run_gh: RunGh, tmp_path: Path
) -> None:
    text = PROD + "\n" + "\n".join("drifted " + "y" * 100 for _ in range(1000)) + "\n"
    summary = tmp_path / "summary.md"
    result = run_gh(
        ["drift-issue", drift_report(tmp_path, text), "--state", "drift"],
        GITHUB_STEP_SUMMARY=str(summary),
    )
    assert result.exit_code == 0, result.output
    [issue] = [i for i in github.issues.values() if "pull_request" not in i]
    assert len(issue["body"]) <= 65_536 and "Report cut" in issue["body"]
    assert "closed by it once the live state matches" in issue["body"]  # the footer survives
    assert summary.read_text(encoding="utf-8") == text  # the job summary has room for it all

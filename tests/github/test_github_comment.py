"""``reconciler comment``: one sticky comment per target, edited in place, over real HTTP."""

from __future__ import annotations

from pathlib import Path

from reconciler.report.markdown import marker
from tests.github.fake_github import BOT, GH_TOKEN, FakeGitHub, RunGh

PROD = marker("production", "specs")


def report(tmp_path: Path, text: str, name: str = "report.md") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_first_run_creates_the_comment_and_the_second_edits_it_in_place(
    github: FakeGitHub, run_gh: RunGh, tmp_path: Path
) -> None:
    first = run_gh(["comment", report(tmp_path, f"{PROD}\n## plan\n1 to create\n")])
    assert first.exit_code == 0, first.output
    assert "Created the reconciler comment on octo/app#7" in first.output
    second = run_gh(["comment", report(tmp_path, f"{PROD}\n## plan\n2 to create\n")])
    assert second.exit_code == 0, second.output
    assert "Updated the reconciler comment on octo/app#7" in second.output
    [only] = github.comments_on(7)
    assert only["body"] == f"{PROD}\n## plan\n2 to create\n"
    assert github.writes() == [
        ("POST", "/repos/octo/app/issues/7/comments"),
        ("PATCH", f"/repos/octo/app/issues/comments/{only['id']}"),
    ]


def test_an_identical_report_is_not_sent_again(
    github: FakeGitHub, run_gh: RunGh, tmp_path: Path
) -> None:
    path = report(tmp_path, f"{PROD}\nno changes\n")
    run_gh(["comment", path])
    again = run_gh(["comment", path])
    assert again.exit_code == 0 and "already up to date" in again.output
    assert [m for m, _ in github.writes()] == ["POST"]


def test_the_earlier_comment_is_found_on_page_two(
    github: FakeGitHub, run_gh: RunGh, tmp_path: Path
) -> None:
    github.max_page = 50
    for i in range(70):
        github.add_comment(7, f"LGTM {i}", login="reviewer")
    ours = github.add_comment(7, f"{PROD}\nold plan\n")
    for i in range(40):
        github.add_comment(7, f"more {i}", login="reviewer")
    result = run_gh(["comment", report(tmp_path, f"{PROD}\nnew plan\n")])
    assert result.exit_code == 0, result.output
    assert github.writes() == [("PATCH", f"/repos/octo/app/issues/comments/{ours}")]
    assert github.comments[ours]["body"] == f"{PROD}\nnew plan\n"
    pages = [r.query.get("page", "1") for r in github.requests if r.method == "GET"]
    assert pages == ["1", "2"]  # followed the Link header, and stopped once found


def test_a_comment_of_another_target_is_left_alone(
    github: FakeGitHub, run_gh: RunGh, tmp_path: Path
) -> None:
    staging_body = f"{marker('staging', 'specs')}\nstaging plan\n"
    staging = github.add_comment(7, staging_body)
    other_specs = github.add_comment(7, f"{marker('production', 'other')}\nx\n")
    result = run_gh(["comment", report(tmp_path, f"{PROD}\nprod plan\n")])
    assert result.exit_code == 0, result.output
    assert [m for m, _ in github.writes()] == ["POST"]
    assert github.comments[staging]["body"] == staging_body
    assert github.comments[other_specs]["body"] == f"{marker('production', 'other')}\nx\n"
    assert len(github.comments_on(7)) == 3


def test_with_author_a_copied_marker_by_someone_else_is_not_edited(
    github: FakeGitHub, run_gh: RunGh, tmp_path: Path
) -> None:
    planted = github.add_comment(7, f"{PROD}\nfake plan\n", login="mallory")
    result = run_gh(["comment", report(tmp_path, f"{PROD}\nreal\n"), "--author", BOT])
    assert result.exit_code == 0, result.output
    assert github.comments[planted]["body"] == f"{PROD}\nfake plan\n"
    assert [m for m, _ in github.writes()] == ["POST"]


def test_a_report_without_a_marker_gets_one_from_the_options_or_the_default(
    github: FakeGitHub, run_gh: RunGh, tmp_path: Path
) -> None:
    github.add_issue(8, pull_request=True)
    path = report(tmp_path, "plain report\n")
    assert run_gh(["comment", path, "--target", "prod", "--specs", "specs"]).exit_code == 0
    assert run_gh(["comment", path, "--pr", "8"]).exit_code == 0
    [on7] = github.comments_on(7)
    [on8] = github.comments_on(8)
    assert on7["body"] == '<!-- reconciler-report target="prod" specs="specs" -->\nplain report\n'
    assert on8["body"] == "<!-- reconciler-report -->\nplain report\n"


def test_stdin_and_the_issue_number_of_an_issue_comment_event(
    github: FakeGitHub, run_gh: RunGh
) -> None:
    result = run_gh(["comment", "-"], input=f"{PROD}\nfrom stdin\n", event={"issue": {"number": 7}})
    assert result.exit_code == 0, result.output
    assert github.comments_on(7)[0]["body"] == f"{PROD}\nfrom stdin\n"


def test_a_report_over_the_limit_is_cut_at_a_line_and_says_so(
    github: FakeGitHub, run_gh: RunGh, tmp_path: Path
) -> None:
    lines = [f"line {i:05d} " + "x" * 90 for i in range(1000)]  # ~100,000 characters
    text = PROD + "\n```diff\n" + "\n".join(lines) + "\n```\n"
    result = run_gh(["comment", report(tmp_path, text)])
    assert result.exit_code == 0, result.output  # the fake rejects bodies over 65,536 (422)
    assert "cut to GitHub's 65,536-character limit" in result.output
    body = github.comments_on(7)[0]["body"]
    assert len(body) <= 65_536
    assert body.rstrip().endswith("the job summary and the run's artifacts.**")
    head, _, _ = body.partition("\n\n**Report cut")
    assert head.splitlines()[-1] == "```"  # the open diff block is closed before the note
    kept = head.splitlines()[2:-1]
    assert kept == lines[: len(kept)] and len(kept) > 500  # whole lines, in order


def test_403_says_which_permission_is_missing_and_never_shows_the_token(
    github: FakeGitHub, run_gh: RunGh, tmp_path: Path
) -> None:
    github.deny_writes = "Resource not accessible by integration"
    result = run_gh(["-vv", "comment", report(tmp_path, f"{PROD}\nplan\n")])
    assert result.exit_code == 1
    assert (
        "GITHUB_TOKEN cannot write comments on octo/app (403: Resource not accessible by "
        "integration); give the workflow `permissions: pull-requests: write`"
    ) in result.output
    assert "Traceback" not in result.output
    assert GH_TOKEN not in result.output


def test_an_unknown_pull_request_is_a_clear_404(github: FakeGitHub, run_gh: RunGh) -> None:
    result = run_gh(["comment", "-", "--pr", "99"], input="x\n")
    assert result.exit_code == 1
    assert "pull request #99 on octo/app not found" in result.output
    assert GH_TOKEN not in result.output


def test_a_wrong_token_is_a_clear_401(github: FakeGitHub, run_gh: RunGh) -> None:
    result = run_gh(["comment", "-"], input="x\n", GITHUB_TOKEN="ghs_wrong-one")
    assert result.exit_code == 1
    assert "GITHUB_TOKEN was refused" in result.output and "Bad credentials" in result.output
    assert "ghs_wrong-one" not in result.output


def test_missing_environment_is_named_before_any_call(github: FakeGitHub, run_gh: RunGh) -> None:
    no_token = run_gh(["comment", "-"], input="x\n", GITHUB_TOKEN=None)
    assert no_token.exit_code == 1 and "GITHUB_TOKEN is not set" in no_token.output
    no_repo = run_gh(["comment", "-"], input="x\n", GITHUB_REPOSITORY=None)
    assert no_repo.exit_code == 1 and "GITHUB_REPOSITORY is not set" in no_repo.output
    no_event = run_gh(["comment", "-"], input="x\n", GITHUB_EVENT_PATH=None)
    assert no_event.exit_code == 1 and "pass --pr N" in no_event.output
    push = run_gh(["comment", "-"], input="x\n", event={"ref": "refs/heads/main"})
    assert push.exit_code == 1 and "names no pull request" in push.output
    off_host = run_gh(["comment", "-", "--pr", "7"], input="x\n", GITHUB_API_URL="http://gh.test")
    assert off_host.exit_code == 1 and "must be an https:// URL" in off_host.output
    assert github.requests == []


def test_the_report_is_appended_to_the_step_summary_even_when_posting_fails(
    github: FakeGitHub, run_gh: RunGh, tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step output\n", encoding="utf-8")
    github.deny_writes = "Resource not accessible by integration"
    result = run_gh(
        ["comment", report(tmp_path, f"{PROD}\nthe plan\n")], GITHUB_STEP_SUMMARY=str(summary)
    )
    assert result.exit_code == 1
    assert summary.read_text(encoding="utf-8") == f"# earlier step output\n\n{PROD}\nthe plan\n"


def test_a_github_enterprise_api_path_and_its_page_links_work(
    github: FakeGitHub, run_gh: RunGh, tmp_path: Path
) -> None:
    from tests.github.fake_github import RunningFake

    ghe = FakeGitHub(token=GH_TOKEN, prefix="/api/v3", max_page=2)
    ghe.add_issue(7, pull_request=True)
    for i in range(5):
        ghe.add_comment(7, f"c{i}", login="reviewer")
    with RunningFake(ghe):
        result = run_gh(["comment", report(tmp_path, f"{PROD}\nx\n")], GITHUB_API_URL=ghe.url)
    assert result.exit_code == 0, result.output
    assert [r.query.get("page", "1") for r in ghe.requests if r.method == "GET"] == ["1", "2", "3"]
    assert ghe.writes() == [("POST", "/api/v3/repos/octo/app/issues/7/comments")]


def test_a_next_page_link_to_another_host_is_refused(
    github: FakeGitHub, run_gh: RunGh, tmp_path: Path
) -> None:
    github.max_page = 1
    github.add_comment(7, "a", login="reviewer")
    github.add_comment(7, "b", login="reviewer")
    github.next_link = "http://127.0.0.2:9/repos/octo/app/issues/7/comments?page=2"
    result = run_gh(["comment", report(tmp_path, f"{PROD}\nx\n")])
    assert result.exit_code == 1
    assert "bad next-page link" in result.output
    assert github.writes() == []

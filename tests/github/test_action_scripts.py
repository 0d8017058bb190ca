"""action.yml's shell steps against the fake GitHub and the embedded sandbox.

The apply after a merge, the tokens and the trusted target are exercised end to
end in test_merge_apply_e2e.py; here the plan and drift steps, their outputs
and exit codes, and the stale notice of a failed plan.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.github.fake_github import BOT, GH_TOKEN, FakeGitHub
from tests.github.runner import ROOT, Runner, run_inputs
from tests.integration.helpers import copy_tree, run_cli

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def runner(tmp_path: Path, github: FakeGitHub) -> Runner:
    workspace = tmp_path / "workspace"
    copy_tree(ROOT / "specs", workspace / "specs")
    return Runner(tmp_path, github, workspace)


def test_plan_on_a_pull_request_posts_one_sticky_comment(
    github: FakeGitHub, tmp_path: Path
) -> None:
    job = runner(tmp_path, github)
    for _ in range(2):
        run = job.step("Run reconciler", "pull_request", **run_inputs("plan", PR_NUMBER="7"))
        assert run.rc == 0, run.stderr
        assert run.outputs["post"] == "comment"
        assert run.outputs["exit-code"] == "2"  # a plan with changes
        assert run.outputs["artifact-name"].startswith("reconciler-plan-default-specs-")
        assert run.outputs["artifact-name"].endswith("-7")
        assert {p.name for p in Path(run.outputs["dir"]).iterdir()} >= {
            "plan.json",
            "report.json",
            "report.md",
        }
        posted = job.step(
            "Sticky pull-request comment",
            "pull_request",
            GITHUB_TOKEN=GH_TOKEN,
            REPORT_DIR=run.outputs["dir"],
            AUTHOR=BOT,
        )
        assert posted.rc == 0 and posted.summary.startswith("<!-- reconciler-report ")
    [comment] = github.comments_on(7)
    assert comment["body"].startswith('<!-- reconciler-report target="local sandbox" specs="specs"')
    assert GH_TOKEN not in run.stdout + run.stderr


def test_a_plan_with_nothing_to_do_exits_0(github: FakeGitHub, tmp_path: Path) -> None:
    job = runner(tmp_path, github)
    first = job.step("Run reconciler", "push", **run_inputs("plan"))
    assert first.rc == 0 and first.outputs["exit-code"] == "2", first.stderr
    # the platform made as the specs say (the embedded sandbox beside them), then planned again
    applied = run_cli(["apply", str(job.workspace / "specs"), "--auto-approve"])
    assert applied.exit_code == 0, applied.output
    again = job.step("Run reconciler", "push", **run_inputs("plan"))
    assert again.rc == 0 and again.outputs["exit-code"] == "0", again.stderr
    assert again.outputs["artifact-name"].endswith("-attempt-1")  # no pull request: the attempt


def test_drift_opens_the_issue_and_a_usage_error_is_an_error(
    github: FakeGitHub, tmp_path: Path
) -> None:
    job = runner(tmp_path, github)
    run = job.step("Run reconciler", "schedule", **run_inputs("drift", DRIFT_ISSUE="true"))
    assert run.rc == 0 and run.outputs["exit-code"] == "2" and run.outputs["post"] == "issue"
    assert run.outputs["artifact-name"].startswith("reconciler-drift-default-specs-")
    issue = job.step(
        "Drift issue",
        "schedule",
        GITHUB_TOKEN=GH_TOKEN,
        REPORT_DIR=run.outputs["dir"],
        AUTHOR=BOT,
        EXIT_CODE=run.outputs["exit-code"],
    )
    assert issue.rc == 0
    assert [i["title"] for i in github.issues.values() if "pull_request" not in i] == [
        "Drift detected: local sandbox"
    ]
    bogus = job.step("Run reconciler", "schedule", **run_inputs("drift", ARGS="--bogus"))
    assert bogus.rc == 1 and "post" not in bogus.outputs  # the step fails, nothing posted
    assert bogus.outputs["exit-code"] == "1"


def test_args_cannot_choose_another_target(github: FakeGitHub, tmp_path: Path) -> None:
    job = runner(tmp_path, github)
    for args in ("--url https://elsewhere.test --api reference", "--target=other", "--insecure"):
        run = job.step("Run reconciler", "pull_request", **run_inputs("plan", ARGS=args))
        assert run.rc == 1, args
        assert "come from the target input and reconciler.yaml" in run.stderr
        assert not (Path(run.outputs["dir"]) / "plan.json").exists()


def test_validate_gets_no_token(github: FakeGitHub, tmp_path: Path) -> None:
    job = runner(tmp_path, github)
    spy = tmp_path / "bin"
    spy.mkdir()
    (spy / "env-of-validate").write_text("")
    # validate runs `reconciler` from the venv: a stand-in records its environment instead
    venv = tmp_path / "runner-temp" / "reconciler-venv"
    venv.unlink()
    (venv / "bin").mkdir(parents=True)
    script = venv / "bin" / "reconciler"
    script.write_text(f"#!/bin/sh\nenv > {spy / 'env-of-validate'}\n")
    script.chmod(0o755)
    run = job.step(
        "Run reconciler",
        "pull_request",
        **run_inputs("validate", PLATFORM_TOKEN_INPUT="platform-SECRET", RECONCILER_TOKEN=""),
    )
    assert run.rc == 0, run.stderr
    seen = (spy / "env-of-validate").read_text()
    assert "platform-SECRET" not in seen and GH_TOKEN not in seen
    assert "artifact-name" not in run.outputs  # the output is empty for validate


def test_a_failed_plan_marks_the_plan_comment_stale(github: FakeGitHub, tmp_path: Path) -> None:
    job = runner(tmp_path, github)
    good = job.step("Run reconciler", "pull_request", **run_inputs("plan", PR_NUMBER="7"))
    job.step(
        "Sticky pull-request comment",
        "pull_request",
        GITHUB_TOKEN=GH_TOKEN,
        REPORT_DIR=good.outputs["dir"],
        AUTHOR=BOT,
    )
    broken = job.workspace / "specs" / "tenants" / "acme.yaml"
    broken.write_text(broken.read_text().replace("plan: enterprise", "plan: [", 1))
    failed = job.step("Run reconciler", "pull_request", **run_inputs("plan", PR_NUMBER="7"))
    assert failed.rc == 1
    marked = job.step(
        "Mark the plan comment stale",
        "pull_request",
        GITHUB_TOKEN=GH_TOKEN,
        REPORT_DIR=failed.outputs["dir"],
        SPECS="specs",
        TARGET="",
        AUTHOR=BOT,
        GITHUB_SHA="b" * 40,
    )
    assert marked.rc == 0, marked.stderr
    [comment] = github.comments_on(7)
    body = comment["body"]
    assert body.startswith('<!-- reconciler-report target="local sandbox" specs="specs"')
    assert "This plan is stale" in body and "acme.yaml" in body
    assert "Tenant/acme" in body  # the old plan is still shown, under the notice

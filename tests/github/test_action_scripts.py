"""action.yml's shell steps, run as GitHub would run them, against the fake GitHub.

The scripts are the glue between the workflow and the CLI; a typo there only
shows on GitHub. Here they run under bash with the runner's variables, the
installed reconciler and the embedded sandbox.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.github.fake_github import BOT, GH_TOKEN, FakeGitHub

ROOT = Path(__file__).resolve().parents[2]
STEPS = {
    s["name"]: s
    for s in yaml.safe_load((ROOT / "action.yml").read_text())["runs"]["steps"]
    if "run" in s
}

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


class Runner:
    """One job's runner: RUNNER_TEMP with reconciler installed, a workspace with specs."""

    def __init__(self, tmp_path: Path, github: FakeGitHub) -> None:
        self.workspace = tmp_path / "workspace"
        shutil.copytree(ROOT / "specs", self.workspace / "specs")
        temp = tmp_path / "runner-temp"
        temp.mkdir()
        (temp / "reconciler-venv").symlink_to(Path(sys.executable).parent.parent)
        event = tmp_path / "event.json"
        event.write_text(json.dumps({"pull_request": {"number": 7}}), encoding="utf-8")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
        self.env.update(
            RUNNER_TEMP=str(temp),
            GITHUB_REPOSITORY=github.repository,
            GITHUB_API_URL=github.url,
            GITHUB_EVENT_PATH=str(event),
        )
        self.tmp = tmp_path

    def step(self, name: str, event: str, **env: str) -> tuple[int, dict[str, str], str]:
        """Run one step: its exit code, its outputs, its job summary."""
        output, summary = self.tmp / "output", self.tmp / "summary"
        output.write_text("")
        summary.write_text("")
        result = subprocess.run(
            ["bash", "-e", "-c", STEPS[name]["run"]],
            cwd=self.workspace,
            env={
                **self.env,
                "GITHUB_OUTPUT": str(output),
                "GITHUB_STEP_SUMMARY": str(summary),
                "GITHUB_EVENT_NAME": event,
                "EVENT_NAME": event,
                **env,
            },
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
        assert GH_TOKEN not in result.stdout + result.stderr
        return result.returncode, outputs, summary.read_text()


def inputs(command: str, **extra: str) -> dict[str, str]:
    return {
        "RECONCILER_COMMAND": command,
        "SPECS": "specs",
        "TARGET": "",
        "BASE": "",
        "ARGS": "",
        "APPLY_ARGS": "",
        "COMMENT": "true",
        "DRIFT_ISSUE": "false",
        "BASE_REF": "",
        **extra,
    }


def test_plan_on_a_pull_request_posts_one_sticky_comment(
    github: FakeGitHub, tmp_path: Path
) -> None:
    runner = Runner(tmp_path, github)
    for _ in range(2):
        rc, out, _ = runner.step("Run reconciler", "pull_request", **inputs("plan"))
        assert rc == 0 and out["post"] == "comment" and out["exit-code"] == "0"
        assert {p.name for p in Path(out["dir"]).iterdir()} == {
            "plan.json",
            "report.json",
            "report.md",
        }
        rc, _, summary = runner.step(
            "Sticky pull-request comment",
            "pull_request",
            GITHUB_TOKEN=GH_TOKEN,
            REPORT_DIR=out["dir"],
            AUTHOR=BOT,
        )
        assert rc == 0 and summary.startswith("<!-- reconciler-report ")
    [comment] = github.comments_on(7)
    assert comment["body"].startswith('<!-- reconciler-report target="local sandbox" specs="specs"')


def test_drift_opens_the_issue_and_a_usage_error_is_no_drift(
    github: FakeGitHub, tmp_path: Path
) -> None:
    runner = Runner(tmp_path, github)
    rc, out, _ = runner.step("Run reconciler", "schedule", **inputs("drift", DRIFT_ISSUE="true"))
    assert rc == 0 and out["exit-code"] == "2" and out["post"] == "issue"
    rc, _, _ = runner.step(
        "Drift issue",
        "schedule",
        GITHUB_TOKEN=GH_TOKEN,
        REPORT_DIR=out["dir"],
        AUTHOR=BOT,
        EXIT_CODE=out["exit-code"],
    )
    assert rc == 0
    assert [i["title"] for i in github.issues.values() if "pull_request" not in i] == [
        "Drift detected: local sandbox"
    ]
    rc, out, _ = runner.step("Run reconciler", "schedule", **inputs("drift", ARGS="--bogus"))
    assert rc == 2 and "post" not in out  # click's usage error: the step fails, nothing posted

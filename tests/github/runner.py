"""action.yml's shell steps, run as a GitHub runner would run them.

The scripts are the glue between the workflow and the CLI; a typo there only
shows on GitHub. Here each step runs under bash with the runner's variables,
the step's ``env:`` as the workflow would fill it, and reconciler installed in
``$RUNNER_TEMP/reconciler-venv`` (this test environment's).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.github.fake_github import GH_TOKEN, FakeGitHub

ROOT = Path(__file__).resolve().parents[2]
STEPS = {
    s["name"]: s
    for s in yaml.safe_load((ROOT / "action.yml").read_text())["runs"]["steps"]
    if "run" in s
}


@dataclass
class Step:
    """One step's exit code, outputs, job summary and logs."""

    rc: int
    outputs: dict[str, str]
    summary: str
    stdout: str
    stderr: str


def run_inputs(command: str, **extra: str) -> dict[str, str]:
    """The ``env:`` of the "Run reconciler" step for ``command``, inputs at their defaults."""
    return {
        "RECONCILER_COMMAND": command,
        "SPECS": "specs",
        "TARGET": "",
        "BASE": "",
        "BASE_SHA": "",
        "ARGS": "",
        "APPLY_ARGS": "",
        "ENVIRONMENT": "",
        "COMMENT": "true",
        "DRIFT_ISSUE": "false",
        "AUTHOR": "github-actions[bot]",
        "BASE_REF": "",
        "PR_NUMBER": "",
        "PLATFORM_TOKEN_INPUT": "",
        "GITHUB_TOKEN_INPUT": GH_TOKEN,
        **extra,
    }


class Runner:
    """One job's runner: RUNNER_TEMP with reconciler installed, a workspace, an event."""

    def __init__(
        self, tmp: Path, github: FakeGitHub, workspace: Path, event: dict[str, Any] | None = None
    ) -> None:
        self.tmp = tmp
        self.workspace = workspace
        temp = tmp / "runner-temp"
        temp.mkdir(parents=True, exist_ok=True)
        venv = temp / "reconciler-venv"
        if not venv.exists():
            venv.symlink_to(Path(sys.executable).parent.parent)
        event_file = tmp / "event.json"
        event_file.write_text(json.dumps(event or {"pull_request": {"number": 7}}), "utf-8")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
        self.env.update(
            RUNNER_TEMP=str(temp),
            GITHUB_REPOSITORY=github.repository,
            GITHUB_API_URL=github.url,
            GITHUB_SERVER_URL="https://github.test",
            GITHUB_EVENT_PATH=str(event_file),
            GITHUB_RUN_ID="100",
            GITHUB_RUN_ATTEMPT="1",
        )

    def step(self, name: str, event: str, **env: str) -> Step:
        """Run the action's step ``name`` for a ``event`` run; ``env``: its env and overrides."""
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
        return Step(result.returncode, outputs, summary.read_text(), result.stdout, result.stderr)

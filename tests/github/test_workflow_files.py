"""The GitHub workflow files users run: valid against GitHub's schemas, pinned, injection-free.

A broken workflow only shows on GitHub, after a merge; these checks catch it in
the test suite. Schema validation uses check-jsonschema's vendored schemas (no
network); zizmor runs when its binary is installed (the ``dev`` extra).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from reconciler.cli import main

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted(
    [*ROOT.glob(".github/workflows/*.yml"), *ROOT.glob("examples/github/.github/workflows/*.yml")]
)
ACTION = ROOT / "action.yml"
ALL_FILES = [*WORKFLOWS, ACTION]
PINNED = re.compile(r"[^@\s]+@[0-9a-f]{40}")
PLACEHOLDER = "REPLACE-WITH-RECONCILER-COMMIT-SHA"

needs_check_jsonschema = pytest.mark.skipif(
    importlib.util.find_spec("check_jsonschema") is None,
    reason="check-jsonschema is not installed (pip install -e '.[test]')",
)


def check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def steps(path: Path) -> list[dict[str, Any]]:
    data = load(path)
    if path == ACTION:
        return list(data["runs"]["steps"])
    return [s for job in data["jobs"].values() for s in job.get("steps", [])]


def test_the_files_exist() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in ALL_FILES}
    assert {
        ".github/workflows/ci.yml",
        ".github/workflows/reconcile.yml",
        "examples/github/.github/workflows/reconcile.yml",
        "action.yml",
    } <= names


@needs_check_jsonschema
def test_workflows_and_the_action_match_githubs_schemas() -> None:
    workflows = check_jsonschema("vendor.github-workflows", *WORKFLOWS)
    assert workflows.returncode == 0, workflows.stdout + workflows.stderr
    action = check_jsonschema("vendor.github-actions", ACTION)
    assert action.returncode == 0, action.stdout + action.stderr


@needs_check_jsonschema
def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  x:\n    permissions: {issues: maybe}\n    steps: [{run: 'true'}]\n",
        encoding="utf-8",
    )
    assert check_jsonschema("vendor.github-workflows", broken).returncode != 0


def test_every_remote_action_and_workflow_is_pinned_to_a_commit() -> None:
    for path in ALL_FILES:
        data = load(path)
        uses = [s["uses"] for s in steps(path) if "uses" in s]
        uses += [j["uses"] for j in data.get("jobs", {}).values() if "uses" in j]
        for ref in uses:
            if ref.startswith("./"):
                continue
            assert PINNED.fullmatch(ref) or ref.endswith("@" + PLACEHOLDER), f"{path}: {ref}"


def test_no_expression_is_spliced_into_a_shell_script() -> None:
    """``${{ inputs.x }}`` inside ``run:`` lets a value run as code; values go through env."""
    for path in ALL_FILES:
        for step in steps(path):
            assert "${{" not in step.get("run", ""), f"{path}: {step.get('name', step)}"


def test_checkouts_keep_no_credentials_and_jobs_say_their_permissions() -> None:
    for path in ALL_FILES:
        for step in steps(path):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, path
    for path in WORKFLOWS:
        data = load(path)
        for name, job in data["jobs"].items():
            assert "permissions" in job or "permissions" in data, f"{path}: job {name}"


def test_the_reusable_workflow_plans_applies_one_at_a_time_and_tracks_drift() -> None:
    data = load(ROOT / ".github/workflows/reconcile.yml")
    assert data["permissions"] == {}
    assert "workflow_call" in data[True]  # YAML 1.1 reads the key `on` as true
    jobs = data["jobs"]
    assert jobs["apply"]["concurrency"]["cancel-in-progress"] is False
    assert jobs["plan"]["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert jobs["drift"]["permissions"] == {"contents": "read", "issues": "write"}
    assert jobs["apply"]["permissions"] == {
        "contents": "read",
        "actions": "read",  # the merged pull request's plan artifact
        "pull-requests": "write",  # the notice when nothing was applied
    }
    commands = [
        s["with"]["command"]
        for j in jobs.values()
        for s in j["steps"]
        if s["uses"] == "./.reconciler-action"
    ]
    assert commands == ["validate", "plan", "apply", "drift"]


def test_apply_and_drift_of_one_target_never_overlap_nor_collide_with_another() -> None:
    jobs = load(ROOT / ".github/workflows/reconcile.yml")["jobs"]
    live = jobs["apply"]["concurrency"]
    assert jobs["drift"]["concurrency"] == live  # one group: a drift never reads a half apply
    assert live["cancel-in-progress"] is False  # and neither cancels the other half-way
    for job in ("plan", "apply", "drift"):
        group = jobs[job]["concurrency"]["group"]
        assert "${{ inputs.target }}" in group and "${{ inputs.specs }}" in group, job
    assert "${{ github.event.pull_request.number }}" in jobs["plan"]["concurrency"]["group"]


def test_least_privilege_tokens_apply_in_a_protected_environment() -> None:
    data = load(ROOT / ".github/workflows/reconcile.yml")
    assert set(data[True]["workflow_call"]["secrets"]) == {
        "RECONCILER_READ_TOKEN",
        "RECONCILER_WRITE_TOKEN",
    }
    jobs = data["jobs"]
    assert jobs["apply"]["environment"] == "${{ inputs.environment }}"
    assert data[True]["workflow_call"]["inputs"]["environment"]["default"] == "reconciler-apply"
    given = {
        (job, step["with"]["command"]): step["with"].get("platform-token")
        for job, spec in jobs.items()
        for step in spec["steps"]
        if step.get("uses") == "./.reconciler-action"
    }
    assert given == {
        ("plan", "validate"): None,  # no token for what makes no call
        ("plan", "plan"): "${{ secrets.RECONCILER_READ_TOKEN }}",
        ("apply", "apply"): "${{ secrets.RECONCILER_WRITE_TOKEN }}",
        ("drift", "drift"): "${{ secrets.RECONCILER_READ_TOKEN }}",
    }
    text = (ROOT / ".github/workflows/reconcile.yml").read_text()
    assert text.count("secrets.RECONCILER_WRITE_TOKEN") == 1
    for job in jobs.values():  # tokens reach the action as inputs, never as a job's or step's env
        assert "env" not in job and all("env" not in s for s in job["steps"])


def test_the_plan_is_saved_under_the_name_apply_looks_for_and_applies_leave_their_journal() -> None:
    jobs = load(ROOT / ".github/workflows/reconcile.yml")["jobs"]
    [save] = [s for s in jobs["plan"]["steps"] if "upload-artifact" in s.get("uses", "")]
    assert save["if"] == "steps.plan.outcome == 'success'"  # only a plan that was made
    assert save["with"]["name"] == "${{ steps.plan.outputs.artifact-name }}"
    uploads = {
        s["with"]["name"]: s["with"]["path"]
        for s in jobs["apply"]["steps"]
        if "upload-artifact" in s.get("uses", "")
    }
    assert uploads == {
        "${{ steps.apply.outputs.artifact-name }}": "${{ steps.apply.outputs.report-dir }}",
        "${{ steps.apply.outputs.replan-artifact }}": "${{ steps.apply.outputs.replan-dir }}",
    }


def test_plan_and_drift_keep_the_spec_cache_and_apply_never_restores_it() -> None:
    """A pull request's plan re-parses only the specs it changed (issue 15); the apply
    job reads nothing a pull request's run could have written."""
    jobs = load(ROOT / ".github/workflows/reconcile.yml")["jobs"]
    for name in ("plan", "drift"):
        uses = [s.get("uses", "") for s in jobs[name]["steps"]]
        [at] = [i for i, u in enumerate(uses) if u.startswith("actions/cache@")]
        first_run = min(i for i, u in enumerate(uses) if u == "./.reconciler-action")
        assert at < first_run, name
        cache = jobs[name]["steps"][at]["with"]
        assert cache["path"] == "${{ inputs.specs }}/.reconciler/cache", name
        assert "${{ inputs.reconciler-ref }}" in cache["key"], name
    assert not any("actions/cache" in s.get("uses", "") for s in jobs["apply"]["steps"])


def test_every_output_of_the_action_is_documented_and_written() -> None:
    action = load(ACTION)
    script = next(s["run"] for s in action["runs"]["steps"] if s.get("id") == "run")
    python = (ROOT / "reconciler" / "cli_github.py").read_text()
    for name, output in action["outputs"].items():
        assert len(output["description"]) > 20, name
        written = re.fullmatch(r"\$\{\{ steps\.run\.outputs\.([a-z-]+) \}\}", output["value"])
        assert written, name
        key = written.group(1)
        assert f'echo "{key}=' in script or f'"{key}"' in python, f"{name}: {key} is never set"


def test_the_action_installs_the_pinned_versions() -> None:
    install = next(
        s["run"] for s in load(ACTION)["runs"]["steps"] if s.get("name") == "Install reconciler"
    )
    assert '--constraint "$ACTION_PATH/.github/constraints.txt"' in install


def test_the_action_runs_the_cli_flags_that_exist() -> None:
    """Every ``reconciler`` option the action passes is one the CLI accepts."""
    from reconciler.cli_github import github

    script = "\n".join(s.get("run", "") for s in steps(ACTION))
    runner = CliRunner()
    for group, command, options in [
        (main, "plan", ["--out", "--format", "--output", "--json-report", "--base"]),
        (main, "plan", ["--detailed-exitcode"]),
        (main, "drift", ["--format", "--output", "--json-report", "--base"]),
        (main, "comment", ["--author"]),
        (main, "drift-issue", ["--state", "--author"]),
        (github, "run", ["--specs", "--target", "--trusted-ref", "--artifact"]),
        (github, "apply-merged", ["--base-sha", "--out", "--environment", "--apply-args"]),
        (github, "apply-merged", ["--plan-args", "--author"]),
        (github, "plan-failed", ["--specs", "--target", "--reason-file", "--author"]),
    ]:
        help_text = runner.invoke(group, [command, "--help"]).output
        for option in options:
            assert option in script and option in help_text, f"{command} {option}"


def test_the_examples_specs_are_valid() -> None:
    result = CliRunner().invoke(main, ["validate", str(ROOT / "examples/github/specs")])
    assert result.exit_code == 0, result.output


def test_zizmor_finds_nothing_of_high_severity() -> None:
    zizmor = shutil.which("zizmor") or shutil.which("zizmor", path=str(Path(sys.executable).parent))
    if zizmor is None:
        pytest.skip("zizmor is not installed (pip install -e '.[dev]')")
    result = subprocess.run(
        [zizmor, "--offline", "--min-severity", "high", *map(str, ALL_FILES)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

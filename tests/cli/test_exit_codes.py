"""Exit codes with one meaning each (issue 14): 0 done, 2 changes or drift, 1 every error.

A cron job that reads 2 as drift must never get 2 from a typo.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.helpers import copy_specs, run_cli, target_args


@pytest.mark.parametrize(
    "args",
    [
        ["drift", "specs", "--formt", "json"],  # unknown option
        ["plann"],  # unknown command
        ["plan", "specs", "--parallelism", "many"],  # bad value
        ["apply", "a", "b", "c"],  # extra arguments
    ],
)
def test_usage_errors_exit_1_not_2(args: list[str]) -> None:
    result = run_cli(args)
    assert result.exit_code == 1, result.output
    assert "Error:" in result.stderr or "error:" in result.stderr


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["plan", "--help"]])
def test_help_and_version_exit_0(args: list[str]) -> None:
    assert run_cli(args).exit_code == 0


def test_changes_and_drift_are_2_and_only_then(sandbox: Any, tmp_path: Path) -> None:
    specs = copy_specs(tmp_path)
    target = target_args(sandbox)
    plan = ["plan", str(specs), *target, "--detailed-exitcode"]
    assert run_cli(plan, sandbox.token).exit_code == 2
    assert run_cli(["drift", str(specs), *target], sandbox.token).exit_code == 2
    applied = run_cli(["apply", str(specs), *target, "--auto-approve"], sandbox.token)
    assert applied.exit_code == 0, applied.output
    assert run_cli(plan, sandbox.token).exit_code == 0
    assert run_cli(["drift", str(specs), *target], sandbox.token).exit_code == 0


def test_a_spec_error_is_1(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("apiVersion: reconciler.dev/v1\nkind: Tenant\n")
    result = run_cli(["validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "bad.yaml" in result.stderr

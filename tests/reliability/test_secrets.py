"""The token never shows: not in output, debug logs, plan files, reports or the journal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.helpers import copy_specs, run_cli, target_args


def test_no_command_leaks_the_token(sandbox: Any, tmp_path: Path) -> None:
    specs = copy_specs(tmp_path)
    target = target_args(sandbox)
    out = tmp_path / "out"
    out.mkdir()
    commands = [
        ["validate", str(specs), *target],
        ["plan", str(specs), *target, "--show-calls", "--out", str(out / "plan.json")],
        ["plan", str(specs), *target, "--format", "json", "--show-calls"],
        [
            "plan",
            str(specs),
            *target,
            "--format",
            "markdown",
            "--output",
            str(out / "r.md"),
            "--json-report",
            str(out / "r.json"),
        ],
        ["graph", str(specs), *target],
        ["apply", str(out / "plan.json"), "--auto-approve"],
        ["drift", str(specs), *target, "--format", "markdown"],
        ["apis"],
        # errors: a refused call and an unreachable target
        ["plan", str(specs), "--api", "reference", "--url", sandbox.url + "/nope"],
        ["plan", str(specs), "--api", "reference", "--url", "http://127.0.0.1:9"],
    ]
    seen = []
    for args in commands:
        result = run_cli(["-vv", *args], sandbox.token)
        seen.append(" ".join(args) + "\n" + result.stdout + result.stderr)
        assert result.exception is None or isinstance(result.exception, SystemExit), args
    files = [p.read_text() for p in out.iterdir()]
    journal = Path(str(tmp_path / "journal.jsonl"))
    files.append(journal.read_text() if journal.exists() else "")
    everything = "\n".join(seen + files)
    assert "Authorization" not in everything or "Bearer " + sandbox.token not in everything
    assert sandbox.token not in everything
    assert "DEBUG" in everything  # -vv really logged at debug level


def test_a_wrong_token_error_names_the_call_not_the_token(sandbox: Any, tmp_path: Path) -> None:
    wrong = "wrong-token-SECRET-999"
    result = run_cli(["plan", str(copy_specs(tmp_path)), *target_args(sandbox)], wrong)
    assert result.exit_code == 1
    assert "GET /api/v1/operator/" in result.stderr and "401" in result.stderr
    assert wrong not in result.output

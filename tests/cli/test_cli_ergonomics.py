"""Small things people trip over on the command line (issue 14)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.integration.helpers import REPO, copy_specs, run_cli, target_args


def test_verbose_works_after_the_command_too(sandbox: Any, tmp_path: Path) -> None:
    specs = copy_specs(tmp_path)
    quiet = run_cli(["plan", str(specs), *target_args(sandbox)], sandbox.token)
    loud = run_cli(["plan", str(specs), *target_args(sandbox), "-vv"], sandbox.token)
    assert quiet.exit_code == loud.exit_code == 0, loud.output
    assert "HTTP Request: GET" in loud.stderr and "HTTP Request" not in quiet.stderr
    assert sandbox.token not in loud.stderr


def test_examples_in_help_are_printed_as_written() -> None:
    shown = run_cli(["export", "--help"]).output
    assert "reconciler export specs --api reference --url https://platform.example.com\n" in shown


def test_python_dash_m_reconciler_is_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "--version"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("reconciler, version")


def test_a_url_without_a_scheme_is_refused_before_anything_runs() -> None:
    result = run_cli(["plan", "specs", "--api", "reference", "--url", "127.0.0.1:9"])
    assert result.exit_code == 1
    assert "'127.0.0.1:9' is not an http(s) URL (did you mean 'https://127.0.0.1:9'?)" in (
        result.stderr
    )


def test_commands_that_change_nothing_offer_no_parallelism() -> None:
    for command in ("validate", "export"):
        assert "--parallelism" not in run_cli([command, "--help"]).output
    assert "--parallelism" in run_cli(["apply", "--help"]).output


def test_a_closed_port_names_the_server_and_the_likely_cause(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    specs = copy_specs(tmp_path)
    url = f"http://127.0.0.1:{port}"
    result = run_cli(["plan", str(specs), "--api", "reference", "--url", url], "tok")
    assert result.exit_code == 1
    assert f"cannot connect to 127.0.0.1:{port}: connection refused (is the server running" in (
        result.stderr
    )


def test_a_wrong_base_path_gets_a_hint(sandbox: Any, tmp_path: Path) -> None:
    specs = copy_specs(tmp_path)
    args = ["plan", str(specs), "--api", "reference", "--url", sandbox.url + "/wrong"]
    result = run_cli(args, sandbox.token)
    assert result.exit_code == 1
    assert "is the target's URL right, base path included?" in result.stderr

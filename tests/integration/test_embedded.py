"""With no target configured, plan and apply use the embedded sandbox, state kept on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.helpers import copy_specs, run_cli


def test_embedded_sandbox_keeps_state_across_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    copy_specs(tmp_path)

    planned = run_cli(["plan", "specs"])
    assert planned.exit_code == 0, planned.output
    assert "local sandbox" in planned.stdout
    assert "will be created" in planned.stdout

    applied = run_cli(["apply", "specs", "--auto-approve"])
    assert applied.exit_code == 0, applied.output
    assert (tmp_path / "specs" / ".reconciler" / "sandbox.sqlite").is_file()  # the spec root

    again = run_cli(["plan", "specs", "--detailed-exitcode"])
    assert again.exit_code == 0, again.output
    assert "No changes" in again.stdout

"""Local state lives in the spec root's ``.reconciler/``, wherever the command runs (issue 14)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.spec import load_config
from tests.integration.helpers import copy_specs, copy_tree, run_cli, target_args


def test_state_follows_the_specs_not_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = copy_specs(tmp_path)
    monkeypatch.delenv("RECONCILER_JOURNAL", raising=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    applied = run_cli(["apply", str(specs), "--auto-approve"])
    assert applied.exit_code == 0, applied.output
    state = specs / ".reconciler"
    assert (state / "sandbox.sqlite").is_file() and (state / "journal.jsonl").is_file()
    assert (state / ".gitignore").read_text().splitlines()[-1] == "*"
    assert list(elsewhere.iterdir()) == []  # nothing where the command ran

    monkeypatch.chdir(specs / "tenants")
    again = run_cli(["plan", "..", "--detailed-exitcode"])
    assert again.exit_code == 0, again.output  # the same sandbox: converged, not 21 creates
    assert not (specs / "tenants" / ".reconciler").exists()


def test_a_plan_against_a_remote_target_writes_nothing(
    sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing but the spec cache (issue 15: ``.reconciler/cache/``, safe to delete)."""
    specs = copy_specs(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RECONCILER_NO_CACHE", raising=False)

    def written() -> list[Path]:
        state = specs / ".reconciler"
        return sorted(
            p.relative_to(tmp_path)
            for p in tmp_path.rglob("*")
            if p not in (state, state / ".gitignore") and (state / "cache") not in (p, *p.parents)
        )

    before = written()
    for command in (["plan"], ["drift"], ["validate"]):
        result = run_cli([*command, str(specs), *target_args(sandbox)], sandbox.token)
        assert result.exit_code in (0, 2), result.output
    assert written() == before
    assert any((specs / ".reconciler" / "cache").iterdir())  # the one thing written


def test_ca_bundle_is_relative_to_reconciler_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "specs"
    root.mkdir()
    (root / "reconciler.yaml").write_text(
        "apiVersion: reconciler.dev/v1\n"
        "targets:\n  prod:\n    api: reference\n    url: https://platform.example\n"
        "    caBundle: certs/ca.pem\n"
    )
    monkeypatch.chdir(tmp_path.parent)
    assert load_config(root).targets["prod"].ca_bundle == str(root / "certs" / "ca.pem")


def test_a_target_without_a_url_is_the_embedded_sandbox_of_its_dialect(tmp_path: Path) -> None:
    """So an example names its dialect in reconciler.yaml and plans without flags."""

    from tests.integration.helpers import REPO

    root = Path(copy_tree(REPO / "examples" / "operator-v1", tmp_path / "specs"))
    config = root / "reconciler.yaml"
    config.write_text(
        config.read_text() + "defaultTarget: local\ntargets:\n  local:\n    api: operator-v1\n"
    )
    assert run_cli(["validate", str(root)]).exit_code == 0
    applied = run_cli(["apply", str(root), "--auto-approve"])
    assert applied.exit_code == 0, applied.output
    assert (root / ".reconciler" / "sandbox-operator-v1.sqlite").is_file()
    again = run_cli(["plan", str(root), "--detailed-exitcode"])
    assert again.exit_code == 0, again.output

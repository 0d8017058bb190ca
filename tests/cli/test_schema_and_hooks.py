"""Editor support: the committed schema is the code's, and the pre-commit hook is valid."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from reconciler.spec import spec_json_schema
from tests.integration.helpers import run_cli

ROOT = Path(__file__).resolve().parents[2]


def test_schema_command_prints_the_spec_schema(tmp_path: Path) -> None:
    result = run_cli(["schema"])
    assert result.exit_code == 0
    printed = json.loads(result.stdout)
    assert printed == spec_json_schema()
    assert printed["discriminator"]["propertyName"] == "kind"
    out = tmp_path / "s.json"
    assert run_cli(["schema", "--output", str(out)]).exit_code == 0
    assert json.loads(out.read_text()) == printed


def test_the_committed_schema_is_current() -> None:
    committed = json.loads((ROOT / "docs" / "schema" / "spec.schema.json").read_text())
    assert committed == spec_json_schema(), (
        "run: reconciler schema --output docs/schema/spec.schema.json"
    )


def test_pre_commit_hook_runs_validate_without_filenames() -> None:
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "reconciler-validate"
    assert hook["entry"] == "reconciler validate" and hook["pass_filenames"] is False
    assert hook["language"] == "python"

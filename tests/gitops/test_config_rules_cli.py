"""``ignoreFields`` and ``protect`` in reconciler.yaml, through the CLI.

The same front end as a spec's own ``ignoreFields``: ``displayName`` is the
field ``display_name``, a typo is refused by ``validate`` with its place, and
every plan (the main one and both halves of ``--base``) is made with the rules.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.gitops.test_drift_and_base import hand_rename
from tests.integration.helpers import States, commit_main, copy_specs, run_cli, target_args


def with_rules(specs: Path, rules: str) -> Path:
    config = specs / "reconciler.yaml"
    config.write_text(config.read_text(encoding="utf-8") + rules, encoding="utf-8")
    return specs


def test_validate_refuses_a_misspelt_field_or_kind_with_its_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    specs = copy_specs(tmp_path)
    config_lines = (specs / "reconciler.yaml").read_text(encoding="utf-8").count("\n")
    with_rules(specs, "ignoreFields:\n  Tenant: [dispalyName]\nprotect: [Tenat/acme]\n")
    result = run_cli(["validate", "specs"])
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        f"error: specs/reconciler.yaml:{config_lines + 2}:12: 'ignoreFields' entry "
        "'dispalyName' names no field of a Tenant (did you mean 'displayName'?)",
        f"error: specs/reconciler.yaml:{config_lines + 3}:11: protect entry 'Tenat/acme' "
        "must start with a kind (did you mean 'Tenant'?), as in Tenant/acme",
        "2 problems found; nothing was changed.",
    ]


@pytest.fixture
def applied(sandbox: Any, tmp_path: Path, request: pytest.FixtureRequest, states: States) -> Path:
    """The starter specs with ``Tenant: [<field>]`` ignored in reconciler.yaml, applied."""
    field = getattr(request, "param", "displayName")
    specs = with_rules(copy_specs(tmp_path / "repo"), f"ignoreFields:\n  Tenant: [{field}]\n")

    def apply() -> None:
        args = ["apply", str(specs), *target_args(sandbox), "--auto-approve"]
        result = run_cli(args, sandbox.token)
        assert result.exit_code == 0, result.output

    states.made(sandbox, f"the starter specs applied, Tenant {field} ignored", apply)
    return specs


def test_plan_leaves_a_hand_changed_display_name_alone(sandbox: Any, applied: Path) -> None:
    hand_rename(sandbox, "globex", "Changed by hand")
    args = ["plan", str(applied), *target_args(sandbox), "--detailed-exitcode"]
    result = run_cli(args, sandbox.token)
    assert result.exit_code == 0, result.output
    assert "Ignored (they differ, but ignoreFields leaves them alone):" in result.stdout
    assert "Tenant/globex" in result.stdout.split("Ignored")[1]
    drift = run_cli(["drift", str(applied), *target_args(sandbox)], sandbox.token)
    assert drift.exit_code == 0, drift.output


@pytest.mark.parametrize("applied", ["displayName", "display_name"], indirect=True)
def test_the_base_drift_section_keeps_the_targets_rules(
    sandbox: Any, applied: Path, tmp_path: Path
) -> None:
    repo = applied.parent
    commit_main(repo)
    acme = applied / "tenants" / "acme.yaml"
    acme.write_text(acme.read_text().replace("data_retention_days: 365", "data_retention_days: 30"))
    hand_rename(sandbox, "globex", "Changed by hand")

    full = tmp_path / "report.json"
    args = [*target_args(sandbox), "--base", "main", "--json-report", str(full)]
    result = run_cli(["plan", str(applied), *args, "--format", "markdown"], sandbox.token)
    assert result.exit_code == 0, result.output
    document = json.loads(full.read_text())
    assert [c["id"] for c in document["changes"]] == ["Tenant/acme"]
    assert [c["id"] for c in document["pr_changes"]] == ["Tenant/acme"]
    assert document["drift"] == []  # the hand-changed display name is ignored here too
    assert document["reverted_by_apply"] == []
    assert "Tenant/globex" not in result.stdout

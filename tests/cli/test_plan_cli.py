"""What a person sees from ``plan`` and ``apply``: marks, detail, colour, JSON, exit codes."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from reconciler import cli, cli_apply
from reconciler.engine.planner import Planner
from reconciler.model import Kind, Resource, ResourceId, State
from reconciler.report.text import render_plan
from tests.integration.helpers import States, copy_specs, run_cli, target_args, writes

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def applied(sandbox: Any, tmp_path: Path, states: States) -> Path:
    specs = copy_specs(tmp_path)

    def apply() -> None:
        args = ["apply", str(specs), *target_args(sandbox), "--auto-approve"]
        result = run_cli(args, sandbox.token)
        assert result.exit_code == 0, result.output

    states.made(sandbox, "the starter specs applied", apply)
    return specs


def test_plan_marks_every_action_with_field_level_detail(
    sandbox: Any, applied: Path, tmp_path: Path
) -> None:
    edit(applied / "tenants" / "acme.yaml", "displayName: Acme Corporation", "displayName: Acme")
    edit(applied / "tenants" / "initech.yaml", "status: suspended", "status: active")
    edit(applied / "tenants" / "globex.yaml", "name: globex\n", "name: globex\nstatus: suspended\n")
    (applied / "extra.yaml").write_text(
        "apiVersion: reconciler.dev/v1\nkind: Tenant\nname: newco\ndisplayName: NewCo\n"
    )
    result = run_cli(["plan", str(applied), *target_args(sandbox)], sandbox.token)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "  + Tenant/newco will be created" in out
    assert '      displayName = "NewCo"' in out
    assert "  ~ Tenant/acme will be updated in place" in out
    assert '      displayName: "Acme Corporation" -> "Acme"' in out
    assert "  ! Tenant/globex will be suspended" in out
    assert "  ^ Tenant/initech will be resumed" in out
    assert "Plan: 1 to create, 1 to update, 1 to suspend, 1 to resume, 0 to delete" in out
    # suspension listed before the forward changes: reviewers see removals first
    assert out.index("Tenant/globex will be suspended") < out.index("Tenant/newco will")
    assert not ANSI.search(out), "no colour when stdout is not a terminal"


def test_delete_mark_under_a_delete_policy(sandbox: Any, applied: Path) -> None:
    (applied / "tenants" / "initech.yaml").unlink()
    edit(applied / "reconciler.yaml", "Tenant: ignore", "Tenant: delete")
    result = run_cli(["plan", str(applied), *target_args(sandbox)], sandbox.token)
    assert "  - Tenant/initech will be deleted" in result.stdout, result.output


def test_json_plan_is_machine_readable_and_holds_no_token(sandbox: Any, applied: Path) -> None:
    edit(applied / "tenants" / "acme.yaml", "displayName: Acme Corporation", "displayName: Acme")
    result = run_cli(
        ["plan", str(applied), *target_args(sandbox), "--format", "json"], sandbox.token
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["summary"]["update"] == 1
    [change] = document["changes"]
    assert change["id"] == "Tenant/acme" and change["action"] == "update"
    assert sandbox.token not in result.output


def test_detailed_exitcode_is_2_with_changes_0_without_1_on_error(
    sandbox: Any, applied: Path
) -> None:
    args = ["plan", str(applied), *target_args(sandbox), "--detailed-exitcode"]
    assert run_cli(args, sandbox.token).exit_code == 0
    edit(applied / "tenants" / "acme.yaml", "displayName: Acme Corporation", "displayName: Acme")
    assert run_cli(args, sandbox.token).exit_code == 2
    unreachable = ["plan", str(applied), "--api", "reference", "--url", "http://127.0.0.1:9"]
    failed = run_cli([*unreachable, "--detailed-exitcode"], sandbox.token)
    assert failed.exit_code == 1
    assert "error:" in failed.stderr and "Traceback" not in failed.output


def test_apply_on_a_terminal_asks_and_a_no_changes_nothing(
    sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = copy_specs(tmp_path)
    monkeypatch.setattr(cli_apply, "stdin_is_terminal", lambda: True)
    from click.testing import CliRunner

    result = CliRunner().invoke(
        cli.main,
        ["apply", str(specs), *target_args(sandbox)],
        input="n\n",
        env={"RECONCILER_TOKEN": sandbox.token},
    )
    assert "Apply these changes?" in result.output
    assert "Apply cancelled; nothing was changed." in result.output
    assert result.exit_code == 1  # declined is not done (Terraform exits 1 too)
    assert writes(sandbox.db_path) == []


def test_colour_only_on_a_terminal_and_never_with_no_color(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    assert cli.use_colour() is True
    assert cli.use_colour(no_colour=True) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert cli.use_colour() is False
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False, raising=False)
    assert cli.use_colour() is False

    plan = Planner().plan(
        State([Resource(ResourceId(Kind.TENANT, "a"), {"display_name": "A"})]), State()
    )
    assert ANSI.search(render_plan(plan, "t", colour=True))
    assert not ANSI.search(render_plan(plan, "t", colour=False))


def test_validate_reports_every_problem_with_its_place(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "a.yaml").write_text(
        "apiVersion: reconciler.dev/v1\nkind: Tenant\nname: a\nplan: nope\n---\n"
        "apiVersion: reconciler.dev/v1\nkind: Tenant\nname: b\nstatus: paused\n"
    )
    result = run_cli(["validate", str(specs)])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 2, result.stderr
    assert all(f"{specs / 'a.yaml'}:" in line for line in lines)
    assert "Traceback" not in result.output
    good = run_cli(["validate", str(copy_specs(tmp_path / "good"))])
    assert good.exit_code == 0, good.output

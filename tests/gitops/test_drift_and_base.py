"""``drift`` exit codes and reports; ``--base`` splits a branch's changes from live drift."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.helpers import (
    States,
    api,
    commit_main,
    copy_specs,
    git,
    run_cli,
    target_args,
)


def hand_rename(sandbox: Any, name: str, display: str) -> None:
    with api(sandbox) as client:
        tenants = {t["name"]: t for t in client.get("/tenants").json()["items"]}
        client.patch(f"/tenants/{tenants[name]['id']}", json={"display_name": display})


@pytest.fixture
def applied(sandbox: Any, tmp_path: Path, states: States) -> Path:
    specs = copy_specs(tmp_path / "repo")

    def apply() -> None:
        args = ["apply", str(specs), *target_args(sandbox), "--auto-approve"]
        result = run_cli(args, sandbox.token)
        assert result.exit_code == 0, result.output

    states.made(sandbox, "the starter specs applied", apply)
    return specs


def test_drift_exit_codes_and_formats(sandbox: Any, applied: Path) -> None:
    args = ["drift", str(applied), *target_args(sandbox)]
    clean = run_cli(args, sandbox.token)
    assert clean.exit_code == 0, clean.output
    hand_rename(sandbox, "globex", "Changed by hand")
    found = run_cli([*args, "--format", "json"], sandbox.token)
    assert found.exit_code == 2, found.output
    document = json.loads(found.stdout)
    assert [c["id"] for c in document["changes"]] == ["Tenant/globex"]
    assert document["changes"][0]["fields"] == [
        {"path": "displayName", "old": "Changed by hand", "new": "Globex"}
    ]
    as_md = run_cli([*args, "--format", "markdown"], sandbox.token)
    assert as_md.exit_code == 2
    assert "<!-- reconciler-report target=" in as_md.stdout
    assert "Tenant/globex will be updated in place" in as_md.stdout
    broken = run_cli(["drift", str(applied), "--api", "reference", "--url", "http://127.0.0.1:9"])
    assert broken.exit_code == 1


def test_base_ref_splits_this_branchs_changes_from_drift(
    sandbox: Any, applied: Path, tmp_path: Path
) -> None:
    repo = applied.parent
    commit_main(repo)
    git(repo, "checkout", "-q", "-b", "feature")
    acme = applied / "tenants" / "acme.yaml"
    acme.write_text(acme.read_text().replace("Acme Corporation", "Acme Group"))
    hand_rename(sandbox, "globex", "Changed by hand")

    out = tmp_path / "report.md"
    full = tmp_path / "report.json"
    result = run_cli(
        [
            "plan",
            str(applied),
            *target_args(sandbox),
            "--base",
            "main",
            "--format",
            "markdown",
            "--output",
            str(out),
            "--json-report",
            str(full),
        ],
        sandbox.token,
    )
    assert result.exit_code == 0, result.output
    text = out.read_text()
    pr_part, rest = text.split("### Drift already on the live platform")
    assert "Tenant/acme will be updated" in pr_part and "Tenant/globex" not in pr_part
    assert "Tenant/globex will be updated" in rest.split("### Apply on merge")[0]
    assert "Applying on merge will revert 1 of them:** Tenant/globex" in text
    document = json.loads(full.read_text())
    assert [c["id"] for c in document["pr_changes"]] == ["Tenant/acme"]
    assert document["reverted_by_apply"] == ["Tenant/globex"]

    base_dir = run_cli(
        ["plan", str(applied), *target_args(sandbox), "--base", str(tmp_path / "nowhere")],
        sandbox.token,
    )
    assert base_dir.exit_code == 1 and "git" in base_dir.stderr


def test_base_split_with_only_shows_the_selection_in_both_halves(
    sandbox: Any, applied: Path, tmp_path: Path
) -> None:
    repo = applied.parent
    commit_main(repo)
    acme = applied / "tenants" / "acme.yaml"
    acme.write_text(acme.read_text().replace("Acme Corporation", "Acme Group"))
    hand_rename(sandbox, "globex", "Changed by hand")
    args = ["plan", str(applied), *target_args(sandbox), "--base", "main", "--format", "json"]

    def split(*only: str) -> tuple[list[str], list[str]]:
        result = run_cli([*args, *only], sandbox.token)
        assert result.exit_code == 0, result.output
        document = json.loads(result.stdout)
        pr = [c["id"] for c in document["pr_changes"]]
        return pr, [c["id"] for c in document["drift"]]

    assert split() == (["Tenant/acme"], ["Tenant/globex"])
    assert split("--only", "Tenant/acme") == (["Tenant/acme"], [])
    assert split("--only", "Tenant/globex") == ([], ["Tenant/globex"])


def test_base_split_flags_a_new_suspension_and_names_the_base_files_in_the_repository(
    sandbox: Any, applied: Path, tmp_path: Path
) -> None:
    """The issue's reproduction: the branch adds ``status: suspended`` to globex, whose base
    spec sets no status; acme was renamed by hand (drift, from the base branch's file)."""
    repo = applied.parent
    commit_main(repo)
    git(repo, "checkout", "-q", "-b", "feature")
    globex = applied / "tenants" / "globex.yaml"
    globex.write_text(globex.read_text() + "status: suspended\n")
    hand_rename(sandbox, "acme", "Changed by hand")
    github = {
        "GITHUB_SHA": "4f1c0ffee4f1c0ffee4f1c0ffee4f1c0ffee4f1c",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "octo/app",
        "GITHUB_RUN_ID": "99",
    }
    args = ["plan", str(applied), *target_args(sandbox), "--base", "main", "--format", "markdown"]
    result = run_cli(args, sandbox.token, **github)
    assert result.exit_code == 0, result.output
    text = result.stdout
    pr_part, rest = text.split("### Drift already on the live platform")
    assert (
        '⚠️ <code>~ Tenant/globex will be updated in place (deactivation: status null → "suspended")'
        in pr_part
    )
    assert "**Apply on merge would make 1 destructive change(s)**" in text
    drift_part = rest.split("### Apply on merge")[0]
    assert "<code>~ Tenant/acme will be updated in place</code>" in drift_part
    assert "spec: `main:specs/tenants/acme.yaml:" in drift_part
    assert "reconciler-base-" not in text  # never the temporary extract of the base
    assert (
        "<sub>Made from commit `4f1c0ffee4f1` by "
        "[run 99](https://github.com/octo/app/actions/runs/99) at "
    ) in text


def test_graph_draws_changes_in_dependency_order(sandbox: Any, tmp_path: Path) -> None:
    specs = copy_specs(tmp_path)
    mermaid = run_cli(["graph", str(specs), *target_args(sandbox)], sandbox.token)
    assert mermaid.exit_code == 0, mermaid.output
    lines = mermaid.stdout.splitlines()
    assert lines[0] == "flowchart LR"
    node = {
        line.split('["')[1].split('"]')[0]: line.split('["')[0].strip()
        for line in lines
        if '["' in line
    }
    plan_node = node["#43; Plan/enterprise"]
    acme = node["#43; Tenant/acme"]
    assert f"  {plan_node} --> {acme}" in lines
    dot = run_cli(["graph", str(specs), *target_args(sandbox), "--format", "dot"], sandbox.token)
    assert dot.stdout.startswith("digraph changes {") and " -> " in dot.stdout

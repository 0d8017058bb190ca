"""The whole GitOps loop on the sandbox and a fake GitHub, as a team lives with it.

A pull request: plan --out on the branch's specs, the Markdown report posted as a
sticky comment and updated in place on the next push. The merge: apply of the
saved plan. Later: a hand change on the platform, `drift` exits 2 and reports
exactly that change; a saved plan applied after a hand change is refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.github.fake_github import FakeGitHub, RunGh
from tests.integration.helpers import api, copy_specs, git, run_cli, target_args


def test_pull_request_merge_and_drift(
    sandbox: Any, github: FakeGitHub, run_gh: RunGh, tmp_path: Path
) -> None:
    specs = copy_specs(tmp_path / "repo")
    repo = specs.parent
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    target = target_args(sandbox)
    token = sandbox.token

    # The platform starts as main describes it.
    assert run_cli(["apply", str(specs), *target, "--auto-approve"], token).exit_code == 0

    # A branch renames a tenant: plan it, save the plan, post the report.
    git(repo, "checkout", "-q", "-b", "rename-acme")
    acme = specs / "tenants" / "acme.yaml"
    acme.write_text(acme.read_text().replace("Acme Corporation", "Acme Group"))
    plan_file, report = tmp_path / "plan.json", tmp_path / "report.md"

    def plan_and_comment() -> None:
        planned = run_cli(
            [
                "plan",
                str(specs),
                *target,
                "--base",
                "main",
                "--out",
                str(plan_file),
                "--format",
                "markdown",
                "--output",
                str(report),
            ],
            token,
        )
        assert planned.exit_code == 0, planned.output
        posted = run_gh(["comment", str(report)])
        assert posted.exit_code == 0, posted.output

    plan_and_comment()
    [comment] = github.comments_on(7)
    assert "Tenant/acme will be updated in place" in comment["body"]
    assert "### What this pull request changes" in comment["body"]

    # A second push changes more: the same comment is edited, not a second one added.
    acme.write_text(acme.read_text().replace("Acme Group", "Acme Holdings"))
    plan_and_comment()
    [edited] = github.comments_on(7)
    assert edited["id"] == comment["id"] and "Acme Holdings" in edited["body"]

    # Merge: apply exactly the reviewed plan.
    applied = run_cli(["apply", str(plan_file), "--auto-approve"], token)
    assert applied.exit_code == 0, applied.output
    clean = run_cli(["drift", str(specs), *target], token)
    assert clean.exit_code == 0, clean.output

    # Someone changes the platform by hand: drift sees exactly that.
    with api(sandbox) as client:
        tenants = {t["name"]: t for t in client.get("/tenants").json()["items"]}
        client.patch(f"/tenants/{tenants['globex']['id']}", json={"display_name": "By hand"})
    drift = run_cli(["drift", str(specs), *target, "--format", "json"], token)
    assert drift.exit_code == 2
    changes = json.loads(drift.stdout)["changes"]
    assert [(c["id"], c["fields"]) for c in changes] == [
        ("Tenant/globex", [{"path": "displayName", "old": "By hand", "new": "Globex"}])
    ]

    # A plan made before another hand change is refused when applied after it.
    stale = tmp_path / "stale.json"
    assert run_cli(["plan", str(specs), *target, "--out", str(stale)], token).exit_code == 0
    with api(sandbox) as client:
        client.patch(f"/tenants/{tenants['initech']['id']}", json={"display_name": "Again"})
    refused = run_cli(["apply", str(stale), "--auto-approve"], token)
    assert refused.exit_code == 1
    assert "Tenant/initech: changed since the plan was made" in refused.stderr

"""Plan on the pull request, apply on merge: exactly what was reviewed, or nothing.

The action's scripts run as GitHub would run the reusable workflow's jobs, against
the fake GitHub and a real sandbox behind a gateway that tells the read-only
token from the write token (see scenario.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.github.fake_github import FakeGitHub
from tests.github.scenario import PR, RUN_OF_APPLY, Gateway, SpecsRepo, calls
from tests.integration.helpers import api

pytestmark = pytest.mark.skipif(
    shutil.which("bash") is None or shutil.which("git") is None, reason="needs bash and git"
)


def rename_acme_and_flip_a_flag(specs: Path) -> None:
    acme = specs / "tenants" / "acme.yaml"
    text = acme.read_text().replace("Acme Corporation", "Acme Group")
    acme.write_text(text.replace("  beta_dashboard: false", "  beta_dashboard: true"))


def notice_on_the_pull_request(github: FakeGitHub) -> dict[str, Any]:
    [notice] = [c for c in github.comments_on(PR) if c["body"].startswith("<!-- reconciler-apply")]
    return notice


def test_the_merge_applies_exactly_the_plan_reviewed_on_the_pull_request(
    repo: SpecsRepo, github: FakeGitHub, gateway: tuple[Gateway, str]
) -> None:
    gate, _ = gateway
    checkout = repo.open_pull_request(rename_acme_and_flip_a_flag)
    seen = len(gate.seen)
    plan = repo.plan_job(checkout)
    assert plan.rc == 0, plan.stderr
    assert plan.outputs["exit-code"] == "2"
    assert {kind for _, _, kind in gate.since(seen)} == {"read"}  # the plan read, read-only
    [comment] = github.comments_on(PR)
    assert "Tenant/acme" in comment["body"]
    reviewed = calls(Path(plan.outputs["dir"]) / "report.json")
    assert len(reviewed) == 2  # the rename and the flag

    repo.merge()
    start, seen = repo.log_size(), len(gate.seen)
    apply = repo.apply_job()
    assert apply.rc == 0, apply.stderr
    assert apply.outputs["outcome"] == "applied" and apply.outputs["exit-code"] == "0"
    assert apply.outputs["pull-request"] == str(PR)
    # exactly the reviewed writes (independent changes go in parallel: in any order)
    assert sorted(repo.writes_since(start)) == sorted(reviewed)
    assert {kind for _, _, kind in gate.since(seen)} == {"write"}
    assert "replan-dir" not in apply.outputs
    journal = Path(apply.outputs["dir"]) / "journal.jsonl"
    assert journal.is_file() and len(journal.read_text().splitlines()) >= 2  # uploaded with it
    assert apply.outputs["artifact-name"].endswith("-1")
    assert github.comments_on(PR) == [comment]  # a successful apply adds no comment
    assert "Applied" in apply.summary and f"#{PR}" in apply.summary


def test_a_hand_change_before_the_merge_fails_the_apply_and_posts_the_new_plan(
    repo: SpecsRepo, github: FakeGitHub, sandbox: Any
) -> None:
    checkout = repo.open_pull_request(rename_acme_and_flip_a_flag)
    assert repo.plan_job(checkout).rc == 0
    [plan_comment] = github.comments_on(PR)
    with api(sandbox) as client:  # someone changes the platform by hand
        tenants = {t["name"]: t for t in client.get("/tenants").json()["items"]}
        client.patch(f"/tenants/{tenants['globex']['id']}", json={"display_name": "By hand"})

    repo.merge()
    start = repo.log_size()
    refused = repo.apply_job()
    assert refused.rc == 1
    assert refused.outputs["outcome"] == "refused" and refused.outputs["exit-code"] == "1"
    assert repo.writes_since(start) == [], "nothing of an unreviewed plan is applied"
    assert "Tenant/globex: changed since the plan was made" in refused.stderr
    notice = notice_on_the_pull_request(github)
    body = notice["body"]
    assert "The reviewed plan was not applied as reviewed" in body
    assert "Tenant/globex: changed since the plan was made" in body  # why
    assert "### The new plan" in body and "Tenant/globex" in body.split("### The new plan")[1]
    assert "re-run the failed `apply` job" in body and "`reconciler-apply`" in body
    assert refused.summary.rstrip("\n") == body.rstrip("\n")
    assert [c["id"] for c in github.comments_on(PR)] == [plan_comment["id"], notice["id"]]
    assert github.comments[plan_comment["id"]]["body"] == plan_comment["body"]  # as reviewed

    # Re-run with approval: the job applies exactly the new plan it posted.
    replan = Path(refused.outputs["replan-dir"])
    repo.upload(refused.outputs["replan-artifact"], replan, RUN_OF_APPLY, repo.merge_sha)
    start = repo.log_size()
    rerun = repo.apply_job(attempt=2)
    assert rerun.rc == 0, rerun.stderr
    assert rerun.outputs["outcome"] == "applied"
    assert sorted(repo.writes_since(start)) == sorted(calls(replan / "report.json"))
    assert ("PATCH", f"/api/v1/operator/tenants/{tenants['globex']['id']}") in repo.writes_since(
        start
    )
    edited = notice_on_the_pull_request(github)
    assert edited["id"] == notice["id"] and "✅ Applied" in edited["body"]
    assert "attempt 1" in edited["body"]


def test_a_merge_with_no_saved_plan_applies_nothing(repo: SpecsRepo, github: FakeGitHub) -> None:
    checkout = repo.open_pull_request(rename_acme_and_flip_a_flag)
    assert repo.plan_job(checkout, upload=False).rc == 0  # the artifact expired, say
    repo.merge()
    start = repo.log_size()
    refused = repo.apply_job()
    assert refused.rc == 1 and refused.outputs["outcome"] == "refused"
    assert repo.writes_since(start) == []
    body = notice_on_the_pull_request(github)["body"]
    assert "no plan artifact reconciler-plan-production-specs-" in body
    assert f"from the last commit of #{PR} ({repo.head[:12]})" in body

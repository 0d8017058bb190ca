"""Converging through a faulty API: no duplicates, exact state, every failure explained."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.sandbox.faults import FaultConfig
from tests.conftest import SANDBOX_TOKEN, SandboxFactory, request_log
from tests.integration.helpers import copy_specs, run_cli, target_args, tls


def test_fault_injection_is_seeded_and_deterministic(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    statuses = []
    for _ in range(2):
        box = sandbox_factory(faults=FaultConfig(rate=0.5, seed=7))
        seen = []
        with httpx.Client(
            base_url=box.url, headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"}, verify=tls()
        ) as client:
            for _ in range(60):
                try:
                    seen.append(client.get("/api/v1/operator/plans").status_code)
                except httpx.TransportError:
                    seen.append(-1)  # the connection broke mid-answer
        statuses.append(seen)
    assert statuses[0] == statuses[1]
    assert {503, 500, 429, -1} <= set(statuses[0]) and 200 in statuses[0]


def test_500_after_commit_really_commits(sandbox_factory: SandboxFactory) -> None:
    box = sandbox_factory(faults=FaultConfig(rate=1.0, seed=3))
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    with httpx.Client(base_url=box.url, headers=headers, verify=tls()) as client:
        outcomes = []
        for i in range(12):
            try:
                r = client.post("/api/v1/operator/plans", json={"name": f"p{i}"})
                outcomes.append(r.status_code)
            except httpx.TransportError:
                outcomes.append(-1)
    box.stop()
    again = sandbox_factory(db_path=box.db_path)
    with httpx.Client(base_url=again.url, headers=headers, verify=tls()) as client:
        names = {p["name"] for p in client.get("/api/v1/operator/plans").json()["items"]}
    committed = {f"p{i}" for i, status in enumerate(outcomes) if status in (500, -1)}
    refused = {f"p{i}" for i, status in enumerate(outcomes) if status in (503, 429)}
    assert committed and refused
    assert committed <= names and not (refused & names)


@pytest.mark.parametrize("seed", [1, 2])
def test_repeated_applies_converge_through_20_percent_faults(
    sandbox_factory: SandboxFactory, tmp_path: Path, seed: int
) -> None:
    box = sandbox_factory(faults=FaultConfig(rate=0.2, seed=seed))
    specs = copy_specs(tmp_path)
    args = ["apply", str(specs), *target_args(box), "--auto-approve"]
    outputs = []
    for _ in range(3):
        result = run_cli(args, SANDBOX_TOKEN)
        outputs.append(result.output)
        if result.exit_code == 0:
            break
        # a failed run says what failed and why, or why it could not read
        assert "Failed:" in result.output or "error:" in result.output, result.output
    else:
        pytest.fail("did not converge in 3 runs:\n" + "\n----\n".join(outputs))
    faults = [s for _, _, s in request_log(box.db_path) if s in (429, 500, 503)]
    assert len(faults) >= 3, "the run must really have met faults"
    box.stop()
    check = sandbox_factory(db_path=box.db_path)  # same state, no faults
    plan = run_cli(["plan", str(specs), *target_args(check), "--detailed-exitcode"], SANDBOX_TOKEN)
    assert plan.exit_code == 0, plan.output
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    with httpx.Client(
        base_url=check.url + "/api/v1/operator", headers=headers, verify=tls()
    ) as client:
        for path in ("/tenants", "/plans", "/users"):
            items: list[dict[str, Any]] = client.get(path, params={"limit": 500}).json()["items"]
            names = Counter(i.get("name") or i.get("email") for i in items)
            assert all(n == 1 for n in names.values()), f"duplicates in {path}: {names}"


def test_every_write_is_journaled_with_its_change_and_source(
    sandbox_factory: SandboxFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = tmp_path / "journal.jsonl"
    monkeypatch.setenv("RECONCILER_JOURNAL", str(journal))
    monkeypatch.setenv("GITHUB_SHA", "0123456789abcdef")
    box = sandbox_factory(faults=FaultConfig(rate=0.3, seed=5))
    specs = copy_specs(tmp_path)
    from reconciler.journal import outcomes as outcome_lines
    from reconciler.journal import read

    # At 30 % faults a whole run can end at its first read (every attempt of one
    # GET failing); the order of calls, and so which ones fail, varies. Apply
    # again until acme's create has been sent (other tests prove convergence).
    for _ in range(4):
        run_cli(["apply", str(specs), *target_args(box), "--auto-approve"], SANDBOX_TOKEN)
        records = read(journal)
        if any(r["change"] == "Tenant/acme" for r in records):
            break
    writes = [r for r in request_log(box.db_path) if r[0] != "GET"]
    # write-ahead: an intent before and an outcome after each write the server saw
    assert len([r for r in records if r["type"] == "intent"]) == len(writes)
    assert len(outcome_lines(records)) == len(writes)
    acme = [r for r in records if r["change"] == "Tenant/acme"]
    assert acme and acme[0]["method"] == "POST" and acme[0]["action"] == "create"
    assert acme[0]["source"].endswith("acme.yaml:2:1")
    assert acme[0]["commit"] == "0123456789abcdef"
    outcomes = {r["outcome"] for r in records}
    assert "ok" in outcomes and outcomes & {"unknown", "refused"}
    assert SANDBOX_TOKEN not in journal.read_text()

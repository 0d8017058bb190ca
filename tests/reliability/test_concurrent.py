"""Two applies of the same specs at once: no duplicates, and the target converges."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from reconciler import core
from tests.integration.helpers import copy_specs, run_cli, target_args, tls


def test_two_concurrent_applies_leave_no_duplicates(
    sandbox: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    specs = copy_specs(tmp_path)
    monkeypatch.setenv("RECONCILER_TOKEN", sandbox.token)
    options = core.TargetChoice(dialect="reference", url=sandbox.url, parallelism=4)

    def apply_once(_: int) -> core.ApplyRun:
        return core.apply(specs, options)

    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(apply_once, range(2)))
    assert all(run.ok for run in runs), [run.result for run in runs]
    # each object was created once: by one run, adopted (409) by the other
    plan = run_cli(
        ["plan", str(specs), *target_args(sandbox), "--detailed-exitcode"], sandbox.token
    )
    assert plan.exit_code == 0, plan.output
    headers = {"Authorization": f"Bearer {sandbox.token}"}
    with httpx.Client(
        base_url=sandbox.url + "/api/v1/operator", headers=headers, verify=tls()
    ) as client:
        for path in ("/tenants", "/plans", "/users"):
            items = client.get(path, params={"limit": 500}).json()["items"]
            names = Counter(i.get("name") or i.get("email") for i in items)
            assert names and all(n == 1 for n in names.values()), f"{path}: {names}"

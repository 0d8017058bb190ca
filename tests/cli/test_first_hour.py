"""The README's "first hour" on an existing platform, end to end through the CLI (issue 14):
export → probe → plan shows nothing → take over one tenant with --only → Ctrl-C-safe re-run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.helpers import api, copy_specs, run_cli, target_args, writes


def test_export_probe_plan_and_adopt_one_tenant_at_a_time(sandbox: Any, tmp_path: Path) -> None:
    platform = copy_specs(tmp_path / "old-tool")  # the platform as another tool left it
    made = run_cli(["apply", str(platform), *target_args(sandbox), "--auto-approve"], sandbox.token)
    assert made.exit_code == 0, made.output

    mine = tmp_path / "myspecs"
    exported = run_cli(["export", str(mine), *target_args(sandbox)], sandbox.token)
    assert exported.exit_code == 0, exported.output
    probed = run_cli(["probe", str(mine)], sandbox.token)  # the target is in reconciler.yaml now
    assert probed.exit_code == 0, probed.output
    empty = run_cli(["plan", str(mine), "--detailed-exitcode"], sandbox.token)
    assert empty.exit_code == 0, empty.output

    tenants = mine / "tenants.yaml"
    text = tenants.read_text()
    tenants.write_text(text.replace("displayName: Globex", "displayName: Globex Inc", 1))
    tenants.write_text(
        tenants.read_text().replace("displayName: Initech", "displayName: Initech 2")
    )
    before = len(writes(sandbox.db_path))
    one = run_cli(["apply", str(mine), "--only", "Tenant/globex", "--auto-approve"], sandbox.token)
    assert one.exit_code == 0, one.output
    assert "--only" in one.stderr  # the warning: another change is pending and not shown
    sent = writes(sandbox.db_path)[before:]
    assert sent and all("/tenants/" in path for _, path, _ in sent)
    with api(sandbox) as client:
        listed = {
            t["name"]: t for t in client.get("/tenants", params={"limit": 500}).json()["items"]
        }
    assert listed["globex"]["display_name"] == "Globex Inc"
    assert listed["initech"]["display_name"] == "Initech"  # not selected: untouched
    rest = run_cli(["plan", str(mine), "--detailed-exitcode"], sandbox.token)
    assert rest.exit_code == 2 and "Tenant/initech" in rest.stdout

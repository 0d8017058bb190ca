"""Guards over real HTTP: mass changes, lockout, protect, ignoreFields, suspend-then-delete."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.helpers import States, api, copy_specs, run_cli, target_args, writes

HEADER = "apiVersion: reconciler.dev/v1\n"


def config(specs: Path, text: str) -> None:
    (specs / "reconciler.yaml").write_text(HEADER + text)


def hand_made_tenants(sandbox: Any, count: int) -> None:
    with api(sandbox) as client:
        for i in range(count):
            assert client.post("/tenants", json={"name": f"hand-{i:02d}"}).status_code == 201


def backdate_suspension(sandbox: Any, name: str, by: timedelta) -> None:
    """Move the sandbox's record of when tenant ``name`` was suspended ``by`` into the past:
    its grace period has passed as far as the API can tell, without waiting for it."""
    with sqlite3.connect(sandbox.db_path) as db:
        [(ident, text)] = db.execute("SELECT id, data FROM tenants WHERE key = ?", (name,))
        tenant = json.loads(text)
        since = datetime.fromisoformat(tenant["suspended_at"].replace("Z", "+00:00")) - by
        tenant["suspended_at"] = since.isoformat(timespec="microseconds").replace("+00:00", "Z")
        db.execute("UPDATE tenants SET data = ? WHERE id = ?", (json.dumps(tenant), ident))
    db.close()


@pytest.fixture
def applied(sandbox: Any, tmp_path: Path, states: States) -> Path:
    specs = copy_specs(tmp_path)

    def apply() -> None:
        args = ["apply", str(specs), *target_args(sandbox), "--auto-approve"]
        result = run_cli(args, sandbox.token)
        assert result.exit_code == 0, result.output

    states.made(sandbox, "the starter specs applied", apply)
    return specs


def test_mass_suspension_is_refused_unless_allowed(sandbox: Any, applied: Path) -> None:
    hand_made_tenants(sandbox, 11)
    config(applied, "prune: {Tenant: suspend}\n")
    args = ["apply", str(applied), *target_args(sandbox), "--auto-approve"]
    plan = run_cli(["plan", str(applied), *target_args(sandbox)], sandbox.token)
    assert "Apply will refuse this plan without --allow-mass-changes" in plan.stdout
    before = len(writes(sandbox.db_path))
    refused = run_cli(args, sandbox.token)
    assert refused.exit_code == 1
    assert "11 suspensions/deletions exceed the limit of 10" in refused.stderr
    assert "suspend Tenant/hand-00" in refused.stderr
    assert len(writes(sandbox.db_path)) == before
    allowed = run_cli([*args, "--allow-mass-changes"], sandbox.token)
    assert allowed.exit_code == 0, allowed.output
    assert "11 applied" in allowed.stdout


def test_share_of_a_kind_is_guarded_and_configurable(sandbox: Any, applied: Path) -> None:
    hand_made_tenants(sandbox, 3)  # 3 of 8 live tenants... below the 10 needed for a share
    config(applied, "prune: {Tenant: suspend}\n")
    args = ["apply", str(applied), *target_args(sandbox), "--auto-approve"]
    assert run_cli(args, sandbox.token).exit_code == 0
    hand_made_tenants(sandbox, 0)
    with api(sandbox) as client:
        for i in range(3, 6):
            client.post("/tenants", json={"name": f"hand-{i:02d}"})
    # 11 tenants live now, 3 more to suspend = 27% > 20%
    refused = run_cli(args, sandbox.token)
    assert refused.exit_code == 1
    assert "3 of 11 live Tenant objects (27%)" in refused.stderr
    config(applied, "prune: {Tenant: suspend}\nguards: {maxRemovalPercent: 50}\n")
    assert run_cli(args, sandbox.token).exit_code == 0


def test_the_last_active_admin_cannot_be_disabled(sandbox: Any, applied: Path) -> None:
    ops = applied / "operators.yaml"
    text = ops.read_text()
    assert "role: operator-admin\nstatus: active\n" in text
    ops.write_text(
        text.replace(
            "role: operator-admin\nstatus: active\n", "role: operator-admin\nstatus: disabled\n", 1
        )
    )
    before = len(writes(sandbox.db_path))
    refused = run_cli(
        ["apply", str(applied), *target_args(sandbox), "--auto-approve"], sandbox.token
    )
    assert refused.exit_code == 1
    assert "no active operator would hold the 'operator-admin' role" in refused.stderr
    assert len(writes(sandbox.db_path)) == before


def test_the_old_admin_stays_active_when_its_replacement_fails(sandbox: Any, applied: Path) -> None:
    """The plan passes the lockout guard (a new admin replaces the old one), but the
    new admin's create fails at apply time: the old admin must not be disabled."""
    ops = applied / "operators.yaml"
    ops.write_text(
        ops.read_text().replace(
            "role: operator-admin\nstatus: active\n", "role: operator-admin\nstatus: disabled\n", 1
        )
        + "---\napiVersion: reconciler.dev/v1\nkind: Operator\nemail: new-lead@example.com\n"
        "role: operator-admin\nstatus: active\ntenant: newco\n"
    )
    # The server refuses display names over 100 characters: newco's create fails,
    # so the new admin (who belongs to newco) is never created.
    (applied / "tenants" / "newco.yaml").write_text(
        f"apiVersion: reconciler.dev/v1\nkind: Tenant\nname: newco\ndisplayName: {'N' * 101}\n"
    )
    plan = run_cli(["plan", str(applied), *target_args(sandbox)], sandbox.token)
    assert plan.exit_code == 0, plan.output
    assert plan.stdout.index("Operator/new-lead@example.com") < plan.stdout.index(
        "Operator/ops-lead@example.com"
    )
    since = len(writes(sandbox.db_path))
    result = run_cli(
        ["apply", str(applied), *target_args(sandbox), "--auto-approve"], sandbox.token
    )
    assert result.exit_code == 1
    assert "lockout guard" in result.output
    sent = writes(sandbox.db_path, since)
    assert not [w for w in sent if w[1].endswith("/disable")], sent
    with api(sandbox) as client:
        users = client.get("/users", params={"limit": 500}).json()["items"]
    lead = next(u for u in users if u["email"] == "ops-lead@example.com")
    assert lead["enabled"] is True


def test_a_protected_tenant_cannot_be_suspended(sandbox: Any, applied: Path) -> None:
    acme = applied / "tenants" / "acme.yaml"
    acme.write_text(
        acme.read_text().replace("status: active\n", "status: suspended\nprotect: true\n", 1)
    )
    result = run_cli(["plan", str(applied), *target_args(sandbox)], sandbox.token)
    assert result.exit_code == 1
    assert "Tenant/acme is protected and would be suspended" in result.stderr


def test_config_protect_blocks_a_prune(sandbox: Any, applied: Path) -> None:
    hand_made_tenants(sandbox, 1)
    config(applied, "prune: {Tenant: delete}\nprotect: [Tenant/hand-00]\n")
    result = run_cli(["plan", str(applied), *target_args(sandbox)], sandbox.token)
    assert result.exit_code == 1
    assert "Tenant/hand-00 is protected and would be deleted" in result.stderr


def test_config_protect_blocks_a_suspending_prune_in_plain_words(
    sandbox: Any, applied: Path
) -> None:
    hand_made_tenants(sandbox, 1)
    config(applied, "prune: {Tenant: suspend}\nprotect: [Tenant/hand-00]\n")
    result = run_cli(["plan", str(applied), *target_args(sandbox)], sandbox.token)
    assert result.exit_code == 1
    assert "Tenant/hand-00 is protected and would be suspended by the prune" in result.stderr


def test_ignored_fields_are_left_alone_and_shown(sandbox: Any, applied: Path) -> None:
    with api(sandbox) as client:
        tenants = {t["name"]: t for t in client.get("/tenants").json()["items"]}
        client.patch(f"/tenants/{tenants['globex']['id']}", json={"display_name": "By hand"})
    globex = applied / "tenants" / "globex.yaml"
    globex.write_text(
        globex.read_text().replace(
            "name: globex\n", "name: globex\nignoreFields: [displayName]\n", 1
        )
    )
    result = run_cli(
        ["plan", str(applied), *target_args(sandbox), "--detailed-exitcode"], sandbox.token
    )
    assert result.exit_code == 0, result.output
    assert "Ignored (they differ, but ignoreFields leaves them alone):" in result.stdout
    assert "  Tenant/globex: displayName" in result.stdout


def test_suspend_then_delete_waits_for_the_grace_period(sandbox: Any, applied: Path) -> None:
    hand_made_tenants(sandbox, 1)
    config(applied, "prune: {Tenant: suspend-then-delete}\ngrace: {Tenant: 1h}\n")
    args = ["apply", str(applied), *target_args(sandbox), "--auto-approve"]
    first = run_cli(args, sandbox.token)
    assert first.exit_code == 0, first.output
    assert "! Tenant/hand-00 will be suspended" in first.stdout
    waiting = run_cli(args, sandbox.token)  # within the grace period: left suspended
    assert waiting.exit_code == 0, waiting.output
    assert "Tenant/hand-00 will be deleted" not in waiting.stdout
    backdate_suspension(sandbox, "hand-00", timedelta(hours=1, seconds=1))  # the hour is over
    second = run_cli(args, sandbox.token)
    assert "- Tenant/hand-00 will be deleted" in second.stdout, second.output
    with api(sandbox) as client:
        assert "hand-00" not in {t["name"] for t in client.get("/tenants").json()["items"]}

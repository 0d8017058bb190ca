"""The iaas-v1 dialect end to end over real HTTP, through the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.sandbox.faults import FaultConfig
from tests.conftest import SANDBOX_TOKEN, SandboxFactory, request_log
from tests.integration.helpers import REPO, run_cli

EXAMPLE = REPO / "examples" / "iaas-v1"
KEY = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
OTHER_KEY = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="


def target(box: Any) -> list[str]:
    return ["--api", "iaas-v1", "--url", box.url + "/api"]


def client(box: Any) -> httpx.Client:
    return httpx.Client(
        base_url=box.url + "/api", headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    )


def members(box: Any) -> dict[str, dict[str, str | None]]:
    """tenant name → {email: pubkey}."""
    with client(box) as c:
        users = {u["id"]: u["email"] for u in c.get("/users").json()}
        return {
            t["name"]: {users[m["user_id"]]: m["pubkey"] for m in t["users"]}
            for t in c.get("/tenants").json()
        }


def writes(box: Any, since: int = 0) -> list[tuple[str, str, int]]:
    return [r for r in request_log(box.db_path)[since:] if r[0] != "GET"]


@pytest.fixture
def box(sandbox_factory: SandboxFactory) -> Any:
    return sandbox_factory("iaas-v1")


def apply(root: Path, box: Any, *extra: str) -> Any:
    return run_cli(["apply", str(root), *target(box), "--auto-approve", *extra], SANDBOX_TOKEN)


def test_example_applies_and_a_second_plan_is_empty(box: Any) -> None:
    result = apply(EXAMPLE, box)
    assert result.exit_code == 0, result.output
    assert members(box)["project-alpha"] == {
        "alice.smith@company.example": KEY,
        "bob.jones@company.example": OTHER_KEY,
    }
    again = run_cli(["plan", str(EXAMPLE), *target(box), "--detailed-exitcode"], SANDBOX_TOKEN)
    assert again.exit_code == 0, again.output


def copy_example(tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(EXAMPLE, tmp_path / "specs"))


def test_a_move_is_remove_then_add_and_a_role_change_one_put(box: Any, tmp_path: Path) -> None:
    specs = copy_example(tmp_path)
    assert apply(specs, box).exit_code == 0
    users = specs / "users.yaml"
    text = users.read_text().replace(
        "email: alice.smith@company.example\nrole: member\ntenant: project-alpha",
        "email: alice.smith@company.example\nrole: operator\ntenant: project-beta",
    )
    users.write_text(text)
    before = len(request_log(box.db_path))
    result = apply(specs, box)
    assert result.exit_code == 0, result.output
    done = writes(box, before)
    assert [m for m, _, _ in done] == ["PUT", "DELETE", "PUT"]
    assert done[0][1].startswith("/api/users/")
    assert done[1][1].startswith("/api/tenants/") and "/users/" in done[1][1]  # leave old
    assert done[2][1].startswith("/api/tenants/") and "/users/" in done[2][1]  # join new
    assert "alice.smith@company.example" in members(box)["project-beta"]


def test_one_tenant_per_user_is_enforced_by_the_api(box: Any) -> None:
    assert apply(EXAMPLE, box).exit_code == 0
    with client(box) as c:
        users = {u["email"]: u["id"] for u in c.get("/users").json()}
        tenants = {t["name"]: t["id"] for t in c.get("/tenants").json()}
        second = c.put(
            f"/tenants/{tenants['project-beta']}/users/{users['alice.smith@company.example']}",
            json={"pubkey": KEY},
        )
    assert second.status_code == 409
    assert "already belongs to tenant" in second.json()["detail"]


def test_removals_follow_the_policy(box: Any, tmp_path: Path) -> None:
    specs = copy_example(tmp_path)
    assert apply(specs, box).exit_code == 0
    (specs / "tenants.yaml").write_text(
        (specs / "tenants.yaml")
        .read_text()
        .replace("---\napiVersion: reconciler.dev/v1\nkind: Tenant\nname: platform-ops\n", "")
    )
    users = specs / "users.yaml"
    docs = users.read_text().split("---\n")
    users.write_text("---\n".join(d for d in docs if "ops-lead@" not in d))
    (specs / "reconciler.yaml").write_text(
        "apiVersion: reconciler.dev/v1\nprune: {Tenant: delete, Operator: delete}\n"
    )
    before = len(request_log(box.db_path))
    result = apply(specs, box)
    assert result.exit_code == 0, result.output
    done = writes(box, before)
    # the user goes before the tenant it belongs to
    assert [(m, p.split("/")[2]) for m, p, _ in done] == [
        ("DELETE", "users"),
        ("DELETE", "tenants"),
    ]
    assert "platform-ops" not in members(box)


def test_existing_objects_are_adopted_not_duplicated(box: Any) -> None:
    with client(box) as c:
        made = c.post("/tenants", json={"name": "project-alpha", "users": []})
        assert made.status_code == 201
        c.post(
            "/users",
            json={"email": "carol.wu@company.example", "role": "member", "ssh_key_id": None},
        )
    result = apply(EXAMPLE, box)
    assert result.exit_code == 0, result.output
    with client(box) as c:
        names = [t["name"] for t in c.get("/tenants").json()]
        emails = [u["email"] for u in c.get("/users").json()]
    assert sorted(names) == ["platform-ops", "project-alpha", "project-beta"]
    assert len(emails) == len(set(emails)) == 5


def test_unsupported_fields_and_missing_keys_fail_before_any_call(box: Any, tmp_path: Path) -> None:
    root = tmp_path / "specs"
    root.mkdir()
    (root / "all.yaml").write_text(
        "apiVersion: reconciler.dev/v1\nkind: Tenant\nname: t\ndisplayName: T\n"
        "features: {sso: true}\n---\n"
        "apiVersion: reconciler.dev/v1\nkind: Operator\nemail: a@b.example\ntenant: t\n"
    )
    result = run_cli(["plan", str(root), *target(box)], SANDBOX_TOKEN)
    assert result.exit_code == 1
    err = result.stderr
    assert "Tenant/t: field 'display_name' cannot be set through the iaas-v1 API" in err
    assert "FeatureFlag/t/sso: the iaas-v1 API does not manage FeatureFlag objects" in err
    assert (
        "Operator/a@b.example: a tenant member on the iaas-v1 API needs its 'wireguardPubkey'"
        in err
    )
    assert request_log(box.db_path) == []


def test_faults_and_extra_fields_still_converge(
    sandbox_factory: SandboxFactory,
) -> None:
    noisy = sandbox_factory(
        "iaas-v1", seed={"quirks": {"extra_fields": True}}, faults=FaultConfig(rate=0.2, seed=4)
    )
    for _ in range(3):
        result = apply(EXAMPLE, noisy)
        if result.exit_code == 0:
            break
    else:
        pytest.fail(result.output)
    noisy.stop()
    calm = sandbox_factory("iaas-v1", db_path=noisy.db_path)
    plan = run_cli(["plan", str(EXAMPLE), *target(calm), "--detailed-exitcode"], SANDBOX_TOKEN)
    assert plan.exit_code == 0, plan.output


def test_wireguard_keys_are_sensitive_in_plans_and_plan_files(box: Any, tmp_path: Path) -> None:
    specs = copy_example(tmp_path)
    shown = run_cli(["plan", str(specs), *target(box)], SANDBOX_TOKEN)
    assert 'wireguard_pubkey = "(sensitive)"' in shown.stdout
    assert KEY not in shown.output
    as_json = run_cli(["plan", str(specs), *target(box), "--format", "json"], SANDBOX_TOKEN)
    assert KEY not in as_json.stdout and "(sensitive)" in as_json.stdout
    saved = tmp_path / "plan.json"
    assert (
        run_cli(["plan", str(specs), *target(box), "--out", str(saved)], SANDBOX_TOKEN).exit_code
        == 0
    )
    assert KEY not in saved.read_text()
    applied = run_cli(["apply", str(saved), "--auto-approve"], SANDBOX_TOKEN)
    assert applied.exit_code == 0, applied.output
    assert members(box)["project-alpha"]["alice.smith@company.example"] == KEY

    # a key changed in the specs after the plan was made: the plan no longer applies
    users = specs / "users.yaml"
    users.write_text(
        users.read_text().replace(
            "role: member\ntenant: project-beta", "role: operator\ntenant: project-beta"
        )
    )
    stale = tmp_path / "stale.json"
    assert (
        run_cli(["plan", str(specs), *target(box), "--out", str(stale)], SANDBOX_TOKEN).exit_code
        == 0
    )
    users.write_text(
        users.read_text().replace("TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=", OTHER_KEY)
    )
    refused = run_cli(["apply", str(stale), "--auto-approve"], SANDBOX_TOKEN)
    assert refused.exit_code == 1
    assert "no longer hold the value it was planned with" in refused.stderr

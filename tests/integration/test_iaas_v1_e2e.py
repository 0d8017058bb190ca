"""The iaas-v1 dialect end to end over real HTTP, through the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.sandbox.faults import FaultConfig
from tests.conftest import SANDBOX_TOKEN, FreshSandbox, SandboxFactory, request_log
from tests.integration.helpers import REPO, assert_converges_through_faults, copy_tree, run_cli, tls

EXAMPLE = REPO / "examples" / "iaas-v1"
KEY = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
OTHER_KEY = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="
NEW_KEY = "mF4vW0ZV7s9Qz3bq8yJp1xKc2TnLr6HdEoGuAiBjYkM="
PEOPLE = [
    {"email": "alice.smith@company.example", "role": "member"},
    {"email": "bob.jones@company.example", "role": "member"},
    {"email": "carol.wu@company.example", "role": "member"},
    {"email": "ops-lead@company.example", "role": "operator"},
    {"email": "auditor@company.example", "role": "operator"},
]
"""The example's users as they would exist before reconciler manages them."""


def target(box: Any) -> list[str]:
    return ["--api", "iaas-v1", "--url", box.url + "/api"]


def client(box: Any) -> httpx.Client:
    return httpx.Client(
        base_url=box.url + "/api",
        headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"},
        verify=tls(),
    )


def ids(box: Any) -> tuple[dict[str, str], dict[str, str]]:
    """(email → user id, tenant name → tenant id)."""
    with client(box) as c:
        users = {u["email"]: u["id"] for u in c.get("/users").json()}
        return users, {t["name"]: t["id"] for t in c.get("/tenants").json()}


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
def box(fresh_sandbox: FreshSandbox) -> Any:
    return fresh_sandbox("iaas-v1")


def apply(root: Path, box: Any, *extra: str) -> Any:
    return run_cli(["apply", str(root), *target(box), "--auto-approve", *extra], SANDBOX_TOKEN)


def plan_exit(root: Path, box: Any) -> int:
    result = run_cli(["plan", str(root), *target(box), "--detailed-exitcode"], SANDBOX_TOKEN)
    return int(result.exit_code)


def copy_example(tmp_path: Path) -> Path:
    return Path(copy_tree(EXAMPLE, tmp_path / "specs"))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def drop_document(path: Path, marker: str) -> None:
    """Remove the YAML document of ``path`` that contains ``marker``."""
    docs = path.read_text().split("---\n")
    kept = [d for d in docs if marker not in d]
    assert len(kept) == len(docs) - 1
    path.write_text("---\n".join(kept))


def test_example_applies_and_a_second_plan_is_empty(box: Any) -> None:
    result = apply(EXAMPLE, box)
    assert result.exit_code == 0, result.output
    assert members(box) == {
        "project-alpha": {
            "alice.smith@company.example": KEY,
            "bob.jones@company.example": OTHER_KEY,
        },
        "project-beta": {
            "carol.wu@company.example": "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0="
        },
        "platform-ops": {
            "ops-lead@company.example": "gN65BkIKy1eCE9pP1wdc8ROUtkHLF2PfAqYdyYBz6EA="
        },
    }
    assert plan_exit(EXAMPLE, box) == 0


def test_a_move_is_remove_then_add_and_a_role_change_one_put(box: Any, tmp_path: Path) -> None:
    specs = copy_example(tmp_path)
    assert apply(specs, box).exit_code == 0
    edit(
        specs / "users.yaml",
        "email: alice.smith@company.example\nrole: member\ntenant: project-alpha",
        "email: alice.smith@company.example\nrole: operator\ntenant: project-beta",
    )
    users, tenants = ids(box)
    alice = users["alice.smith@company.example"]
    before = len(request_log(box.db_path))
    result = apply(specs, box)
    assert result.exit_code == 0, result.output
    assert writes(box, before) == [
        ("PUT", f"/api/users/{alice}", 200),
        ("DELETE", f"/api/tenants/{tenants['project-alpha']}/users/{alice}", 204),
        ("PUT", f"/api/tenants/{tenants['project-beta']}/users/{alice}", 200),
    ]
    assert members(box)["project-beta"]["alice.smith@company.example"] == KEY
    assert "alice.smith@company.example" not in members(box)["project-alpha"]
    assert plan_exit(specs, box) == 0


def test_a_key_change_is_one_put_of_the_membership(box: Any, tmp_path: Path) -> None:
    specs = copy_example(tmp_path)
    assert apply(specs, box).exit_code == 0
    edit(specs / "users.yaml", OTHER_KEY, NEW_KEY)  # bob's key
    users, tenants = ids(box)
    before = len(request_log(box.db_path))
    assert apply(specs, box).exit_code == 0
    bob = users["bob.jones@company.example"]
    assert writes(box, before) == [
        ("PUT", f"/api/tenants/{tenants['project-alpha']}/users/{bob}", 200)
    ]
    assert members(box)["project-alpha"]["bob.jones@company.example"] == NEW_KEY


def test_leaving_a_tenant_is_one_delete(box: Any, tmp_path: Path) -> None:
    specs = copy_example(tmp_path)
    assert apply(specs, box).exit_code == 0
    edit(
        specs / "users.yaml",
        f"tenant: project-alpha\nwireguardPubkey: {OTHER_KEY}\n",
        "tenant: null\n",
    )
    users, tenants = ids(box)
    before = len(request_log(box.db_path))
    assert apply(specs, box).exit_code == 0
    bob = users["bob.jones@company.example"]
    assert writes(box, before) == [
        ("DELETE", f"/api/tenants/{tenants['project-alpha']}/users/{bob}", 204)
    ]
    assert plan_exit(specs, box) == 0


def test_the_api_refuses_a_second_tenant(box: Any) -> None:
    assert apply(EXAMPLE, box).exit_code == 0
    users, tenants = ids(box)
    with client(box) as c:
        second = c.put(
            f"/tenants/{tenants['project-beta']}/users/{users['alice.smith@company.example']}",
            json={"pubkey": KEY},
        )
    assert second.status_code == 409
    assert "already belongs to tenant" in second.json()["detail"]
    assert "alice.smith@company.example" in members(box)["project-alpha"]


def test_removals_follow_the_policy(box: Any, tmp_path: Path) -> None:
    specs = copy_example(tmp_path)
    assert apply(specs, box).exit_code == 0
    users, tenants = ids(box)
    drop_document(specs / "tenants.yaml", "name: platform-ops")
    drop_document(specs / "users.yaml", "ops-lead@")
    drop_document(specs / "users.yaml", "bob.jones@")

    # The example's policy ignores what the specs no longer list: nothing goes.
    before = len(request_log(box.db_path))
    assert apply(specs, box).exit_code == 0
    assert writes(box, before) == []

    (specs / "reconciler.yaml").write_text(
        "apiVersion: reconciler.dev/v1\nprune: {Tenant: delete, Operator: delete}\n"
    )
    before = len(request_log(box.db_path))
    result = apply(specs, box)
    assert result.exit_code == 0, result.output
    done = writes(box, before)
    # One DELETE per user (the API takes it out of its tenant), and the tenant after
    # the member that pointed at it.
    assert sorted(done[:2]) == sorted(
        [
            ("DELETE", f"/api/users/{users['bob.jones@company.example']}", 204),
            ("DELETE", f"/api/users/{users['ops-lead@company.example']}", 204),
        ]
    )
    assert done[2:] == [("DELETE", f"/api/tenants/{tenants['platform-ops']}", 204)]
    assert members(box)["project-alpha"] == {"alice.smith@company.example": KEY}
    assert "platform-ops" not in members(box)
    assert plan_exit(specs, box) == 0


def test_tenant_suspension_is_refused_before_any_write(box: Any, tmp_path: Path) -> None:
    specs = copy_example(tmp_path)
    assert apply(specs, box).exit_code == 0
    drop_document(specs / "tenants.yaml", "name: platform-ops")
    drop_document(specs / "users.yaml", "ops-lead@")
    (specs / "reconciler.yaml").write_text(
        "apiVersion: reconciler.dev/v1\nprune: {Tenant: suspend, Operator: ignore}\n"
    )
    before = len(request_log(box.db_path))
    result = run_cli(["apply", str(specs), *target(box), "--auto-approve"], SANDBOX_TOKEN)
    assert result.exit_code != 0
    assert "Tenant/platform-ops: the iaas-v1 API cannot suspend Tenant objects" in result.stderr
    assert writes(box, before) == []


def test_existing_objects_are_adopted_not_duplicated(box: Any) -> None:
    with client(box) as c:
        assert c.post("/tenants", json={"name": "project-alpha", "users": []}).status_code == 201
        made = c.post(
            "/users",
            json={"email": "Carol.Wu@company.example", "role": "member", "ssh_key_id": "k-1"},
        )
        assert made.status_code == 201
    result = apply(EXAMPLE, box)
    assert result.exit_code == 0, result.output
    with client(box) as c:
        names = [t["name"] for t in c.get("/tenants").json()]
        people = c.get("/users").json()
    assert sorted(names) == ["platform-ops", "project-alpha", "project-beta"]
    assert len(people) == len({p["email"].lower() for p in people}) == 5
    carol = next(p for p in people if p["email"].lower() == "carol.wu@company.example")
    assert carol["id"] == made.json()["id"] and carol["ssh_key_id"] == "k-1"
    assert "carol.wu@company.example" in {e.lower() for e in members(box)["project-beta"]}
    assert plan_exit(EXAMPLE, box) == 0


def test_a_new_tenant_takes_its_known_members_in_its_create(
    fresh_sandbox: FreshSandbox,
) -> None:
    box = fresh_sandbox("iaas-v1", seed={"users": PEOPLE})
    result = apply(EXAMPLE, box)
    assert result.exit_code == 0, result.output
    # the users exist and are in no tenant: each tenant's POST carries its members
    assert writes(box) == [("POST", "/api/tenants", 201)] * 3
    assert members(box)["project-alpha"] == {
        "alice.smith@company.example": KEY,
        "bob.jones@company.example": OTHER_KEY,
    }
    assert plan_exit(EXAMPLE, box) == 0


def test_a_server_error_names_the_resource_the_call_and_the_message(
    box: Any, tmp_path: Path
) -> None:
    specs = copy_example(tmp_path)
    with (specs / "tenants.yaml").open("a") as f:
        f.write("---\napiVersion: reconciler.dev/v1\nkind: Tenant\nname: Project Gamma\n")
    with (specs / "users.yaml").open("a") as f:
        f.write(
            "---\napiVersion: reconciler.dev/v1\nkind: Operator\nemail: dan@company.example\n"
            f"tenant: Project Gamma\nwireguardPubkey: {NEW_KEY}\n"
        )
    result = apply(specs, box)
    assert result.exit_code != 0
    assert (
        "Tenant/Project Gamma: POST /tenants returned 400: name: 1-63 lowercase letters"
        in result.output
    )
    assert "Operator/dan@company.example" in result.output  # skipped: its tenant failed
    assert "project-alpha" in members(box)  # the rest went through
    assert "dan@company.example" not in ids(box)[0]


def test_what_the_api_cannot_do_fails_before_any_call(box: Any, tmp_path: Path) -> None:
    root = tmp_path / "specs"
    root.mkdir()
    (root / "all.yaml").write_text(
        "apiVersion: reconciler.dev/v1\nkind: Tenant\nname: t\ndisplayName: T\n"
        "configuration: {region: eu}\nfeatures: {sso: true}\n---\n"
        "apiVersion: reconciler.dev/v1\nkind: Operator\nemail: a@b.example\ntenant: t\n---\n"
        "apiVersion: reconciler.dev/v1\nkind: Operator\nemail: c@b.example\nstatus: disabled\n"
        f"wireguardPubkey: {KEY}\n---\n"
        "apiVersion: reconciler.dev/v1\nkind: Operator\nemail: d@b.example\nrole: admin\n"
    )
    result = run_cli(["plan", str(root), *target(box)], SANDBOX_TOKEN)
    assert result.exit_code == 1
    err = result.stderr
    for line in (
        "all.yaml:4:14: Tenant/t: field 'display_name' cannot be set through the iaas-v1 API",
        "Tenant/t: field 'configuration' cannot be set through the iaas-v1 API",
        "FeatureFlag/t/sso: the iaas-v1 API does not manage FeatureFlag objects",
        "all.yaml:11:9: Operator/a@b.example: a member of tenant 't' on the iaas-v1 API needs "
        "its 'wireguardPubkey'",
        "Operator/c@b.example: field 'status' cannot be set through the iaas-v1 API",
        "Operator/c@b.example: 'wireguardPubkey' on the iaas-v1 API belongs to a tenant "
        "membership: set 'tenant' too",
        "Operator/d@b.example: role 'admin' is not one the iaas-v1 API accepts (member, operator)",
    ):
        assert line in err, err
    assert request_log(box.db_path) == []


def test_capped_pages_and_unknown_fields_still_converge(fresh_sandbox: FreshSandbox) -> None:
    box = fresh_sandbox("iaas-v1", seed={"quirks": {"max_page": 2, "extra_fields": True}})
    result = apply(EXAMPLE, box)
    assert result.exit_code == 0, result.output
    assert plan_exit(EXAMPLE, box) == 0
    user_pages = [r for r in request_log(box.db_path) if r[:2] == ("GET", "/api/users")]
    assert len(user_pages) >= 4  # 5 users, 2 a page: the walk went past the first page


def test_faults_and_extra_fields_still_converge(sandbox_factory: SandboxFactory) -> None:
    assert_converges_through_faults(
        sandbox_factory,
        "iaas-v1",
        EXAMPLE,
        FaultConfig(rate=0.2, seed=4),
        base_path="/api",
        seed={"quirks": {"extra_fields": True}},
    )


def test_wireguard_keys_are_sensitive_in_plans_and_plan_files(box: Any, tmp_path: Path) -> None:
    specs = copy_example(tmp_path)
    shown = run_cli(["plan", str(specs), *target(box)], SANDBOX_TOKEN)
    assert 'wireguardPubkey = "(sensitive)"' in shown.stdout
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


def test_show_calls_masks_wireguard_keys(box: Any, tmp_path: Path) -> None:
    specs = copy_example(tmp_path)
    result = run_cli(["plan", str(specs), *target(box), "--show-calls"], SANDBOX_TOKEN)
    assert result.exit_code == 0, result.output
    assert '"pubkey": "***"' in result.stdout
    assert KEY not in result.output and OTHER_KEY not in result.output

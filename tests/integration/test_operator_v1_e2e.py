"""The operator-v1 dialect end to end: the CLI over real HTTP against its sandbox."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import Result

from reconciler.sandbox.faults import FaultConfig
from tests.conftest import SANDBOX_TOKEN, FreshSandbox, SandboxFactory, request_log
from tests.integration.helpers import (
    REPO,
    States,
    api,
    assert_converges_through_faults,
    copy_tree,
    run_cli,
    tls,
)

EXAMPLE = REPO / "examples" / "operator-v1"
BASE = "/api/v1/operator"


def target(box: Any) -> list[str]:
    return ["--api", "operator-v1", "--url", box.url]


def apply(specs: Path, box: Any) -> Result:
    return run_cli(["apply", str(specs), *target(box), "--auto-approve"], SANDBOX_TOKEN)


def plan_exit(specs: Path, box: Any) -> int:
    return run_cli(
        ["plan", str(specs), *target(box), "--detailed-exitcode"], SANDBOX_TOKEN
    ).exit_code


def writes(box: Any, since: int = 0) -> list[tuple[str, str]]:
    """Write calls since ``since``, as (method, path below BASE)."""
    return [(m, p.removeprefix(BASE)) for m, p, _ in request_log(box.db_path)[since:] if m != "GET"]


def shape(calls: list[tuple[str, str]], ids: dict[str, str]) -> list[tuple[str, str]]:
    """Calls with server ids replaced by the names they stand for."""
    named = []
    for method, path in calls:
        for id_, name in ids.items():
            path = path.replace(id_, name)
        named.append((method, path))
    return named


def ids(box: Any) -> dict[str, str]:
    """Server id → name of every device tier, plan, tenant and user."""
    found = {}
    with api(box) as c:
        for path in ("/device-tiers", "/plans", "/tenants", "/users"):
            for obj in c.get(path, params={"limit": 500}).json()["items"]:
                found[obj["id"]] = obj.get("name") if "email" not in obj else obj["email"]
    return found


def live(box: Any, path: str) -> dict[str, dict[str, Any]]:
    with api(box) as c:
        items = c.get(path, params={"limit": 500}).json()["items"]
    return {obj.get("email", obj.get("name")): obj for obj in items}


@pytest.fixture
def box(fresh_sandbox: FreshSandbox) -> Any:
    return fresh_sandbox("operator-v1")


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    return Path(copy_tree(EXAMPLE, tmp_path / "specs"))


@pytest.fixture
def applied(box: Any, specs: Path, states: States) -> Any:
    def make() -> None:
        result = apply(specs, box)
        assert result.exit_code == 0, result.output

    states.made(box, "the example applied", make)
    return box


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_the_example_applies_in_dependency_order_and_converges(applied: Any) -> None:
    box = applied
    assert plan_exit(EXAMPLE, box) == 0
    calls = shape(writes(box), ids(box))
    creates = [p for m, p in calls if m == "POST" and p.count("/") == 1]
    assert Counter(creates) == {"/device-tiers": 3, "/plans": 2, "/tenants": 4, "/users": 3}
    first_tenant = calls.index(("POST", "/tenants"))
    defaults = [i for i, (m, p) in enumerate(calls) if p.endswith("/tier-defaults")]
    last_tier = max(i for i, call in enumerate(calls) if call == ("POST", "/device-tiers"))
    last_plan = max(i for i, call in enumerate(calls) if call == ("POST", "/plans"))
    assert len(defaults) == 2 and max(last_tier, last_plan) < min(defaults)
    assert max(defaults) < first_tenant
    # a suspended tenant is created, then suspended; a disabled operator created, then disabled
    assert ("PATCH", "/tenants/fabrikam-pilot") in calls
    assert ("POST", "/users/contractor@partner.example.net/disable") in calls
    assert len(calls) == 3 + 2 + 2 + 4 + 1 + 3 + 1  # nothing sent twice
    tenants = live(box, "/tenants")
    assert tenants["fabrikam-pilot"]["status"] == "suspended"
    assert tenants["fabrikam-pilot"]["suspended_at"]
    assert tenants["northwind-cold-chain"]["parent_id"] == tenants["northwind"]["id"]
    users = live(box, "/users")
    assert users["contractor@partner.example.net"]["enabled"] is False
    assert users["support@iot.example.com"]["tenant_id"] == tenants["northwind"]["id"]
    # created in one call with its tenant, so after the tenant
    assert users["support@iot.example.com"]["created_at"] > tenants["northwind"]["created_at"]
    assert tenants["northwind-cold-chain"]["created_at"] > tenants["northwind"]["created_at"]
    assert users["noc-lead@iot.example.com"]["roles"] == ["operator-admin"]


@pytest.mark.parametrize(
    ("file", "old", "new", "call", "check"),
    [
        (
            "device-tiers.yaml",
            "LTE gateways aggregating up to 64 sensors",
            "LTE gateways, 128 sensors",
            ("PUT", "/device-tiers/standard"),
            # PUT replaces the object: the display name the spec also sets must survive
            ("/device-tiers", "standard", "display_name", "Standard gateways"),
        ),
        (
            "plans.yaml",
            "{basic: 100, standard: 10}",
            "{basic: 150, standard: 10}",
            ("PUT", "/plans/starter/tier-defaults"),
            ("/plans", "starter", "display_name", "Starter"),
        ),
        (
            "tenants/northwind.yaml",
            "retention_days: 180",
            "retention_days: 365",
            ("PATCH", "/tenants/northwind"),
            (
                "/tenants",
                "northwind",
                "configuration",
                {"region": "eu-central-1", "retention_days": 365},
            ),
        ),
        (
            "operators.yaml",
            "name: Support Desk",
            "name: Support Desk (EU)",
            ("PUT", "/users/support@iot.example.com"),
            ("/users", "support@iot.example.com", "email", "support@iot.example.com"),
        ),
        (
            "tenants/contoso.yaml",
            "status: active",
            "status: suspended",
            ("PATCH", "/tenants/contoso-farms"),
            ("/tenants", "contoso-farms", "status", "suspended"),
        ),
    ],
    ids=["device-tier", "tier-default", "configuration", "operator-name", "tenant-suspend"],
)
def test_a_field_change_is_one_call(
    applied: Any,
    specs: Path,
    file: str,
    old: str,
    new: str,
    call: tuple[str, str],
    check: tuple[str, str, str, Any],
) -> None:
    box = applied
    edit(specs / file, old, new)
    before = len(request_log(box.db_path))
    result = apply(specs, box)
    assert result.exit_code == 0, result.output
    assert shape(writes(box, before), ids(box)) == [call]
    path, key, field, value = check
    assert live(box, path)[key][field] == value
    assert plan_exit(specs, box) == 0


def test_a_role_change_adds_the_new_role_then_removes_the_old(applied: Any, specs: Path) -> None:
    box = applied
    edit(
        specs / "operators.yaml",
        "role: operator\nstatus: active",
        "role: operator-admin\nstatus: active",
    )
    before = len(request_log(box.db_path))
    assert apply(specs, box).exit_code == 0
    assert shape(writes(box, before), ids(box)) == [
        ("POST", "/users/support@iot.example.com/roles"),
        ("DELETE", "/users/support@iot.example.com/roles/operator"),
    ]
    assert live(box, "/users")["support@iot.example.com"]["roles"] == ["operator-admin"]
    assert plan_exit(specs, box) == 0


def test_removals_follow_the_prune_policy(applied: Any, specs: Path) -> None:
    """The example's policy suspends tenants and disables operators: one call each."""
    box = applied
    (specs / "tenants" / "contoso.yaml").unlink()
    text = (specs / "operators.yaml").read_text().split("---\n")
    (specs / "operators.yaml").write_text("---\n".join([text[0], text[2]]))
    before = len(request_log(box.db_path))
    result = apply(specs, box)
    assert result.exit_code == 0, result.output
    assert sorted(shape(writes(box, before), ids(box))) == [
        ("PATCH", "/tenants/contoso-farms"),
        ("POST", "/users/support@iot.example.com/disable"),
    ]
    assert live(box, "/tenants")["contoso-farms"]["status"] == "suspended"


def test_deletes_go_dependents_first(applied: Any, specs: Path) -> None:
    """A tenant goes only once its children and its users are gone: three ordered calls."""
    box = applied
    (specs / "reconciler.yaml").write_text(
        "apiVersion: reconciler.dev/v1\nprune: {Tenant: delete, Operator: delete}\n"
    )
    (specs / "tenants" / "northwind.yaml").unlink()
    text = (specs / "operators.yaml").read_text().split("---\n")
    (specs / "operators.yaml").write_text("---\n".join([text[0], text[2]]))
    names = ids(box)
    before = len(request_log(box.db_path))
    result = apply(specs, box)
    assert result.exit_code == 0, result.output
    calls = shape(writes(box, before), names)
    assert calls.index(("DELETE", "/users/support@iot.example.com")) < calls.index(
        ("DELETE", "/tenants/northwind")
    )
    assert calls.index(("DELETE", "/tenants/northwind-cold-chain")) < calls.index(
        ("DELETE", "/tenants/northwind")
    )
    assert len(calls) == 3
    assert set(live(box, "/tenants")) == {"contoso-farms", "fabrikam-pilot"}


def test_a_refused_delete_names_the_resource_the_call_and_the_server(
    applied: Any, specs: Path
) -> None:
    box = applied
    tenant_id = live(box, "/tenants")["contoso-farms"]["id"]
    with api(box) as c:  # someone assigns a user by hand; no spec knows it
        made = c.post("/users", json={"email": "x@farm.example", "tenant_id": tenant_id})
        assert made.status_code == 201
    (specs / "reconciler.yaml").write_text(
        "apiVersion: reconciler.dev/v1\nprune: {Tenant: delete}\n"
    )
    (specs / "tenants" / "contoso.yaml").unlink()
    result = apply(specs, box)
    assert result.exit_code != 0
    assert (
        f"Tenant/contoso-farms: DELETE {BASE}/tenants/{tenant_id} returned 409: "
        "users are assigned to the tenant" in result.output
    )


def test_tier_defaults_must_name_device_tiers(applied: Any, specs: Path) -> None:
    box = applied
    edit(specs / "plans.yaml", "{basic: 100, standard: 10}", "{basic: 100, gold: 10}")
    edit(specs / "tenants" / "contoso.yaml", "telemetry_interval_s: 60", "telemetry_interval_s: 30")
    result = apply(specs, box)
    assert result.exit_code != 0
    plan_id = live(box, "/plans")["starter"]["id"]
    assert (
        f"TierDefaults/starter: PUT {BASE}/plans/{plan_id}/tier-defaults returned 400: "
        "tier_defaults: no device tier named 'gold'" in result.output
    )
    # the tenants on that plan wait for it: skipped, not half-applied
    assert "Tenant/contoso-farms" in result.output and "skipped" in result.output
    assert live(box, "/tenants")["contoso-farms"]["configuration"]["telemetry_interval_s"] == 60


def test_live_objects_with_the_specs_names_are_adopted(box: Any) -> None:
    with api(box) as c:
        assert (
            c.post("/device-tiers", json={"name": "basic", "display_name": "Old"}).status_code
            == 201
        )
        assert c.post("/plans", json={"name": "fleet"}).status_code == 201
        assert c.post("/tenants", json={"name": "northwind"}).status_code == 201
        user = {"email": "NOC-Lead@iot.example.com", "name": "Lead", "role": "operator"}
        assert c.post("/users", json=user).status_code == 201
    result = apply(EXAMPLE, box)
    assert result.exit_code == 0, result.output
    for path in ("/device-tiers", "/plans", "/tenants"):
        with api(box) as c:
            names = Counter(o["name"] for o in c.get(path).json()["items"])
        assert max(names.values()) == 1, names
    assert live(box, "/device-tiers")["basic"]["display_name"] == "Basic sensors"
    lead = live(box, "/users")["NOC-Lead@iot.example.com"]
    assert lead["name"] == "NOC Lead" and lead["roles"] == ["operator-admin"]
    assert len(live(box, "/users")) == 3
    assert plan_exit(EXAMPLE, box) == 0


def test_users_without_an_operator_role_are_not_operators(
    fresh_sandbox: FreshSandbox, specs: Path
) -> None:
    """A tenant's customer listed by GET /users is never disabled nor deleted by a prune."""
    seed = {"users": [{"email": "farmer@contoso.example", "roles": ["customer"]}]}
    box = fresh_sandbox("operator-v1", seed=seed)
    (specs / "reconciler.yaml").write_text(
        "apiVersion: reconciler.dev/v1\nprune: {Operator: delete}\n"
    )
    result = apply(specs, box)
    assert result.exit_code == 0, result.output
    assert "farmer@contoso.example" not in result.output
    assert not [call for call in writes(box) if "farmer" in call[1]]
    assert live(box, "/users")["farmer@contoso.example"]["roles"] == ["customer"]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            "kind: Tenant\nname: t\nfeatures: {sso: true}\n",
            "FeatureFlag/t/sso: the operator-v1 API does not manage FeatureFlag objects",
        ),
        (
            "kind: Tenant\nname: t\nowner: a@b.example\n",
            "Tenant/t: field 'owner' cannot be set through the operator-v1 API",
        ),
        (
            "kind: Tenant\nname: t\nplanOverride: {basic: 5}\n",
            "Tenant/t: field 'plan_override' cannot be set through the operator-v1 API",
        ),
        (
            "kind: Operator\nemail: a@b.example\nrole: operator\n"
            "wireguardPubkey: xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n",
            "Operator/a@b.example: field 'wireguard_pubkey' cannot be set through the "
            "operator-v1 API",
        ),
        (
            "kind: Operator\nemail: a@b.example\nrole: admin\n",
            "Operator/a@b.example: role 'admin' is not one the operator-v1 API accepts",
        ),
        (
            "kind: Operator\nemail: a@b.example\nname: A\n",
            "Operator/a@b.example: the operator-v1 API needs 'role'",
        ),
    ],
    ids=["flags", "owner", "plan-override", "wireguard", "role-choice", "role-missing"],
)
def test_what_the_api_cannot_do_fails_before_any_call(
    box: Any, tmp_path: Path, document: str, message: str
) -> None:
    root = tmp_path / "specs"
    root.mkdir()
    (root / "spec.yaml").write_text("apiVersion: reconciler.dev/v1\n" + document)
    result = run_cli(["plan", str(root), *target(box)], SANDBOX_TOKEN)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "spec.yaml:" in result.stderr
    assert request_log(box.db_path) == []


def test_a_plan_the_api_cannot_delete_is_refused_before_any_write(
    applied: Any, specs: Path
) -> None:
    box = applied
    (specs / "reconciler.yaml").write_text("apiVersion: reconciler.dev/v1\nprune: {Plan: delete}\n")
    edit(specs / "plans.yaml", "name: starter", "name: starter-2024")
    for path in (specs / "tenants").iterdir():
        path.write_text(path.read_text().replace("plan: starter", "plan: starter-2024"))
    before = len(request_log(box.db_path))
    result = apply(specs, box)
    assert result.exit_code != 0
    assert "Plan/starter: the operator-v1 API cannot delete Plan objects" in result.output
    assert writes(box, before) == []


def test_short_pages_and_unknown_fields_still_converge(fresh_sandbox: FreshSandbox) -> None:
    box = fresh_sandbox("operator-v1", seed={"quirks": {"max_page": 2, "extra_fields": True}})
    result = apply(EXAMPLE, box)
    assert result.exit_code == 0, result.output
    assert plan_exit(EXAMPLE, box) == 0
    lists = [q for m, p, q in _queries(box) if p == BASE + "/tenants"]
    assert len(lists) >= 2  # four tenants, two per page


def _queries(box: Any) -> list[tuple[str, str, str]]:
    with sqlite3.connect(box.db_path) as db:
        return [
            (m, p, q)
            for m, p, q in db.execute("SELECT method, path, query FROM request_log ORDER BY seq")
        ]


def test_faults_still_converge(sandbox_factory: SandboxFactory) -> None:
    assert_converges_through_faults(
        sandbox_factory, "operator-v1", EXAMPLE, FaultConfig(rate=0.2, seed=5, max_page=2)
    )


def test_the_token_never_shows(box: Any) -> None:
    result = apply(EXAMPLE, box)
    assert SANDBOX_TOKEN not in result.output
    with httpx.Client(verify=tls()) as c:
        assert c.get(box.url + BASE + "/tenants").status_code == 401

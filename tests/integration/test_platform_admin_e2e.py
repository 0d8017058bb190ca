"""The platform-admin dialect end to end over real HTTP, through the CLI."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from reconciler.engine.executor import execute
from reconciler.engine.plan import Plan
from reconciler.model import Action, Change, Kind, Resource, ResourceId
from reconciler.providers.base import ApplyContext
from reconciler.providers.http import ApiClient
from reconciler.providers.platform_admin import PlatformAdminProvider
from reconciler.sandbox.faults import FaultConfig
from tests.conftest import SANDBOX_TOKEN, FreshSandbox, SandboxFactory
from tests.integration.helpers import REPO, assert_converges_through_faults, copy_tree, run_cli, tls

EXAMPLE = REPO / "examples" / "platform-admin"
DATA: dict[str, Any] = yaml.safe_load((EXAMPLE / ".sandbox" / "data.yaml").read_text())
BASE = "/api/v1/platform/admin"
HEADER = "apiVersion: reconciler.dev/v1\n"
CI = {"GITHUB_SHA": "0123456789abcdef0123", "GITHUB_REPOSITORY": "acme/specs"}


def target(box: Any) -> list[str]:
    return ["--api", "platform-admin", "--url", box.url]


def call(box: Any, method: str, path: str, **kw: Any) -> Any:
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    response = httpx.request(method, box.url + BASE + path, headers=headers, **kw, verify=tls())
    assert response.status_code < 300, response.text
    return response.json()["data"]


def log(box: Any) -> list[tuple[str, str, str, int]]:
    """Every request served: (method, path with ids as {id}, query, status)."""
    with sqlite3.connect(box.db_path) as db:
        rows = db.execute("SELECT method, path, query, status FROM request_log ORDER BY seq")
        return [(m, _template(p), q, int(s)) for m, p, q, s in rows]


def _template(path: str) -> str:
    path = path.removeprefix(BASE)
    return re.sub(r"/(tenants|users)/(?!test\b)[^/]+", r"/\1/{id}", path)


def writes(box: Any, since: int = 0) -> list[tuple[str, str, int]]:
    return [(m, p, s) for m, p, _, s in log(box)[since:] if m != "GET"]


def audit(box: Any, action: str) -> list[dict[str, Any]]:
    with sqlite3.connect(box.db_path) as db:
        rows = [json.loads(r) for (r,) in db.execute("SELECT data FROM audit ORDER BY seq")]
    return [r for r in rows if r["action"] == action]


def tenant_id(box: Any, name: str) -> str:
    tenants = call(box, "GET", "/tenants", params={"search": name})["tenants"]
    return str(next(t["id"] for t in tenants if t["company_name"] == name))


def specs(tmp_path: Path, **files: str) -> Path:
    """A copy of the example with some files replaced (``name=None`` text removes one)."""
    root = Path(copy_tree(EXAMPLE, tmp_path / "specs"))
    for name, text in files.items():
        (root / f"{name}.yaml").write_text(text)
    return root


def apply(root: Path, box: Any, *extra: str, **env: str) -> Any:
    args = ["apply", str(root), *target(box), "--auto-approve", *extra]
    return run_cli(args, SANDBOX_TOKEN, **env)


def plan_exit(root: Path, box: Any) -> int:
    result = run_cli(["plan", str(root), *target(box), "--detailed-exitcode"], SANDBOX_TOKEN)
    return int(result.exit_code)


@pytest.fixture
def box(fresh_sandbox: FreshSandbox) -> Any:
    return fresh_sandbox("platform-admin", seed=DATA)


# ---- the example, end to end ---------------------------------------------------------


def test_the_example_applies_with_the_minimal_calls_then_plans_clean(
    box: Any, tmp_path: Path
) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 42}}))
    result = apply(EXAMPLE, box, **CI, GITHUB_EVENT_PATH=str(event))
    assert result.exit_code == 0, result.output
    assert Counter(writes(box)) == Counter(
        [
            ("POST", "/tenants/test", 201),  # Demo Account: the only create there is
            ("PATCH", "/tenants/{id}", 200),  # Acme Corp's plan override
            ("PATCH", "/tenants/{id}/feature-flags", 200),  # Acme Corp: 2 flags, one call
            ("PATCH", "/tenants/{id}/feature-flags", 200),  # Demo Account
            ("POST", "/users/{id}/suspend", 200),
        ]
    )
    origin = "reconciler: commit 0123456789ab of acme/specs, PR #42"
    flag_calls = audit(box, "flags_updated")
    assert [e["reason"] for e in flag_calls] == [origin, origin]
    assert {"advanced_analytics": True, "api_access": True} in [e["flags"] for e in flag_calls]
    assert [e["reason"] for e in audit(box, "account_suspended")] == [origin]
    demo = call(box, "GET", f"/tenants/{tenant_id(box, 'Demo Account')}")["tenant"]
    assert (demo["plan"], demo["owner_email"]) == ("pro", "demo@example.com")
    assert plan_exit(EXAMPLE, box) == 0


def test_a_field_change_is_one_patch_that_keeps_keys_set_by_hand(box: Any, tmp_path: Path) -> None:
    assert apply(EXAMPLE, box).exit_code == 0
    acme = tenant_id(box, "Acme Corp")
    live = call(box, "GET", f"/tenants/{acme}")["tenant"]["plan_override"]
    call(box, "PATCH", f"/tenants/{acme}", json={"plan_override": {**live, "notes": "by hand"}})
    text = (
        (EXAMPLE / "tenants.yaml")
        .read_text()
        .replace("price_monthly: 249.0", "price_monthly: 199.0")
    )
    root = specs(tmp_path, tenants=text)
    before = len(log(box))
    result = apply(root, box)
    assert result.exit_code == 0, result.output
    assert writes(box, before) == [("PATCH", "/tenants/{id}", 200)]
    after = call(box, "GET", f"/tenants/{acme}")["tenant"]["plan_override"]
    assert after == {**live, "price_monthly": 199.0, "notes": "by hand"}
    assert plan_exit(root, box) == 0


# ---- one bulk flag call per tenant ------------------------------------------------------


@pytest.mark.parametrize("parallelism", ["1", "8"])
def test_n_flag_changes_of_a_tenant_go_out_as_one_patch(
    fresh_sandbox: FreshSandbox, tmp_path: Path, parallelism: str
) -> None:
    flags = [f"beta_{i}" for i in range(6)]
    box = fresh_sandbox("platform-admin", seed={**DATA, "flags": flags})
    acme = "\n".join(f"  {f}: true" for f in flags[:5])
    tenants = (
        f"{HEADER}kind: Tenant\nname: Acme Corp\nfeatures:\n{acme}\n---\n"
        f"{HEADER}kind: Tenant\nname: Beta Labs\nowner: lab@beta.example\nplan: pro\n"
        "features: {beta_0: true, beta_1: false}\n"
    )
    root = specs(
        tmp_path, tenants=tenants, users=f"{HEADER}kind: Operator\nemail: admin@acme.example\n"
    )
    result = apply(root, box, "--parallelism", parallelism, **CI)
    assert result.exit_code == 0, result.output
    flag_calls = [w for w in writes(box) if w[1].endswith("/feature-flags")]
    assert flag_calls == [("PATCH", "/tenants/{id}/feature-flags", 200)] * 2  # 7 changes
    entries = sorted(audit(box, "flags_updated"), key=lambda e: len(e["flags"]))
    assert [e["flags"] for e in entries] == [
        {"beta_0": True, "beta_1": False},
        dict.fromkeys(flags[:5], True),
    ]
    assert all(e["reason"] == "reconciler: commit 0123456789ab of acme/specs" for e in entries)
    assert plan_exit(root, box) == 0


def test_a_refused_bulk_call_fails_each_flag_of_its_tenant_with_the_servers_words(
    box: Any, tmp_path: Path
) -> None:
    text = (EXAMPLE / "tenants.yaml").read_text().replace("white_label: false", "nope: true")
    result = apply(specs(tmp_path, tenants=text), box)
    assert result.exit_code == 1
    acme = tenant_id(box, "Acme Corp")
    message = (
        f"Tenant/Acme Corp feature flags: PATCH {BASE}/tenants/{acme}/feature-flags "
        "returned 400: unknown feature flag(s): nope"
    )
    for flag in ("advanced_analytics", "api_access", "nope"):
        assert f"FeatureFlag/Acme Corp/{flag}: {message}" in result.stdout
    flag_calls = [w for w in writes(box) if w[1].endswith("/feature-flags")]
    assert sorted(flag_calls) == [
        ("PATCH", "/tenants/{id}/feature-flags", 200),  # Demo Account's went through
        ("PATCH", "/tenants/{id}/feature-flags", 400),  # Acme Corp's, once for three flags
    ]


def test_each_run_on_one_provider_sends_its_own_bulk_call(box: Any) -> None:
    """Batches belong to one run: a provider applying two plans sends two calls."""
    acme = tenant_id(box, "Acme Corp")

    def flag_change(name: str, enabled: bool) -> Change:
        rid = ResourceId(Kind.FEATURE_FLAG, f"Acme Corp/{name}")
        want = Resource(rid, {"tenant": "Acme Corp", "flag": name, "enabled": enabled})
        return Change(Action.UPDATE, rid, desired=want, live=want)

    async def two_runs() -> list[Any]:
        async with ApiClient(box.url, SANDBOX_TOKEN) as client:
            provider = PlatformAdminProvider(client)
            results = []
            for enabled in (True, False):
                changes = [flag_change("api_access", enabled), flag_change("white_label", enabled)]
                ids = {ResourceId(Kind.TENANT, "Acme Corp"): acme}
                ctx = ApplyContext(ids=ids, origin=f"run {enabled}", changes=changes)
                results.append(await execute(Plan(changes=changes), provider, ctx, parallelism=2))
            return results

    assert all(r.ok for r in asyncio.run(two_runs()))
    assert [e["reason"] for e in audit(box, "flags_updated")] == ["run True", "run False"]
    flags = call(box, "GET", f"/tenants/{acme}/feature-flags")["flags"]
    assert {f["flag_name"]: f["enabled"] for f in flags}["api_access"] is False


# ---- removals ----------------------------------------------------------------------


def test_a_user_no_spec_names_is_deleted_with_the_email_as_confirmation(
    box: Any, tmp_path: Path
) -> None:
    users = f"{HEADER}kind: Operator\nemail: admin@acme.example\nstatus: active\n"
    root = specs(tmp_path, users=users, reconciler=f"{HEADER}prune: {{Operator: delete}}\n")
    result = apply(root, box)
    assert result.exit_code == 0, result.output
    deletes = [(p, q, s) for m, p, q, s in log(box) if m == "DELETE"]
    assert deletes == [("/users/{id}", "confirmation=spammer%40acme.example", 200)]
    assert [u["email"] for u in call(box, "GET", "/users")] == ["admin@acme.example"]
    assert plan_exit(root, box) == 0


def test_prune_suspend_suspends_with_the_origin_as_reason(box: Any, tmp_path: Path) -> None:
    users = f"{HEADER}kind: Operator\nemail: admin@acme.example\n"
    root = specs(tmp_path, users=users, reconciler=f"{HEADER}prune: {{Operator: suspend}}\n")
    result = apply(root, box, **CI)
    assert result.exit_code == 0, result.output
    assert [w for w in writes(box) if "/users/" in w[1]] == [("POST", "/users/{id}/suspend", 200)]
    [entry] = audit(box, "account_suspended")
    assert entry["reason"] == "reconciler: commit 0123456789ab of acme/specs"
    assert plan_exit(root, box) == 0


# ---- adoption ------------------------------------------------------------------------------


def test_tenants_that_exist_are_adopted_not_created_again(
    fresh_sandbox: FreshSandbox,
) -> None:
    demo = {"company_name": "Demo Account", "owner_email": "demo@example.com", "plan": "pro"}
    box = fresh_sandbox("platform-admin", seed={**DATA, "tenants": [*DATA["tenants"], demo]})
    result = apply(EXAMPLE, box)
    assert result.exit_code == 0, result.output
    assert not [w for w in writes(box) if w[0] == "POST" and w[1] == "/tenants/test"]
    names = Counter(t["company_name"] for t in call(box, "GET", "/tenants")["tenants"])
    assert names == {"Acme Corp": 1, "Demo Account": 1}


def test_a_create_meeting_409_adopts_the_tenant_and_patches_its_override(box: Any) -> None:
    """A tenant made by hand between plan and apply: adopted, then brought to the spec."""
    rid = ResourceId(Kind.TENANT, "Acme Corp")
    want = Resource(
        rid,
        {"owner": "owner@acme.example", "plan": "enterprise", "plan_override": {"x": 1}},
    )
    change = Change(Action.CREATE, rid, desired=want)

    async def run() -> Any:
        async with ApiClient(box.url, SANDBOX_TOKEN) as client:
            ctx = ApplyContext(changes=[change])
            result = await execute(Plan(changes=[change]), PlatformAdminProvider(client), ctx)
            return result, ctx.ids.get(rid)

    result, adopted_id = asyncio.run(run())
    assert result.ok, result.failed
    assert adopted_id == tenant_id(box, "Acme Corp")
    assert writes(box) == [("POST", "/tenants/test", 409), ("PATCH", "/tenants/{id}", 200)]
    assert call(box, "GET", f"/tenants/{adopted_id}")["tenant"]["plan_override"] == {"x": 1}


# ---- what the API cannot do: refused before any call --------------------------------------


def test_fields_the_api_lacks_fail_before_any_request(box: Any, tmp_path: Path) -> None:
    root = tmp_path / "specs"
    root.mkdir()
    (root / "t.yaml").write_text(
        f"{HEADER}kind: Tenant\nname: Acme Corp\ndisplayName: ACME\n---\n"
        f"{HEADER}kind: Operator\nemail: admin@acme.example\nrole: admin\n"
    )
    result = run_cli(["plan", str(root), *target(box)], SANDBOX_TOKEN)
    assert result.exit_code == 1
    assert (
        "Tenant/Acme Corp: field 'display_name' cannot be set through the platform-admin API"
        in result.stderr
    )
    assert "Operator/admin@acme.example: field 'role' cannot be set" in result.stderr
    assert log(box) == []


REFUSALS = {
    "a user that does not exist": (
        {"users": f"{HEADER}kind: Operator\nemail: new@acme.example\nstatus: disabled\n"},
        "Operator/new@acme.example: no user new@acme.example on the platform, and the "
        "platform-admin API cannot create users",
    ),
    "an owner change": (
        {"tenants": (EXAMPLE / "tenants.yaml").read_text().replace("owner@acme", "boss@acme")},
        "Tenant/Acme Corp: the platform-admin API cannot change the owner of an existing tenant",
    ),
    "a plan change": (
        {
            "tenants": (EXAMPLE / "tenants.yaml")
            .read_text()
            .replace("plan: enterprise", "plan: pro")
        },
        "Tenant/Acme Corp: the platform-admin API cannot change the plan of an existing tenant",
    ),
    "a create without a plan": (
        {"tenants": f"{HEADER}kind: Tenant\nname: New Co\nowner: a@new.example\n"},
        "Tenant/New Co: the platform-admin API creates a tenant only with an owner and a plan "
        "(POST /tenants/test); the spec does not set plan",
    ),
    "a plan the platform lacks": (
        {"plans": (EXAMPLE / "plans.yaml").read_text() + f"---\n{HEADER}kind: Plan\nname: gold\n"},
        "Plan/gold: the platform-admin API does not create plans",
    ),
    "a flag delete": (
        {
            "tenants": (EXAMPLE / "tenants.yaml").read_text().replace(", white_label: false", ""),
            "reconciler": f"{HEADER}prune: {{FeatureFlag: delete}}\n",
        },
        "FeatureFlag/Acme Corp/white_label: the platform-admin API cannot delete a feature flag",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_changes_the_api_cannot_make_are_refused_before_any_write(
    box: Any, tmp_path: Path, case: str
) -> None:
    files, message = REFUSALS[case]
    result = apply(specs(tmp_path, **files), box)
    assert result.exit_code == 1
    assert message in result.stderr
    assert writes(box) == []


def test_a_suspension_cannot_be_lifted(fresh_sandbox: FreshSandbox, tmp_path: Path) -> None:
    users = [{**u, "status": "suspended"} for u in DATA["users"]]
    box = fresh_sandbox("platform-admin", seed={**DATA, "users": users})
    result = apply(specs(tmp_path), box)  # the example wants admin@ active
    assert result.exit_code == 1
    assert "Operator/admin@acme.example: the platform-admin API cannot lift a suspension" in (
        result.stderr
    )
    assert writes(box) == []


# ---- real servers: small pages, unknown fields, faults ---------------------------------------


def test_small_pages_and_unknown_fields_still_converge(fresh_sandbox: FreshSandbox) -> None:
    more = [{"company_name": f"Other {i}", "owner_email": f"o{i}@x.example"} for i in range(3)]
    seed = {
        **DATA,
        "tenants": [*DATA["tenants"], *more],
        "quirks": {"max_page": 1, "extra_fields": True},
    }
    box = fresh_sandbox("platform-admin", seed=seed)
    result = apply(EXAMPLE, box)
    assert result.exit_code == 0, result.output
    assert plan_exit(EXAMPLE, box) == 0
    lists = [(p, q) for m, p, q, _ in log(box) if m == "GET" and p in ("/tenants", "/users")]
    assert {q for p, q in lists if p == "/tenants"} >= {"offset=0&limit=100", "offset=4&limit=100"}
    assert ("/users", "offset=1&limit=100") in lists  # the users' pagination was followed
    limits = [int(n) for _, q in lists for n in re.findall(r"limit=(\d+)", q)]
    assert limits and max(limits) == 100


def test_faults_converge_and_limit_never_exceeds_100(sandbox_factory: SandboxFactory) -> None:
    noisy = assert_converges_through_faults(
        sandbox_factory,
        "platform-admin",
        EXAMPLE,
        FaultConfig(rate=0.2, seed=8),
        seed={**DATA, "quirks": {"extra_fields": True}},
    )
    limits = [int(n) for _, _, q, _ in log(noisy) for n in re.findall(r"limit=(\d+)", q)]
    assert limits and max(limits) == 100


def test_show_calls_previews_one_bulk_flag_call_per_tenant(box: Any) -> None:
    result = run_cli(["plan", str(EXAMPLE), *target(box), "--show-calls"], SANDBOX_TOKEN)
    assert result.exit_code == 0, result.output
    assert f"POST {BASE}/tenants/test" in result.stdout
    assert result.stdout.count("/feature-flags {") == 2  # one bulk call per tenant
    assert writes(box) == []

"""Retries as documented (issue 14): every write safe to repeat is repeated, in every dialect.

Each built-in dialect's sandbox (a real server on 127.0.0.1) first holds a small
state made by one calm apply. A second apply then moves every object the ways
the dialect can (a status set, a whole replacement, a patch, a delete by id)
while the sandbox fails the first attempt of each of those writes
(:class:`FirstAttempt` rules): with a 503 before the work, each is repeated and
lands; with the connection dropped after the work, the repeat meets the state
already there (the same answer, 404 for a delete, 409 from tenants-v1's state
machine) and counts as done. Either way the apply is ok and a plan after it has
nothing to do. A create is never repeated blindly: the kind is re-read first,
and what landed is adopted. Last, a scaled-down soak of ``bench/soak_faults.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from bench.soak_faults import TOKEN as SOAK_TOKEN
from bench.soak_faults import soak_one
from reconciler.providers import provider_class
from reconciler.sandbox.faults import FaultConfig, FirstAttempt
from reconciler.sandbox.server import EmbeddedSandbox
from tests.conftest import SANDBOX_TOKEN, SandboxFactory, copy_database, request_log
from tests.integration.helpers import run_cli, tls

API = "reconciler.dev/v1"
ID = "[^/]+"


def objects(text: str) -> list[dict[str, Any]]:
    """Spec documents from a YAML list of flow mappings, one object a line."""
    return [{"apiVersion": API, **item} for item in yaml.safe_load(text)]


@dataclass(frozen=True)
class Scenario:
    """A dialect's small state before, the state after, and the writes between them.

    ``writes`` names each kind of repeatable write the move makes: (method, regular
    expression of the whole path). ``prune`` is the second apply's prune policy (the
    deletes). ``create`` is the path a create is sent to, and a spec making one object.
    """

    dialect: str
    before: str
    after: str
    writes: dict[str, tuple[str, str]]
    create: tuple[str, str]
    prune: dict[str, str] = field(default_factory=dict)
    seed: dict[str, Any] | None = None


R = "/api/v1/operator"
REFERENCE = Scenario(
    "reference",
    before="""
    - {kind: Plan, name: basic, displayName: Basic, tierDefaults: {small: 1}}
    - {kind: Tenant, name: keep, displayName: Keep, features: {sso: true, beta: true}}
    - {kind: Tenant, name: paused, status: suspended}
    - {kind: Tenant, name: doomed}
    - {kind: Operator, email: admin@x.test, role: operator-admin, status: active}
    - {kind: Operator, email: ops@x.test, name: Ops, role: operator, tenant: keep}
    - {kind: Operator, email: off@x.test, role: operator, status: disabled}
    - {kind: Operator, email: gone@x.test, role: operator}
    """,
    after="""
    - {kind: Plan, name: basic, displayName: Basic+, tierDefaults: {small: 2}}
    - {kind: Tenant, name: keep, displayName: Kept, status: suspended, features: {sso: false}}
    - {kind: Tenant, name: paused, status: active}
    - {kind: Tenant, name: fresh, status: suspended}    # created, then suspended
    - {kind: Operator, email: admin@x.test, role: operator-admin, status: active}
    - {kind: Operator, email: ops@x.test, name: Ops Team, role: operator-admin,
       tenant: paused, status: disabled}
    - {kind: Operator, email: off@x.test, role: operator, status: active}
    """,
    writes={
        "suspend": ("POST", f"{R}/tenants/{ID}/suspend"),
        "resume": ("POST", f"{R}/tenants/{ID}/resume"),
        "disable": ("POST", f"{R}/users/{ID}/disable"),
        "enable": ("POST", f"{R}/users/{ID}/enable"),
        "role granted": ("POST", f"{R}/users/{ID}/roles"),
        "tenant assigned": ("POST", f"{R}/users/{ID}/tenant"),
        "plan replaced": ("PUT", f"{R}/plans/{ID}"),
        "tier defaults replaced": ("PUT", f"{R}/plans/{ID}/tier-defaults"),
        "flag replaced": ("PUT", f"{R}/tenants/{ID}/feature-flags/{ID}"),
        "user replaced": ("PUT", f"{R}/users/{ID}"),
        "tenant patched": ("PATCH", f"{R}/tenants/{ID}"),
        "tenant deleted": ("DELETE", f"{R}/tenants/{ID}"),
        "flag deleted": ("DELETE", f"{R}/tenants/{ID}/feature-flags/{ID}"),
        "user deleted": ("DELETE", f"{R}/users/{ID}"),
        "role revoked": ("DELETE", f"{R}/users/{ID}/roles/{ID}"),
    },
    prune={"Tenant": "delete", "FeatureFlag": "delete", "Operator": "delete"},
    create=(f"{R}/tenants", "[{kind: Tenant, name: solo, displayName: Solo}]"),
)

OPERATOR_V1 = Scenario(
    "operator-v1",
    before="""
    - {kind: DeviceTier, name: basic, displayName: Basic}
    - {kind: Plan, name: fleet, displayName: Fleet, tierDefaults: {basic: 1}}
    - {kind: Tenant, name: north, plan: fleet, status: active}
    - {kind: Tenant, name: south, plan: fleet, status: suspended}
    - {kind: Tenant, name: doomed, plan: fleet}
    - {kind: Operator, email: admin@x.test, role: operator-admin, status: active}
    - {kind: Operator, email: ops@x.test, name: Ops, role: operator, tenant: north}
    - {kind: Operator, email: off@x.test, name: Offline, role: operator, status: disabled}
    - {kind: Operator, email: gone@x.test, name: Gone, role: operator}
    """,
    after="""
    - {kind: DeviceTier, name: basic, displayName: Basic sensors}
    - {kind: Plan, name: fleet, displayName: Fleet+, tierDefaults: {basic: 2}}
    - {kind: Tenant, name: north, plan: fleet, status: suspended}
    - {kind: Tenant, name: south, plan: fleet, status: active}
    - {kind: Operator, email: admin@x.test, role: operator-admin, status: active}
    - {kind: Operator, email: ops@x.test, name: Ops Team, role: operator-admin,
       tenant: south, status: disabled}
    - {kind: Operator, email: off@x.test, name: Offline, role: operator, status: active}
    - {kind: Operator, email: new@x.test, name: New, role: operator, status: disabled}
    """,
    writes={
        "disable": ("POST", f"{R}/users/{ID}/disable"),  # also right after a create
        "enable": ("POST", f"{R}/users/{ID}/enable"),
        "role granted": ("POST", f"{R}/users/{ID}/roles"),
        "tenant assigned": ("POST", f"{R}/users/{ID}/tenant"),
        "device tier replaced": ("PUT", f"{R}/device-tiers/{ID}"),
        "plan replaced": ("PUT", f"{R}/plans/{ID}"),
        "tier defaults replaced": ("PUT", f"{R}/plans/{ID}/tier-defaults"),
        "user replaced": ("PUT", f"{R}/users/{ID}"),
        "tenant status patched": ("PATCH", f"{R}/tenants/{ID}"),
        "tenant deleted": ("DELETE", f"{R}/tenants/{ID}"),
        "user deleted": ("DELETE", f"{R}/users/{ID}"),
        "role revoked": ("DELETE", f"{R}/users/{ID}/roles/{ID}"),
    },
    prune={"Tenant": "delete", "Operator": "delete"},
    create=(f"{R}/tenants", "[{kind: Tenant, name: solo}]"),
)

K1, K2 = (
    "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=",
    "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=",
)
IAAS_V1 = Scenario(
    "iaas-v1",
    before=f"""
    - {{kind: Tenant, name: alpha}}
    - {{kind: Tenant, name: beta}}
    - {{kind: Tenant, name: doomed}}
    - {{kind: Operator, email: lead@x.test, role: operator}}
    - {{kind: Operator, email: u1@x.test, role: member, tenant: alpha, wireguardPubkey: {K1}}}
    - {{kind: Operator, email: u2@x.test, role: member, tenant: alpha, wireguardPubkey: {K1}}}
    - {{kind: Operator, email: gone@x.test, role: member}}
    """,
    after=f"""
    - {{kind: Tenant, name: alpha}}
    - {{kind: Tenant, name: beta}}
    - {{kind: Operator, email: lead@x.test, role: operator}}
    - {{kind: Operator, email: u1@x.test, role: operator, tenant: beta, wireguardPubkey: {K1}}}
    - {{kind: Operator, email: u2@x.test, role: member, tenant: alpha, wireguardPubkey: {K2}}}
    """,
    writes={
        "user replaced": ("PUT", f"/api/users/{ID}"),
        "member put": ("PUT", f"/api/tenants/{ID}/users/{ID}"),
        "member removed": ("DELETE", f"/api/tenants/{ID}/users/{ID}"),
        "tenant deleted": ("DELETE", f"/api/tenants/{ID}"),
        "user deleted": ("DELETE", f"/api/users/{ID}"),
    },
    prune={"Tenant": "delete", "Operator": "delete"},
    create=("/api/tenants", "[{kind: Tenant, name: solo}]"),
)

ADMIN_OPERATORS = Scenario(
    "admin-operators",
    before="""
    - {kind: Operator, email: a@x.test, status: active}
    - {kind: Operator, email: b@x.test, status: active}
    """,
    after="[{kind: Operator, email: a@x.test, status: disabled}]",
    writes={
        "status patched": ("PATCH", f"/admin/operators/{ID}/status"),
        "operator deleted": ("DELETE", f"/admin/operators/{ID}"),
    },
    prune={"Operator": "delete"},
    seed={"current_admin": {"email": "admin@x.test", "name": "Admin"}},
    create=("/admin/operators", "[{kind: Operator, email: solo@x.test, status: active}]"),
)

P = "/api/v1/platform/admin"
PLANS = "{kind: Plan, name: pro}, {kind: Plan, name: enterprise}"
ACME = "kind: Tenant, name: Acme, owner: owner@acme.test, plan: enterprise"
PLATFORM_ADMIN = Scenario(
    "platform-admin",
    before=f"""[
    {PLANS},
    {{{ACME}, planOverride: {{seats: 5}}, features: {{analytics: true}}}},
    {{kind: Operator, email: admin@acme.test, status: active}},
    {{kind: Operator, email: spam@acme.test, status: active}},
    {{kind: Operator, email: leaver@acme.test, status: active}}]
    """,
    after=f"""[
    {PLANS},
    {{{ACME}, planOverride: {{seats: 9}}, features: {{analytics: false}}}},
    {{kind: Operator, email: admin@acme.test, status: active}},
    {{kind: Operator, email: spam@acme.test, status: disabled}}]
    """,
    writes={
        "user suspended": ("POST", f"{P}/users/{ID}/suspend"),
        "override patched": ("PATCH", f"{P}/tenants/{ID}"),
        "flags patched": ("PATCH", f"{P}/tenants/{ID}/feature-flags"),
        "user deleted": ("DELETE", f"{P}/users/{ID}"),
    },
    prune={"Operator": "delete"},
    seed={
        "tenants": [
            {"company_name": "Acme", "owner_email": "owner@acme.test", "plan": "enterprise"}
        ],
        "users": [
            {"email": f"{who}@acme.test", "tenant": "Acme"} for who in ("admin", "spam", "leaver")
        ],
        "flags": ["analytics", "api_access"],
    },
    create=(
        f"{P}/tenants/test",
        f"[{PLANS}, {{kind: Tenant, name: Solo, owner: o@solo.test, plan: pro}}]",
    ),
)

T = "/v1/tenants"
U1, U2 = "3f8a2c64-8f0e-4c0e-9b7a-1d2e3f4a5b6c", "7b1d9e22-4c3a-4f5e-8a6b-2c3d4e5f6a7b"
TENANTS_V1 = Scenario(
    "tenants-v1",
    before=f"""
    - {{kind: Tenant, name: globex, displayName: Globex, configuration: {{locale: en-US}},
       features: {{audit: true, beta: true}},
       roles: {{admin: {{permissions: [a], members: [{U1}, {U2}]}},
               old: {{permissions: [b], members: []}}}}}}
    - {{kind: Tenant, name: paused, status: suspended}}
    - {{kind: Tenant, name: dormant, status: inactive}}
    - {{kind: Tenant, name: busy, status: active}}
    """,
    after=f"""
    - {{kind: Tenant, name: globex, displayName: Globex Corp, status: suspended,
       configuration: {{locale: en-GB}}, features: {{audit: false}},
       roles: {{admin: {{permissions: [a, c], members: [{U1}]}}}}}}
    - {{kind: Tenant, name: paused, status: active}}
    - {{kind: Tenant, name: dormant, status: active}}
    - {{kind: Tenant, name: busy, status: inactive}}
    """,
    writes={
        "suspend": ("POST", f"{T}/{ID}/suspend"),
        "resume": ("POST", f"{T}/{ID}/resume"),
        "activate": ("POST", f"{T}/{ID}/activate"),
        "deactivate": ("POST", f"{T}/{ID}/deactivate"),
        "assignment revoked": ("POST", f"{T}/{ID}/role-assignments/{ID}/revoke"),
        "tenant patched": ("PATCH", f"{T}/{ID}"),
        "configuration patched": ("PATCH", f"{T}/{ID}/configuration"),
        "role replaced": ("PUT", f"{T}/{ID}/roles/{ID}"),
        "flag deleted": ("DELETE", f"{T}/{ID}/feature-flags/{ID}"),
        "role deleted": ("DELETE", f"{T}/{ID}/roles/{ID}"),
    },
    prune={"FeatureFlag": "delete", "Role": "delete", "RoleAssignment": "delete"},
    create=(T, "[{kind: Tenant, name: solo}]"),
)

SCENARIOS = [REFERENCE, OPERATOR_V1, IAAS_V1, ADMIN_OPERATORS, PLATFORM_ADMIN, TENANTS_V1]
BY_NAME = {s.dialect: s for s in SCENARIOS}


def test_every_built_in_dialect_has_a_scenario() -> None:
    from reconciler import dialects

    built_in = {e.name for e in dialects.entries() if e.built_in}
    assert built_in == set(BY_NAME)


# ---- helpers --------------------------------------------------------------------------------


def write_specs(root: Path, docs: Sequence[dict[str, Any]], prune: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for old in root.glob("*.yaml"):
        old.unlink()
    config: dict[str, Any] = {"apiVersion": API}
    if prune:
        config["prune"] = prune
    (root / "reconciler.yaml").write_text(yaml.safe_dump(config))
    (root / "objects.yaml").write_text(yaml.safe_dump_all(list(docs), sort_keys=False))
    return root


def url(box: EmbeddedSandbox, dialect: str) -> str:
    return box.url + provider_class(dialect).capabilities.base_path


def apply(root: Path, box: EmbeddedSandbox, dialect: str) -> Any:
    args = ["apply", str(root), "--api", dialect, "--url", url(box, dialect), "--auto-approve"]
    return run_cli(args, SANDBOX_TOKEN)


def plan_exit(root: Path, box: EmbeddedSandbox, dialect: str) -> int:
    args = ["plan", str(root), "--api", dialect, "--url", url(box, dialect), "--detailed-exitcode"]
    result = run_cli(args, SANDBOX_TOKEN)
    assert result.exit_code in (0, 2), result.output
    return int(result.exit_code)


CalmState = Callable[[Scenario], Path]


@pytest.fixture(scope="module")
def calm_state(tmp_path_factory: pytest.TempPathFactory) -> CalmState:
    """``calm_state(scenario)``: the database of a sandbox after one calm apply of the
    scenario's ``before``, made once per dialect for the module (the 503 and the lost-answer
    tests start from the same state); each test moves a copy of it.

    Made on a test's first call, not at fixture setup, so the test's own environment
    (journal, retry waits) is in place for that apply."""
    made: dict[str, Path] = {}

    def get(scenario: Scenario) -> Path:
        d = scenario.dialect
        if d not in made:
            root = tmp_path_factory.mktemp(f"calm-{d}")
            with EmbeddedSandbox(
                d, db_path=root / "calm.sqlite", token=SANDBOX_TOKEN, seed=scenario.seed
            ) as calm:
                done = apply(write_specs(root / "specs", objects(scenario.before), {}), calm, d)
                assert done.exit_code == 0, done.output
            made[d] = root / "calm.sqlite"
        return made[d]

    return get


def moved(
    sandbox_factory: SandboxFactory,
    calm_state: CalmState,
    tmp_path: Path,
    scenario: Scenario,
    fault: str,
) -> tuple[EmbeddedSandbox, Path, list[tuple[str, str, int]]]:
    """The scenario's state made calmly, then moved with the first attempt of each of its
    repeatable writes failed by ``fault``: the second sandbox, the specs, its request log."""
    d, root = scenario.dialect, tmp_path / "specs"
    db_path = tmp_path / "moved.sqlite"
    copy_database(calm_state(scenario), db_path)
    rules = tuple(FirstAttempt(m, p, fault) for m, p in scenario.writes.values())
    box = sandbox_factory(d, db_path=db_path, faults=FaultConfig(first=rules))
    since = len(request_log(box.db_path))
    result = apply(write_specs(root, objects(scenario.after), scenario.prune), box, d)
    assert result.exit_code == 0, result.output
    return box, root, request_log(box.db_path)[since:]


def calls_of(log: list[tuple[str, str, int]], method: str, pattern: str) -> dict[str, list[int]]:
    """path → the statuses of its calls, in order, for the calls ``method`` ``pattern`` matches."""
    found: dict[str, list[int]] = {}
    for m, path, status in log:
        if m == method and re.fullmatch(pattern, path):
            found.setdefault(path, []).append(status)
    return found


def creates(log: list[tuple[str, str, int]], path: str) -> list[int]:
    """The statuses of the POSTs to ``path``, in order."""
    return [status for m, p, status in log if m == "POST" and p == path]


# ---- the tests ------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", list(BY_NAME))
def test_a_503_on_each_repeatable_write_is_retried_and_lands(
    sandbox_factory: SandboxFactory, calm_state: CalmState, tmp_path: Path, dialect: str
) -> None:
    scenario = BY_NAME[dialect]
    box, root, log = moved(sandbox_factory, calm_state, tmp_path, scenario, "503-before")
    for label, (method, pattern) in scenario.writes.items():
        calls = calls_of(log, method, pattern)
        assert calls, f"{label}: no {method} {pattern} was sent"
        for path, statuses in calls.items():
            assert statuses[0] == 503, f"{label}: {method} {path}: {statuses}"
            assert len(statuses) == 2 and 200 <= statuses[1] < 300, (
                f"{label}: {method} {path} was not repeated to success: {statuses}"
            )
    assert plan_exit(root, box, dialect) == 0


EXPECTED_REPEAT = {("tenants-v1", "POST"): (409, 404)}
"""What a repeat meets after the first attempt landed, where it is not a plain success:
tenants-v1's state machine refuses a move to where the tenant is (409), and a revoked
assignment is not found (404)."""


@pytest.mark.parametrize("dialect", list(BY_NAME))
def test_a_repeat_after_a_lost_answer_meets_the_work_done_and_counts_it_done(
    sandbox_factory: SandboxFactory, calm_state: CalmState, tmp_path: Path, dialect: str
) -> None:
    scenario = BY_NAME[dialect]
    box, root, log = moved(sandbox_factory, calm_state, tmp_path, scenario, "drop")
    for label, (method, pattern) in scenario.writes.items():
        calls = calls_of(log, method, pattern)
        assert calls, f"{label}: no {method} {pattern} was sent"
        for path, statuses in calls.items():
            # the dropped attempt is logged with the status it started to answer (200)
            assert len(statuses) == 2, f"{label}: {method} {path}: {statuses}"
            repeat = statuses[1]
            allowed = (404,) if method == "DELETE" else EXPECTED_REPEAT.get((dialect, method), ())
            assert 200 <= repeat < 300 or repeat in allowed, f"{label}: {method} {path}: {statuses}"
    assert plan_exit(root, box, dialect) == 0


@pytest.mark.parametrize("dialect", list(BY_NAME))
def test_a_create_meeting_503_is_re_read_before_it_is_sent_again(
    sandbox_factory: SandboxFactory, tmp_path: Path, dialect: str
) -> None:
    scenario = BY_NAME[dialect]
    path, docs = scenario.create
    box = sandbox_factory(
        dialect, seed=scenario.seed, faults=FaultConfig(first=(FirstAttempt("POST", path),))
    )
    root = write_specs(tmp_path / "specs", objects(docs), {})
    result = apply(root, box, dialect)
    assert result.exit_code == 0, result.output
    log = request_log(box.db_path)
    sent = [i for i, (m, p, _) in enumerate(log) if m == "POST" and p == path]
    assert [log[i][2] for i in sent] == [503, 201]
    between = log[sent[0] + 1 : sent[1]]
    assert any(m == "GET" for m, _, _ in between), "sent again without a re-read"
    assert plan_exit(root, box, dialect) == 0


@pytest.mark.parametrize("dialect", list(BY_NAME))
def test_a_create_whose_answer_was_lost_is_adopted_never_sent_twice(
    sandbox_factory: SandboxFactory, tmp_path: Path, dialect: str
) -> None:
    scenario = BY_NAME[dialect]
    path, docs = scenario.create
    rule = FirstAttempt("POST", path, "500-after")
    box = sandbox_factory(dialect, seed=scenario.seed, faults=FaultConfig(first=(rule,)))
    root = write_specs(tmp_path / "specs", objects(docs), {})
    result = apply(root, box, dialect)
    assert result.exit_code == 0, result.output
    assert creates(request_log(box.db_path), path) == [500]  # landed once, never repeated
    assert plan_exit(root, box, dialect) == 0


# ---- the soak, scaled down ------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("dialect", list(BY_NAME))
def test_converges_through_30_percent_faults_without_duplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dialect: str, seed: int
) -> None:
    monkeypatch.setenv("RECONCILER_TOKEN", SOAK_TOKEN)
    outcome = soak_one(dialect, seed, 0.3, tmp_path)
    assert outcome.ok, "\n".join(outcome.why + outcome.left + outcome.duplicates)


@pytest.mark.parametrize(("fault", "posts"), [("503-before", [503, 201]), ("500-after", [500])])
def test_tenants_v1_flag_update_re_reads_before_it_creates_again(
    sandbox_factory: SandboxFactory, tmp_path: Path, fault: str, posts: list[int]
) -> None:
    """A flag's update is a delete then a create; the create half is the provider's to
    re-read (the engine adopts only creates): sent again only when it did not land."""
    flags = "/v1/tenants/[^/]+/feature-flags"
    root = tmp_path / "specs"
    calm = sandbox_factory("tenants-v1")
    (tenant,) = objects("[{kind: Tenant, name: globex, features: {audit: true}}]")
    assert apply(write_specs(root, [tenant], {}), calm, "tenants-v1").exit_code == 0
    calm.stop()
    faults = FaultConfig(first=(FirstAttempt("POST", flags, fault),))
    box = sandbox_factory("tenants-v1", db_path=calm.db_path, faults=faults)
    since = len(request_log(box.db_path))
    tenant["features"] = {"audit": False}
    result = apply(write_specs(root, [tenant], {}), box, "tenants-v1")
    assert result.exit_code == 0, result.output
    log = request_log(box.db_path)[since:]
    sent = [i for i, (m, p, _) in enumerate(log) if m == "POST" and re.fullmatch(flags, p)]
    assert [log[i][2] for i in sent] == posts
    re_read = [m for m, p, _ in log[sent[0] + 1 :] if m == "GET" and re.fullmatch(flags, p)]
    assert re_read, "the create half was not re-read after its unknown outcome"
    assert plan_exit(root, box, "tenants-v1") == 0


def test_first_attempt_rules_fail_each_matching_call_once(
    sandbox_factory: SandboxFactory,
) -> None:
    rules = (FirstAttempt("get", "/api/v1/operator/(plans|users)"),)
    box = sandbox_factory(faults=FaultConfig(first=rules))
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    with httpx.Client(
        base_url=box.url + "/api/v1/operator", headers=headers, verify=tls()
    ) as client:
        seen = [client.get(path).status_code for path in ("/plans", "/plans", "/users", "/users")]
        seen += [client.get("/tenants").status_code]
    assert seen == [503, 200, 503, 200, 200]
    with pytest.raises(ValueError, match="unknown fault"):
        FirstAttempt("GET", ".*", "boom")
    with pytest.raises(ValueError, match="not a regular expression"):
        FirstAttempt("GET", "(")

"""The valid fixture tree becomes exactly the expected flat resources, with sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import SourceLocation
from reconciler.model import Kind, ResourceId, State, flag_key
from reconciler.spec import load_specs
from tests.spec.helpers import VALID, VALID_ENV


@pytest.fixture
def state(monkeypatch: pytest.MonkeyPatch) -> State:
    monkeypatch.chdir(VALID)
    return load_specs(".", env=VALID_ENV)


def rid(kind: Kind, key: str) -> ResourceId:
    return ResourceId(kind, key)


def test_every_resource_and_only_those(state: State) -> None:
    assert sorted(map(str, state.ids())) == [
        "FeatureFlag/acme-eu/audit.export",
        "FeatureFlag/acme/beta_dashboard",
        "FeatureFlag/acme/sso",
        "Operator/alice.example@example.com",
        "Operator/support@example.com",
        "Plan/internal",
        "Plan/pro",
        "Plan/starter",
        "Tenant/Globex Labs",
        "Tenant/acme",
        "Tenant/acme-eu",
        "Tenant/globex",
        "TierDefaults/pro",
        "TierDefaults/starter",
    ]


def test_plans_hold_only_the_fields_the_spec_sets(state: State) -> None:
    starter = state.get(rid(Kind.SUBSCRIPTION_PLAN, "starter"))
    assert starter is not None
    assert starter.fields == {
        "display_name": "Starter",
        "description": "Small fleets getting started",
    }
    pro = state.get(rid(Kind.SUBSCRIPTION_PLAN, "pro"))
    internal = state.get(rid(Kind.SUBSCRIPTION_PLAN, "internal"))
    assert pro is not None and pro.fields == {"display_name": "Pro"}
    assert internal is not None and internal.fields == {}
    assert rid(Kind.TIER_DEFAULTS, "internal") not in state


def test_tier_defaults_are_their_own_resource(state: State) -> None:
    tiers = state.get(rid(Kind.TIER_DEFAULTS, "pro"))
    assert tiers is not None
    assert tiers.fields == {"tiers": {"basic": 1000, "premium": 25, "legacy": None}}
    assert tiers.source == SourceLocation("plans.yaml", 15, 1)
    assert tiers.field_sources["tiers.premium"] == SourceLocation("plans.yaml", 17, 3)


def test_tenant_fields_configuration_and_interpolation(state: State) -> None:
    acme = state.get(rid(Kind.TENANT, "acme"))
    assert acme is not None
    assert acme.fields == {
        "display_name": "Acme Corp",
        "plan": "pro",
        "status": "active",
        "configuration": {
            "region": "eu-west-1",
            "data_retention_days": 365,
            "contacts": ["ops@acme.example", "security@acme.example"],
            "limits": {"api_rps": 50},
            "legacy_mode": None,
            "template": "Hello ${name}",
        },
    }
    assert acme.source == SourceLocation("tenants/acme.yaml", 2, 1)
    assert acme.field_sources["plan"] == SourceLocation("tenants/acme.yaml", 6, 7)
    assert acme.field_sources["configuration.region"] == SourceLocation("tenants/acme.yaml", 9, 3)


def test_optional_references_and_explicit_null_parent(state: State) -> None:
    child = state.get(rid(Kind.TENANT, "acme-eu"))
    labs = state.get(rid(Kind.TENANT, "Globex Labs"))
    globex = state.get(rid(Kind.TENANT, "globex"))
    assert child is not None and child.fields == {"display_name": "Acme Europe", "parent": "acme"}
    assert labs is not None and labs.fields == {"parent": None}
    assert globex is not None and globex.fields == {"plan": "starter", "status": "suspended"}
    assert globex.source == SourceLocation("tenants/globex.yml", 2, 1)


def test_each_feature_is_a_flag_resource(state: State) -> None:
    flag = state.get(rid(Kind.FEATURE_FLAG, flag_key("acme", "beta_dashboard")))
    assert flag is not None
    assert flag.fields == {"tenant": "acme", "flag": "beta_dashboard", "enabled": False}
    assert flag.source == SourceLocation("tenants/acme.yaml", 17, 3)
    assert flag.field_sources["enabled"] == SourceLocation("tenants/acme.yaml", 17, 19)
    assert [f.id.key for f in state.of_kind(Kind.FEATURE_FLAG) if f.fields["tenant"] == "acme"] == [
        "acme/sso",
        "acme/beta_dashboard",
    ]


def test_operators_are_keyed_by_lowercased_email(state: State) -> None:
    alice = state.get(rid(Kind.OPERATOR, "alice.example@example.com"))
    support = state.get(rid(Kind.OPERATOR, "support@example.com"))
    assert alice is not None
    assert alice.fields == {"name": "Alice Example", "role": "operator-admin", "status": "active"}
    assert support is not None and support.fields == {"role": "operator", "tenant": "acme"}
    assert support.field_sources["tenant"] == SourceLocation("operators.yaml", 12, 9)


def test_a_single_file_can_be_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(VALID)
    state = load_specs("plans.yaml")
    assert {str(i) for i in state.ids()} == {
        "Plan/starter",
        "Plan/pro",
        "Plan/internal",
        "TierDefaults/starter",
        "TierDefaults/pro",
    }


def test_paths_are_shown_as_passed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(VALID.parent)
    relative = load_specs(Path("valid/plans.yaml"))
    assert {r.source.file for r in relative if r.source} == {"valid/plans.yaml"}
    absolute_under_cwd = load_specs(VALID / "plans.yaml")
    assert {r.source.file for r in absolute_under_cwd if r.source} == {"valid/plans.yaml"}
    monkeypatch.chdir(tmp_path)
    outside = load_specs(VALID / "plans.yaml")
    assert {r.source.file for r in outside if r.source} == {str(VALID / "plans.yaml")}


def test_env_defaults_to_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(VALID)
    monkeypatch.setenv("REGION", "ap-south-1")
    monkeypatch.setenv("STAGING_URL", "unused: config is not read by load_specs")
    acme = load_specs(".").get(rid(Kind.TENANT, "acme"))
    assert acme is not None and acme.fields["configuration"]["region"] == "ap-south-1"


def test_the_repository_starter_specs_load() -> None:
    root = Path(__file__).resolve().parents[2] / "specs"
    state = load_specs(root, env={})
    assert len(state.of_kind(Kind.TENANT)) == 5

"""The spec parts only some APIs use: device tiers, roles with members, owners, pubkeys."""

from __future__ import annotations

import textwrap
from pathlib import Path

from reconciler.model import Kind, ResourceId, references
from reconciler.spec import load_specs
from tests.spec.helpers import problems_of

HEADER = "apiVersion: reconciler.dev/v1\n"
PUBKEY = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "specs.yaml").write_text(textwrap.dedent(text).lstrip())
    return tmp_path


def test_roles_become_roles_and_one_assignment_per_member(tmp_path: Path) -> None:
    state = load_specs(
        write(
            tmp_path,
            """
            apiVersion: reconciler.dev/v1
            kind: Tenant
            name: acme
            roles:
              admin:
                description: Full access
                permissions: [tenants.read, tenants.write]
                members: [u-1, u-2]
              viewer: {}
            """,
        ),
        env={},
    )
    role = state.get(ResourceId(Kind.ROLE, "acme/admin"))
    assert role is not None
    assert role.fields == {
        "tenant": "acme",
        "name": "admin",
        "description": "Full access",
        "permissions": ["tenants.read", "tenants.write"],
    }
    viewer = state.get(ResourceId(Kind.ROLE, "acme/viewer"))
    assert viewer is not None and viewer.fields == {"tenant": "acme", "name": "viewer"}
    grant = state.get(ResourceId(Kind.ROLE_ASSIGNMENT, "acme/admin/u-2"))
    assert grant is not None
    assert grant.fields == {"tenant": "acme", "role": "admin", "user": "u-2"}
    assert grant.source is not None and grant.source.line == 8
    assert references(grant) == {
        ResourceId(Kind.TENANT, "acme"),
        ResourceId(Kind.ROLE, "acme/admin"),
    }


def test_device_tiers_owner_override_and_pubkey(tmp_path: Path) -> None:
    state = load_specs(
        write(
            tmp_path,
            f"""
            apiVersion: reconciler.dev/v1
            kind: DeviceTier
            name: basic
            displayName: Basic
            ---
            apiVersion: reconciler.dev/v1
            kind: Plan
            name: pro
            tierDefaults: {{basic: 10}}
            ---
            apiVersion: reconciler.dev/v1
            kind: Tenant
            name: acme
            owner: owner@acme.example
            planOverride: {{limits: {{max_users: 25}}}}
            ---
            apiVersion: reconciler.dev/v1
            kind: Operator
            email: Ops@Example.com
            tenant: acme
            wireguardPubkey: {PUBKEY}
            """,
        ),
        env={},
    )
    tier = state.get(ResourceId(Kind.DEVICE_TIER, "basic"))
    assert tier is not None and tier.fields == {"display_name": "Basic"}
    defaults = state.get(ResourceId(Kind.TIER_DEFAULTS, "pro"))
    assert defaults is not None
    assert ResourceId(Kind.DEVICE_TIER, "basic") in references(defaults)
    tenant = state.get(ResourceId(Kind.TENANT, "acme"))
    assert tenant is not None
    assert tenant.fields["owner"] == "owner@acme.example"
    assert tenant.fields["plan_override"] == {"limits": {"max_users": 25}}
    operator = state.get(ResourceId(Kind.OPERATOR, "ops@example.com"))
    assert operator is not None and operator.fields["wireguard_pubkey"] == PUBKEY


def test_bad_members_pubkey_and_owner_are_reported_with_lines(tmp_path: Path) -> None:
    problems = problems_of(
        write(
            tmp_path,
            """
            apiVersion: reconciler.dev/v1
            kind: Tenant
            name: acme
            owner: not-an-email
            roles:
              admin:
                members: [u-1, u-1]
                permisions: []
            ---
            apiVersion: reconciler.dev/v1
            kind: Operator
            email: ops@example.com
            wireguardPubkey: short
            """,
        )
    )
    text = [f"{p.location.line}: {p.message}" for p in problems if p.location]
    assert any(t.startswith("4: 'owner'") and "email" in t for t in text), text
    assert any(t.startswith("7: ") and "'u-1' is listed twice" in t for t in text), text
    assert any(t.startswith("8: ") and "did you mean 'permissions'" in t for t in text), text
    assert any(t.startswith("13: ") and "WireGuard public key" in t for t in text), text


def test_role_or_assignment_as_a_document_kind_points_to_the_tenant(tmp_path: Path) -> None:
    problems = problems_of(write(tmp_path, f"{HEADER}kind: Role\nname: admin\n"))
    assert "roles go under their Tenant's 'roles'" in problems[0].message

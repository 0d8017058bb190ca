"""Spec trees of any size, for every dialect: N tenants x F flags (or what the API has instead).

Each dialect gets about N x (1 + F) objects of the kinds its API manages
(:data:`SHAPES` says which), in files of 1,000 tenants, and a way to change
1 % of them by one field (``changed``: the tenant numbers to change). Where an
API cannot create something itself (an admin, the flag catalog), :func:`seed`
says what its sandbox starts with.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import specgen_dialects as other
from bench.specgen_dialects import HEADER, features, write_chunks

Writer = Callable[[Path, int, int, set[int]], None]

SHAPES = {
    "reference": "plans (1 per 1,000 tenants, at least 3) with tier defaults, N tenants (1 in 10 "
    "a child), N x F feature flags, 1 operator per 100 tenants; 1 %: tenants renamed",
    "operator-v1": "3 device tiers, plans with tier defaults, N tenants, N x F operators (F per "
    "tenant: the API has no flags); 1 %: tenants renamed",
    "iaas-v1": "N tenants, N x F users (F per tenant, each with a WireGuard key: the API has no "
    "flags); 1 %: one user of the tenant made an operator",
    "admin-operators": "N x (1 + F) operators (the API manages nothing else); 1 %: operators "
    "disabled",
    "platform-admin": "the 3 catalog plans, N test tenants, N x F flags (from a seeded catalog); "
    "1 %: one flag flipped",
    "tenants-v1": "N tenants (1 in 10 a child), N x F feature flags; 1 %: tenants renamed",
}
"""What each dialect's tree holds, for the bench's output."""


def subscription_plans_for(tenants: int) -> int:
    return max(3, tenants // 1000)


def _reference(root: Path, tenants: int, flags: int, changed: set[int]) -> None:
    n_plans = subscription_plans_for(tenants)
    documents = [
        f"{HEADER}kind: Plan\nname: plan-{p}\ndisplayName: Plan {p}\n"
        f"tierDefaults: {{basic: {100 + p}, premium: {10 + p}}}\n"
        for p in range(n_plans)
    ]
    (root / "plans.yaml").write_text("---\n".join(documents))

    def tenant(t: int) -> str:
        lines = [
            f"{HEADER}kind: Tenant",
            f"name: tenant-{t:06d}",
            f"displayName: Tenant {t}" + (" (renamed)" if t in changed else ""),
            f"plan: plan-{t % n_plans}",
            "status: active",
        ]
        if t % 10 == 9:
            lines.append(f"parent: tenant-{t - 1:06d}")
        lines.append(f"configuration: {{region: r{t % 5}, tier: t{t % 3}}}")
        if flags:
            lines.append(features(t, flags))
        return "\n".join(lines) + "\n"

    write_chunks(root, "tenants", tenants, tenant)
    operators = []
    for o in range(max(1, tenants // 100)):
        role = "operator-admin" if o == 0 else "operator"
        operators.append(
            f"{HEADER}kind: Operator\nemail: op{o}@example.com\nname: Operator {o}\n"
            f"role: {role}\nstatus: active\ntenant: tenant-{(o * 7) % tenants:06d}\n"
        )
    (root / "operators.yaml").write_text("---\n".join(operators))


WRITERS: dict[str, Writer] = {
    "reference": _reference,
    "operator-v1": other.operator_v1,
    "iaas-v1": other.iaas_v1,
    "admin-operators": other.admin_operators,
    "platform-admin": other.platform_admin,
    "tenants-v1": other.tenants_v1,
}
DIALECTS = tuple(WRITERS)


def write_specs(
    root: Path,
    tenants: int,
    flags: int,
    changed: set[int] | None = None,
    dialect: str = "reference",
) -> Path:
    """Write the tree under ``root`` (with a ``reconciler.yaml``); tenants in ``changed``
    get the dialect's one-field change."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "reconciler.yaml").write_text(HEADER + "prune: {}\n")
    WRITERS[dialect](root, tenants, flags, changed or set())
    return root


def seed(dialect: str, tenants: int, flags: int) -> dict[str, Any] | None:
    """What the dialect's sandbox must hold before a run (its ``--data``), if anything."""
    return other.SEEDS[dialect](tenants, flags) if dialect in other.SEEDS else None


def object_count(tenants: int, flags: int) -> int:
    """Resources the reference tree declares (plans and their tier defaults count twice)."""
    return 2 * subscription_plans_for(tenants) + tenants * (1 + flags) + max(1, tenants // 100)

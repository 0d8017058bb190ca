"""Spec trees of any size for the reference dialect: N tenants x F flags, plus subscription
plans, their tier defaults and operators in proportion (one per 1,000 tenants, at least 3;
one operator per 100 tenants; one tenant in 10 a child of another)."""

from __future__ import annotations

from pathlib import Path

HEADER = "apiVersion: reconciler.dev/v1\n"


def subscription_plans_for(tenants: int) -> int:
    return max(3, tenants // 1000)


def write_specs(root: Path, tenants: int, flags: int, rename: set[int] | None = None) -> Path:
    """Write the tree under ``root``; tenants in ``rename`` get a changed display name."""
    rename = rename or set()
    root.mkdir(parents=True, exist_ok=True)
    (root / "tenants").mkdir(exist_ok=True)
    (root / "reconciler.yaml").write_text(HEADER + "prune: {}\n")
    n_subscription_plans = subscription_plans_for(tenants)
    documents = []
    for p in range(n_subscription_plans):
        documents.append(
            f"{HEADER}kind: Plan\nname: plan-{p}\ndisplayName: Plan {p}\n"
            f"tierDefaults: {{basic: {100 + p}, premium: {10 + p}}}\n"
        )
    (root / "plans.yaml").write_text("---\n".join(documents))
    chunk = 1000
    for start in range(0, tenants, chunk):
        docs = []
        for t in range(start, min(tenants, start + chunk)):
            name = f"tenant-{t:06d}"
            display = f"Tenant {t}" + (" (renamed)" if t in rename else "")
            lines = [
                f"{HEADER}kind: Tenant",
                f"name: {name}",
                f"displayName: {display}",
                f"plan: plan-{t % n_subscription_plans}",
                "status: active",
            ]
            if t % 10 == 9:
                lines.append(f"parent: tenant-{t - 1:06d}")
            lines.append(f"configuration: {{region: r{t % 5}, tier: t{t % 3}}}")
            if flags:
                inner = ", ".join(
                    f"flag_{f}: {'true' if (t + f) % 2 else 'false'}" for f in range(flags)
                )
                lines.append(f"features: {{{inner}}}")
            docs.append("\n".join(lines) + "\n")
        (root / "tenants" / f"tenants-{start // chunk:04d}.yaml").write_text("---\n".join(docs))
    operators = []
    for o in range(max(1, tenants // 100)):
        role = "operator-admin" if o == 0 else "operator"
        operators.append(
            f"{HEADER}kind: Operator\nemail: op{o}@example.com\nname: Operator {o}\n"
            f"role: {role}\nstatus: active\ntenant: tenant-{(o * 7) % tenants:06d}\n"
        )
    (root / "operators.yaml").write_text("---\n".join(operators))
    return root


def object_count(tenants: int, flags: int) -> int:
    """Resources the tree declares (subscription plans and their tier defaults count twice)."""
    return 2 * subscription_plans_for(tenants) + tenants * (1 + flags) + max(1, tenants // 100)

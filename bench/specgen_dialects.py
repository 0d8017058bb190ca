"""Spec trees for the dialects other than ``reference`` (see ``specgen.SHAPES``)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

HEADER = "apiVersion: reconciler.dev/v1\n"
CHUNK = 1000


def write_chunks(root: Path, folder: str, tenants: int, one: Callable[[int], str]) -> None:
    """The documents ``one(t)`` of every tenant, 1,000 tenants to a file under ``root/folder``."""
    (root / folder).mkdir(parents=True, exist_ok=True)
    for start in range(0, tenants, CHUNK):
        docs = [one(t) for t in range(start, min(tenants, start + CHUNK))]
        (root / folder / f"{folder}-{start // CHUNK:04d}.yaml").write_text("---\n".join(docs))


def features(t: int, flags: int, flip_first: bool = False) -> str:
    """Tenant ``t``'s ``features:`` line; ``flip_first`` flips ``flag_0`` (a 1 % change)."""

    def on(f: int) -> bool:
        return ((t + f) % 2 == 1) != (flip_first and f == 0)

    inner = ", ".join(f"flag_{f}: {'true' if on(f) else 'false'}" for f in range(flags))
    return f"features: {{{inner}}}"


def operator_v1(root: Path, tenants: int, flags: int, changed: set[int]) -> None:
    tiers = ("basic", "standard", "premium")
    (root / "device-tiers.yaml").write_text(
        "---\n".join(
            f"{HEADER}kind: DeviceTier\nname: {t}\ndisplayName: {t.title()} devices\n"
            for t in tiers
        )
    )
    n_plans = max(3, tenants // 1000)
    (root / "plans.yaml").write_text(
        "---\n".join(
            f"{HEADER}kind: Plan\nname: plan-{p}\ndisplayName: Plan {p}\n"
            f"tierDefaults: {{basic: {100 + p}, standard: {10 + p}}}\n"
            for p in range(n_plans)
        )
    )

    def tenant(t: int) -> str:
        lines = [
            f"{HEADER}kind: Tenant",
            f"name: tenant-{t:06d}",
            f"displayName: Tenant {t}" + (" (renamed)" if t in changed else ""),
            f"plan: plan-{t % n_plans}",
            "status: active",
            f"configuration: {{region: r{t % 5}}}",
        ]
        if t % 10 == 9:
            lines.append(f"parent: tenant-{t - 1:06d}")
        return "\n".join(lines) + "\n"

    def operators(t: int) -> str:
        return "---\n".join(
            f"{HEADER}kind: Operator\nemail: op-{t}-{f}@example.com\nname: Operator {t} {f}\n"
            f"role: {'operator-admin' if t == f == 0 else 'operator'}\nstatus: active\n"
            f"tenant: tenant-{t:06d}\n"
            for f in range(flags)
        )

    write_chunks(root, "tenants", tenants, tenant)
    if flags:
        write_chunks(root, "operators", tenants, operators)


def _wireguard_key(t: int, u: int) -> str:
    return base64.b64encode(hashlib.sha256(f"{t}/{u}".encode()).digest()).decode()


def iaas_v1(root: Path, tenants: int, flags: int, changed: set[int]) -> None:
    write_chunks(
        root, "tenants", tenants, lambda t: f"{HEADER}kind: Tenant\nname: tenant-{t:06d}\n"
    )

    def users(t: int) -> str:
        return "---\n".join(
            f"{HEADER}kind: Operator\nemail: user-{t}-{u}@example.com\n"
            f"role: {'operator' if u == 0 and t in changed else 'member'}\n"
            f"tenant: tenant-{t:06d}\nwireguardPubkey: {_wireguard_key(t, u)}\n"
            for u in range(flags)
        )

    if flags:
        write_chunks(root, "users", tenants, users)


def admin_operators(root: Path, tenants: int, flags: int, changed: set[int]) -> None:
    def operators(t: int) -> str:
        return "---\n".join(
            f"{HEADER}kind: Operator\nemail: op-{t}-{f}@example.com\n"
            f"status: {'disabled' if f == 0 and t in changed else 'active'}\n"
            for f in range(1 + flags)
        )

    write_chunks(root, "operators", tenants, operators)


PLATFORM_PLANS = ("free", "pro", "enterprise")


def platform_admin(root: Path, tenants: int, flags: int, changed: set[int]) -> None:
    (root / "plans.yaml").write_text(
        "---\n".join(f"{HEADER}kind: Plan\nname: {p}\n" for p in PLATFORM_PLANS)
    )

    def tenant(t: int) -> str:
        lines = [
            f"{HEADER}kind: Tenant",
            f"name: Tenant {t:06d}",
            f"owner: owner-{t}@example.com",
            f"plan: {PLATFORM_PLANS[t % 3]}",
        ]
        if flags:
            lines.append(features(t, flags, flip_first=t in changed))
        return "\n".join(lines) + "\n"

    write_chunks(root, "tenants", tenants, tenant)


def tenants_v1(root: Path, tenants: int, flags: int, changed: set[int]) -> None:
    def tenant(t: int) -> str:
        lines = [
            f"{HEADER}kind: Tenant",
            f"name: tenant-{t:06d}",
            f"displayName: Tenant {t}" + (" (renamed)" if t in changed else ""),
            "status: active",
            f"configuration: {{locale: en-US, region: r{t % 5}}}",
        ]
        if t % 10 == 9:
            lines.append(f"parent: tenant-{t - 1:06d}")
        if flags:
            lines.append(features(t, flags))
        return "\n".join(lines) + "\n"

    write_chunks(root, "tenants", tenants, tenant)


SEEDS: dict[str, Callable[[int, int], dict[str, Any]]] = {
    "admin-operators": lambda tenants, flags: {
        "current_admin": {"email": "admin@example.com", "name": "Bench Admin"}
    },
    "platform-admin": lambda tenants, flags: {
        "tenants": [],
        "users": [],
        "flags": [f"flag_{f}" for f in range(flags)],
    },
}

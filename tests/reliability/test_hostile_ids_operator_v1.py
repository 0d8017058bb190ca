"""The hostile-identifier scenario of ``operator-v1`` (judged in test_hostile_ids.py).

Where ``operator-v1`` puts a value into a path: device tier ids (``PUT
/device-tiers/{id}``), plan ids (``PUT /plans/{id}``, ``GET``/``PUT
…/tier-defaults``), tenant ids (``PATCH``, also for suspend and resume, and
``DELETE``) and user ids (``PUT``, ``DELETE``, enable/disable, roles, tenant).
Role names reach a path only for the two operator roles: a user's other roles
(here hostile ones) are never removed, so they never make a user unmanageable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.reliability.test_hostile_ids_harness import (
    SPEC_EMAILS,
    SPEC_NAMES,
    Route,
    Row,
    RowKey,
    Scenario,
    Seed,
    Snapshot,
    Step,
    Target,
    bad,
    email,
    good,
    id_corpus,
    prune,
    rows_where,
    spec_files,
    split_rid,
)

B = "/api/v1/operator"
ADMIN = "admin-user"
VICTIM_TENANT = "victim-tenant"
VICTIM_PLAN = "victim-plan"
VICTIM_TIER = "victim-tier"

TENANT_IDS = id_corpus(VICTIM_TENANT, f"../users/{ADMIN}")
USER_IDS = id_corpus(ADMIN, f"../tenants/{VICTIM_TENANT}")
TIER_IDS = id_corpus(VICTIM_TIER, f"../plans/{VICTIM_PLAN}")
"""``PUT /device-tiers/../plans/victim-plan`` would rewrite the victim plan."""
ROLE_NAMES = id_corpus("operator-admin", f"../../../tenants/{VICTIM_TENANT}")
"""A second role of users ``r-<tag>``, none of them an operator role: never in a path."""
PLAN_IDS = good(id_corpus(VICTIM_PLAN, "../x"))
BAD_PLAN_IDS = bad(id_corpus(VICTIM_PLAN, f"../tenants/{VICTIM_TENANT}"))


def named(name: str, display: str) -> dict[str, Any]:
    return {"name": name, "display_name": display, "description": None}


def tenant(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "display_name": "T",
        "plan_id": None,
        "parent_id": None,
        "status": "active",
        "configuration": {},
        "suspended_at": None,
    }


def user(address: str, roles: list[str]) -> dict[str, Any]:
    return {"email": address, "name": "U", "enabled": True, "roles": roles, "tenant_id": None}


def seed(s: Seed) -> None:
    s.put("device_tiers", VICTIM_TIER, named("basic", "B"), key="basic")
    s.put("plans", VICTIM_PLAN, named(VICTIM_PLAN, "V"), key=VICTIM_PLAN)
    s.put("tenants", VICTIM_TENANT, tenant(VICTIM_TENANT), key=VICTIM_TENANT)
    s.put(
        "users",
        ADMIN,
        user("admin@hostile.example", ["operator-admin"]),
        key="admin@hostile.example",
    )
    for tag, value in TIER_IDS.items():
        s.put("device_tiers", value, named(f"d-{tag}", "D"), key=f"d-{tag}")
    for tag, value in PLAN_IDS.items():
        s.put("plans", value, named(f"p-{tag}", "P"), key=f"p-{tag}")
    for tag, value in TENANT_IDS.items():
        s.put("tenants", value, tenant(f"t-{tag}"), key=f"t-{tag}")
    for tag, value in USER_IDS.items():
        s.put("users", value, user(email("u", tag), ["operator"]), key=email("u", tag))
    for tag, value in ROLE_NAMES.items():
        address = email("r", tag)
        s.put("users", f"r-{tag}-id", user(address, ["operator", value]), key=address)


def base_docs() -> list[dict[str, Any]]:
    return [
        {"kind": "DeviceTier", "name": "basic", "displayName": "B"},
        {"kind": "Plan", "name": VICTIM_PLAN, "displayName": "V"},
        {"kind": "Tenant", "name": VICTIM_TENANT, "displayName": "T"},
        {
            "kind": "Operator",
            "email": "admin@hostile.example",
            "name": "U",
            "role": "operator-admin",
        },
    ]


def adopted_docs(updated: bool) -> list[dict[str, Any]]:
    two = "2" if updated else ""
    role = "operator-admin" if updated else "operator"
    docs: list[dict[str, Any]] = []
    docs += [{"kind": "DeviceTier", "name": f"d-{t}", "displayName": f"D{two}"} for t in TIER_IDS]
    for tag in PLAN_IDS:
        doc: dict[str, Any] = {"kind": "Plan", "name": f"p-{tag}", "displayName": f"P{two}"}
        if updated:
            doc["tierDefaults"] = {"basic": 5}
        docs.append(doc)
    docs += [{"kind": "Tenant", "name": f"t-{t}", "displayName": f"T{two}"} for t in TENANT_IDS]
    docs += [
        {"kind": "Operator", "email": email("u", t), "name": f"U{two}", "role": role}
        for t in USER_IDS
    ]
    docs += [
        {"kind": "Operator", "email": email("r", t), "name": "U", "role": role} for t in ROLE_NAMES
    ]
    return docs


def new_docs(updated: bool) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for name in SPEC_NAMES.values():
        docs.append({"kind": "DeviceTier", "name": name, "displayName": f"{name}{updated}"})
        docs.append(
            {
                "kind": "Plan",
                "name": f"{name}-plan",
                "displayName": name,
                "tierDefaults": {name: 2 if updated else 1},
            }
        )
        docs.append(
            {
                "kind": "Tenant",
                "name": name,
                "displayName": f"{name}!" if updated else name,
                "plan": f"{name}-plan",
                "configuration": {name: updated},
            }
        )
    docs += [
        {
            "kind": "Operator",
            "email": address,
            "name": "N2" if updated else "N",
            "role": "operator",
            "tenant": "a b",
        }
        for address in SPEC_EMAILS
    ]
    return docs


def kept_docs() -> list[dict[str, Any]]:
    """After the update: what stays (tiers and plans cannot be removed)."""
    docs = base_docs()
    docs += [{"kind": "DeviceTier", "name": f"d-{t}", "displayName": "D2"} for t in TIER_IDS]
    docs += [{"kind": "Plan", "name": f"p-{t}", "displayName": "P2"} for t in PLAN_IDS]
    for name in SPEC_NAMES.values():
        docs.append({"kind": "DeviceTier", "name": name, "displayName": f"{name}True"})
        docs.append({"kind": "Plan", "name": f"{name}-plan", "displayName": name})
    return docs


def unsafe_objects() -> list[str]:
    """Every step after the first asks these to change; none can be addressed."""
    found = [f"Tenant/t-{tag}" for tag in bad(TENANT_IDS)]
    found += [f"Operator/{email('u', tag)}" for tag in bad(USER_IDS)]
    found += [f"DeviceTier/d-{tag}" for tag in bad(TIER_IDS)]
    return found


def add_bad_plans(db_path: Path) -> None:
    s = Seed(db_path, "operator-v1")
    try:
        for tag, value in BAD_PLAN_IDS.items():
            s.put("plans", value, named(f"pb-{tag}", "P"), key=f"pb-{tag}")
    finally:
        s.close()


def steps() -> list[Step]:
    everything = prune(Tenant="delete", Operator="delete")
    return [
        Step(
            "create",
            {
                "all.yaml": spec_files(*base_docs(), *adopted_docs(False), *new_docs(False)),
                "reconciler.yaml": prune(),
            },
        ),
        Step(
            "update",
            {
                "all.yaml": spec_files(*base_docs(), *adopted_docs(True), *new_docs(True)),
                "reconciler.yaml": prune(),
            },
            unsafe=unsafe_objects(),
        ),
        Step(
            "prune-suspend",
            {
                "all.yaml": spec_files(*kept_docs()),
                "reconciler.yaml": prune(Tenant="suspend", Operator="suspend"),
            },
            unsafe=unsafe_objects(),
        ),
        Step(
            "prune-delete",
            {"all.yaml": spec_files(*kept_docs()), "reconciler.yaml": everything},
            unsafe=unsafe_objects(),
        ),
        Step(
            "plan-ids-no-segment-can-carry",
            {
                "all.yaml": spec_files(
                    *kept_docs(),
                    *(
                        {"kind": "Plan", "name": f"pb-{t}", "displayName": "P2"}
                        for t in BAD_PLAN_IDS
                    ),
                ),
                "reconciler.yaml": everything,
            },
            unsafe=[*unsafe_objects(), *(f"Plan/pb-{t}" for t in BAD_PLAN_IDS)],
            before=add_bad_plans,
            group="read",
        ),
        Step(
            "tier-defaults-of-plans-no-path-can-carry",
            {
                "all.yaml": spec_files(
                    *kept_docs(),
                    *(
                        {
                            "kind": "Plan",
                            "name": f"pb-{t}",
                            "displayName": "P",
                            "tierDefaults": {"basic": 5},
                        }
                        for t in BAD_PLAN_IDS
                    ),
                ),
                "reconciler.yaml": everything,
            },
            unsafe=[*unsafe_objects(), *(f"TierDefaults/pb-{t}" for t in BAD_PLAN_IDS)],
            group="parent",
        ),
    ]


def _routes() -> tuple[Route, ...]:
    def one(kind: str) -> Any:
        return lambda p: (kind, p["id"])

    return (
        Route("POST", f"{B}/device-tiers", lambda p: ("device_tiers",)),
        Route("PUT", f"{B}/device-tiers/{{id}}", one("device_tier")),
        Route("POST", f"{B}/plans", lambda p: ("plans",)),
        Route("PUT", f"{B}/plans/{{id}}", one("plan")),
        Route("PUT", f"{B}/plans/{{id}}/tier-defaults", one("tiers")),
        Route("POST", f"{B}/tenants", lambda p: ("tenants",)),
        Route("PATCH", f"{B}/tenants/{{id}}", one("tenant")),
        Route("DELETE", f"{B}/tenants/{{id}}", one("tenant")),
        Route("POST", f"{B}/users", lambda p: ("users",)),
        Route("PUT", f"{B}/users/{{id}}", one("user")),
        Route("DELETE", f"{B}/users/{{id}}", one("user")),
        *(
            Route("POST", f"{B}/users/{{id}}/{action}", one("user"))
            for action in ("enable", "disable", "roles", "tenant")
        ),
        Route("DELETE", f"{B}/users/{{id}}/roles/{{role}}", lambda p: ("role", p["id"], p["role"])),
    )


TABLES = {
    "DeviceTier": ("device_tiers", "device_tier"),
    "Plan": ("plans", "plan"),
    "TierDefaults": ("plans", "tiers"),
    "Tenant": ("tenants", "tenant"),
}


def _found(rid: str, before: Snapshot, after: Snapshot) -> tuple[str, list[Row]]:
    kind, key = split_rid(rid)
    snaps = (before, after)
    if kind == "Operator":
        return kind, [r for _, r in rows_where(snaps, "users") if r.data["email"].lower() == key]
    return kind, [r for _, r in rows_where(snaps, TABLES[kind][0], name=key)]


def targets(rid: str, before: Snapshot, after: Snapshot) -> set[Target]:
    kind, found = _found(rid, before, after)
    if kind == "Operator":
        out: set[Target] = {("users",)}
        for r in found:
            out.add(("user", r.id))
            # only the operator roles are ever removed
            out |= {("role", r.id, role) for role in ("operator", "operator-admin")}
        return out
    table, target = TABLES[kind]
    out = {(target, r.id) for r in found}
    return out if kind == "TierDefaults" else out | {(table,)}


def rows(rid: str, before: Snapshot, after: Snapshot) -> set[RowKey]:
    kind, found = _found(rid, before, after)
    if kind == "Operator":
        return {("users", r.id) for r in found}
    if kind == "TierDefaults":
        return {("tier_defaults", r.id) for r in found}
    return {(TABLES[kind][0], r.id) for r in found}


def identity(table: str, row: Row) -> RowKey:
    return (table, row.key) if table == "tier_defaults" else (table, row.id)


SCENARIO = Scenario(
    dialect="operator-v1",
    seed=seed,
    steps=steps,
    routes=_routes(),
    targets=targets,
    rows=rows,
    identity=identity,
)

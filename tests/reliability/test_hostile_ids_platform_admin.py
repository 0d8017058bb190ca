"""The hostile-identifier scenario of ``platform-admin`` (judged in test_hostile_ids.py).

Where ``platform-admin`` puts a value into a path: tenant ids (``GET`` and
``PATCH /tenants/{id}``, ``GET``/``PATCH /tenants/{id}/feature-flags``) and user
ids (``POST /users/{id}/suspend``, ``DELETE /users/{id}``); a user's email goes
into the delete's ``?confirmation=``. Flag names travel in the bulk ``PATCH``
body only; the catalog holds hostile ones to show reads take them. Tenants are
read one by one, so tenant ids no path can carry come last, on their own.
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
    splits,
)

B = "/api/v1/platform/admin"
VICTIM_TENANT = "victim-tenant"
VICTIM_USER = "victim-user"
CATALOG = ["advanced_analytics", "a.b", "x:y", "...", "K" * 100, "../../users/u", "a b#c?d%"]
"""The flag catalog: names a spec accepts, and two it does not (never written)."""

TENANT_IDS = good(id_corpus(VICTIM_TENANT, f"../users/{VICTIM_USER}"))
BAD_TENANT_IDS = bad(id_corpus(VICTIM_TENANT, f"../users/{VICTIM_USER}"))
USER_IDS = id_corpus(VICTIM_USER, f"../tenants/{VICTIM_TENANT}")
"""``DELETE /users/victim-user#frag?confirmation=u-fragment@…`` is refused by the
victim's confirmation; the suspend (``POST /users/victim-user#frag/suspend``) is not."""


def tenant(name: str, plan: str = "free") -> dict[str, Any]:
    return {
        "company_name": name,
        "owner_email": "owner@hostile.example",
        "plan": plan,
        "status": "active",
        "mrr": 0.0,
        "plan_override": None,
        "billing_override": None,
    }


def user(address: str) -> dict[str, Any]:
    return {
        "email": address,
        "name": "U",
        "role": "member",
        "tenant_id": None,
        "status": "active",
        "suspended_at": None,
    }


def seed(s: Seed) -> None:
    s.put("settings", "catalog", {"flags": CATALOG}, key="catalog")
    s.put("tenants", VICTIM_TENANT, tenant("Victim Co", "pro"), key="Victim Co")
    s.put(
        "flags",
        "victim-flag",
        {"key": "advanced_analytics", "enabled": True},
        key="advanced_analytics",
        scope=VICTIM_TENANT,
    )
    s.put("users", VICTIM_USER, user("admin@hostile.example"), key="admin@hostile.example")
    for tag, value in TENANT_IDS.items():
        s.put("tenants", value, tenant(f"t-{tag}"), key=f"t-{tag}")
    for tag, value in USER_IDS.items():
        s.put("users", value, user(email("u", tag)), key=email("u", tag))
    for number, address in enumerate(SPEC_EMAILS):
        s.put("users", f"e-{number}", user(address), key=address.lower())


def tenant_doc(name: str, stage: int, *, flags: bool = True) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "kind": "Tenant",
        "name": name,
        "owner": "owner@hostile.example",
        "plan": "free",
    }
    if stage >= 1 and flags:
        doc["features"] = {"a.b": stage == 1, "x:y": True, "...": stage == 2, "K" * 100: True}
    if stage >= 2:
        doc["planOverride"] = {"limits": {"max_users": 5}, "note": name}
    return doc


def base_docs() -> list[dict[str, Any]]:
    return [
        *({"kind": "Plan", "name": p} for p in ("free", "pro", "enterprise")),
        {
            "kind": "Tenant",
            "name": "Victim Co",
            "owner": "owner@hostile.example",
            "plan": "pro",
            "features": {"advanced_analytics": True},
        },
        {"kind": "Operator", "email": "admin@hostile.example", "status": "active"},
    ]


def users() -> list[dict[str, Any]]:
    found = [{"kind": "Operator", "email": email("u", t), "status": "active"} for t in USER_IDS]
    found += [{"kind": "Operator", "email": a, "status": "active"} for a in SPEC_EMAILS]
    return found


def tenants(stage: int) -> list[dict[str, Any]]:
    """Stage 0: as they are; 1: flags; 2: flags changed and a plan override."""
    found = [tenant_doc(f"t-{tag}", stage) for tag in TENANT_IDS]
    found += [tenant_doc(name, max(stage, 1)) for name in SPEC_NAMES.values()]
    return found


UNSAFE_USERS = [f"Operator/{email('u', tag)}" for tag in bad(USER_IDS)]


def add_bad_tenants(db_path: Path) -> None:
    s = Seed(db_path, "platform-admin")
    try:
        for tag, value in BAD_TENANT_IDS.items():
            s.put("tenants", value, tenant(f"tb-{tag}"), key=f"tb-{tag}")
    finally:
        s.close()


def steps() -> list[Step]:
    return [
        Step(
            "create",
            {
                "all.yaml": spec_files(*base_docs(), *tenants(1), *users()),
                "reconciler.yaml": prune(),
            },
        ),
        Step(
            "update",
            {
                "all.yaml": spec_files(*base_docs(), *tenants(2), *users()),
                "reconciler.yaml": prune(),
            },
        ),
        Step(
            "prune-suspend",
            {
                "all.yaml": spec_files(*base_docs(), *tenants(2)),
                "reconciler.yaml": prune(Operator="suspend"),
            },
            unsafe=UNSAFE_USERS,
        ),
        Step(
            "prune-delete",
            {
                "all.yaml": spec_files(*base_docs(), *tenants(2)),
                "reconciler.yaml": prune(Operator="delete"),
            },
            unsafe=UNSAFE_USERS,
        ),
        Step(
            "tenant-ids-no-segment-can-carry",
            {
                "all.yaml": spec_files(
                    *base_docs(),
                    *tenants(2),
                    *(tenant_doc(f"tb-{t}", 2, flags=False) for t in BAD_TENANT_IDS),
                ),
                "reconciler.yaml": prune(Operator="delete"),
            },
            unsafe=[*UNSAFE_USERS, *(f"Tenant/tb-{tag}" for tag in BAD_TENANT_IDS)],
            before=add_bad_tenants,
            group="read",
        ),
        Step(
            "flags-of-tenants-no-path-can-carry",
            {
                "all.yaml": spec_files(
                    *base_docs(),
                    *tenants(2),
                    *(
                        tenant_doc(f"tb-{t}", 0) | {"features": {"a.b": True}}
                        for t in BAD_TENANT_IDS
                    ),
                ),
                "reconciler.yaml": prune(Operator="delete"),
            },
            unsafe=[*UNSAFE_USERS, *(f"FeatureFlag/tb-{tag}/a.b" for tag in BAD_TENANT_IDS)],
            group="parent",
        ),
    ]


def _confirmation(params: Any, query: Any, before: Snapshot) -> str | None:
    row = before.get(("users", params["u"]))
    wanted = {"confirmation": [row.data["email"]]} if row else None
    return None if query == wanted else f"query {dict(query)}, the user's email is {wanted}"


def _routes() -> tuple[Route, ...]:
    return (
        Route("POST", f"{B}/tenants/test", lambda p: ("tenants",)),
        Route("PATCH", f"{B}/tenants/{{t}}", lambda p: ("tenant", p["t"])),
        Route("PATCH", f"{B}/tenants/{{t}}/feature-flags", lambda p: ("flags-of", p["t"])),
        Route("POST", f"{B}/users/{{u}}/suspend", lambda p: ("user", p["u"])),
        Route("DELETE", f"{B}/users/{{u}}", lambda p: ("user", p["u"]), query=_confirmation),
    )


def _found(rid: str, before: Snapshot, after: Snapshot) -> tuple[str, list[Row]]:
    kind, key = split_rid(rid)
    snaps = (before, after)
    if kind == "Tenant":
        return kind, [r for _, r in rows_where(snaps, "tenants", company_name=key)]
    if kind == "FeatureFlag":
        return kind, [
            r for name, _ in splits(key) for _, r in rows_where(snaps, "tenants", company_name=name)
        ]
    return kind, [r for _, r in rows_where(snaps, "users") if r.data["email"].lower() == key]


def targets(rid: str, before: Snapshot, after: Snapshot) -> set[Target]:
    kind, found = _found(rid, before, after)
    if kind == "Tenant":
        return {("tenants",), *(("tenant", r.id) for r in found)}
    if kind == "FeatureFlag":
        return {("flags-of", r.id) for r in found}
    return {("user", r.id) for r in found}


def rows(rid: str, before: Snapshot, after: Snapshot) -> set[RowKey]:
    kind, found = _found(rid, before, after)
    if kind == "Tenant":
        return {("tenants", r.id) for r in found}
    if kind == "FeatureFlag":  # one bulk call carries every flag change of the tenant
        ids = {r.id for r in found}
        return {k for k in before.keys() | after.keys() if k[0] == "flags" and k[1] in ids}
    return {("users", r.id) for r in found}


def identity(table: str, row: Row) -> RowKey:
    return (table, row.scope, row.key) if table == "flags" else (table, row.id)


SCENARIO = Scenario(
    dialect="platform-admin",
    seed=seed,
    steps=steps,
    routes=_routes(),
    targets=targets,
    rows=rows,
    identity=identity,
    side_rows=lambda key: key[0] == "audit",  # what an admin did, and why
)

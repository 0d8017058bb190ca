"""The hostile-identifier scenario of ``tenants-v1`` (judged in test_hostile_ids.py).

Where ``tenants-v1`` puts a value into a path: tenant, role and assignment ids
(UUIDs: the API refuses any other id, and so does its sandbox) and flag keys
(``DELETE /{tenant}/feature-flags/{key}``). So the corpus goes into live flag
keys (one hand-made flag beside a managed ``sso`` on each tenant ``f-<tag>``),
and into role names, which this API only ever sends in bodies: every hostile
role name must be pruned exactly, none reported unsafe. A live tenant named
``split/beta`` checks that a flag's tenant is never found by splitting its key
(``FeatureFlag/split/beta/sso`` is the flag ``sso`` of ``split/beta``, not
``beta/sso`` of ``split``). Specs create tenants, flags and roles under names
that are path hazards.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.reliability.test_hostile_ids_harness import (
    FLAGGED,
    SPEC_FLAG_KEYS,
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
    id_corpus,
    prune,
    rows_where,
    spec_files,
    split_rid,
    splits,
)

B = "/v1/tenants"


def uid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"hostile/{name}"))


VICTIM = uid("victim")
ROLES_HOME = uid("roles-home")
SPLIT, SPLIT_BETA = uid("split"), uid("split/beta")
FLAGS_HOME = uid("hostile-flags")
MEMBER, OTHER_MEMBER = uid("member"), uid("other-member")
FLAG_KEYS = id_corpus("sso", f"../../{VICTIM}/feature-flags/sso")
"""Keys of flags of ``hostile-flags``; ``../../<victim>/feature-flags/sso``, sent raw, is the
victim's flag."""
ROLE_NAMES = id_corpus("viewer", "../../x")
SPEC_ROLES = ("a b", "#", "?", "%", "é", "x%2Fy", "...")


def tenant(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "display_name": "T",
        "parent_id": None,
        "status": "active",
        "configuration": {},
    }


def flag(s: Seed, tid: str, key: str, enabled: bool = True) -> None:
    s.put("flags", uid(f"flag/{tid}/{key}"), {"key": key, "enabled": enabled}, key=key, scope=tid)


def seed(s: Seed) -> None:
    s.put("tenants", VICTIM, tenant("victim-tenant"), key="victim-tenant")
    flag(s, VICTIM, "sso")
    s.put("tenants", SPLIT, tenant("split"), key="split")
    flag(s, SPLIT, "beta")
    s.put("tenants", SPLIT_BETA, tenant("split/beta"), key="split/beta")
    flag(s, SPLIT_BETA, "sso")
    s.put("tenants", ROLES_HOME, tenant("roles-home"), key="roles-home")
    s.put(
        "roles",
        uid("viewer"),
        {"name": "viewer", "description": None, "permissions": ["r"], "tenant_id": ROLES_HOME},
        key="viewer",
        scope=ROLES_HOME,
    )
    for tag, value in ROLE_NAMES.items():
        s.put(
            "roles",
            uid(f"role/{tag}"),
            {"name": value, "description": None, "permissions": [], "tenant_id": ROLES_HOME},
            key=value,
            scope=ROLES_HOME,
        )
    s.put("tenants", FLAGS_HOME, tenant("hostile-flags"), key="hostile-flags")
    flag(s, FLAGS_HOME, "sso")
    for value in FLAG_KEYS.values():
        flag(s, FLAGS_HOME, value)


def base_docs() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = [
        {"kind": "Tenant", "name": "victim-tenant", "displayName": "T", "features": {"sso": True}},
        {"kind": "Tenant", "name": "split", "displayName": "T", "features": {"beta": True}},
        {
            "kind": "Tenant",
            "name": "roles-home",
            "displayName": "T",
            "roles": {"viewer": {"permissions": ["r"]}},
        },
    ]
    docs.append(
        {"kind": "Tenant", "name": "hostile-flags", "displayName": "T", "features": {"sso": True}}
    )
    return docs


def new_docs(updated: bool) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for name in SPEC_NAMES.values():
        docs.append(
            {
                "kind": "Tenant",
                "name": name,
                "displayName": f"{name}!" if updated else name,
                "configuration": {name: updated},
            }
        )
        if name in FLAGGED:
            docs[-1]["features"] = {key: updated for key in SPEC_FLAG_KEYS}
        if name == FLAGGED[0]:
            docs[-1]["roles"] = {
                role: {
                    "description": role,
                    "permissions": ["p", role] if updated else [role],
                    "members": [OTHER_MEMBER] if updated else [MEMBER],
                }
                for role in SPEC_ROLES
            }
    return docs


def steps() -> list[Step]:
    keep = spec_files(*base_docs())
    return [
        Step(
            "create",
            {"all.yaml": spec_files(*base_docs(), *new_docs(False)), "reconciler.yaml": prune()},
        ),
        Step(
            "update",
            {"all.yaml": spec_files(*base_docs(), *new_docs(True)), "reconciler.yaml": prune()},
        ),
        Step("prune-suspend", {"all.yaml": keep, "reconciler.yaml": prune(Tenant="suspend")}),
        Step(
            "prune-delete",
            {
                "all.yaml": keep,
                "reconciler.yaml": prune(
                    Tenant="suspend", FeatureFlag="delete", Role="delete", RoleAssignment="delete"
                ),
            },
            unsafe=[f"FeatureFlag/hostile-flags/{key}" for key in bad(FLAG_KEYS).values()],
        ),
    ]


def _routes() -> tuple[Route, ...]:
    def tenant_call(p: Any) -> Target:
        return ("tenant", p["t"])

    return (
        Route("POST", B, lambda p: ("tenants",)),
        Route("PATCH", f"{B}/{{t}}", tenant_call),
        Route("PATCH", f"{B}/{{t}}/configuration", tenant_call),
        *(
            Route("POST", f"{B}/{{t}}/{step}", tenant_call)
            for step in ("suspend", "resume", "activate", "deactivate")
        ),
        Route("POST", f"{B}/{{t}}/feature-flags", lambda p: ("flags-of", p["t"])),
        Route("DELETE", f"{B}/{{t}}/feature-flags/{{k}}", lambda p: ("flag", p["t"], p["k"])),
        Route("POST", f"{B}/{{t}}/roles", lambda p: ("roles-of", p["t"])),
        Route("PUT", f"{B}/{{t}}/roles/{{r}}", lambda p: ("role", p["t"], p["r"])),
        Route("DELETE", f"{B}/{{t}}/roles/{{r}}", lambda p: ("role", p["t"], p["r"])),
        Route("POST", f"{B}/{{t}}/role-assignments", lambda p: ("grants-of", p["t"])),
        Route(
            "POST", f"{B}/{{t}}/role-assignments/{{a}}/revoke", lambda p: ("grant", p["t"], p["a"])
        ),
    )


def _tenants(name: str, snaps: tuple[Snapshot, Snapshot]) -> list[Row]:
    return [r for _, r in rows_where(snaps, "tenants", name=name)]


def _roles(key: str, snaps: tuple[Snapshot, Snapshot]) -> list[tuple[Row, Row]]:
    """(tenant, role) pairs a ``tenant/role`` key may mean."""
    return [
        (t, r)
        for name, role in splits(key)
        for t in _tenants(name, snaps)
        for _, r in rows_where(snaps, "roles", tenant_id=t.id, name=role)
    ]


def targets(rid: str, before: Snapshot, after: Snapshot) -> set[Target]:
    kind, key = split_rid(rid)
    snaps = (before, after)
    if kind == "Tenant":
        return {("tenants",), *(("tenant", t.id) for t in _tenants(key, snaps))}
    if kind == "FeatureFlag":
        return {
            target
            for name, k in splits(key)
            for t in _tenants(name, snaps)
            for target in (("flags-of", t.id), ("flag", t.id, k))
        }
    if kind == "Role":
        return {
            x for t, r in _roles(key, snaps) for x in (("roles-of", t.id), ("role", t.id, r.id))
        }
    head, _, user = key.rpartition("/")
    out: set[Target] = set()
    for t, r in _roles(head, snaps):
        out.add(("grants-of", t.id))
        for _, g in rows_where(snaps, "grants", role_id=r.id, user_id=user):
            out.add(("grant", t.id, g.id))
    return out


def rows(rid: str, before: Snapshot, after: Snapshot) -> set[RowKey]:
    kind, key = split_rid(rid)
    snaps = (before, after)
    if kind == "Tenant":
        return {("tenants", t.id) for t in _tenants(key, snaps)}
    if kind == "FeatureFlag":
        return {("flags", t.id, k) for name, k in splits(key) for t in _tenants(name, snaps)}
    if kind == "Role":
        return {("roles", r.id) for _, r in _roles(key, snaps)}
    head, _, user = key.rpartition("/")
    return {
        ("grants", g.id)
        for _, r in _roles(head, snaps)
        for _, g in rows_where(snaps, "grants", role_id=r.id, user_id=user)
    }


def identity(table: str, row: Row) -> RowKey:
    return (table, row.scope, row.key) if table == "flags" else (table, row.id)


SCENARIO = Scenario(
    dialect="tenants-v1",
    seed=seed,
    steps=steps,
    routes=_routes(),
    targets=targets,
    rows=rows,
    identity=identity,
    without={
        "read": "tenants are read one by one, by UUID: the API refuses any other id",
        "parent": "a flag's or role's parent is a tenant, and tenant ids are UUIDs",
    },
)

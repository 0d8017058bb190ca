"""The hostile-identifier scenario of the ``reference`` dialect (judged in test_hostile_ids.py).

Where ``reference`` puts a value into a path: plan ids (``PUT /plans/{id}``, its
tier defaults), tenant ids (``PATCH``/``DELETE``, suspend/resume, the flags under
it), flag keys (``PUT``/``DELETE …/feature-flags/{key}``), user ids (``PUT``,
``DELETE``, enable/disable, roles, tenant) and role names (``DELETE
/users/{id}/roles/{role}``). Each gets the whole corpus, seeded straight into
the sandbox's SQLite file; the victims (``victim-tenant``, the only
operator-admin ``admin-user``, the flag ``sso``, ``victim-plan``) must come
through every step untouched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.reliability.test_hostile_ids_harness import (
    FLAGGED,
    SPEC_EMAILS,
    SPEC_FLAG_KEYS,
    SPEC_NAMES,
    Route,
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

B = "/api/v1/operator"
ADMIN = "admin-user"
VICTIM_TENANT = "victim-tenant"
VICTIM_PLAN = "victim-plan"

TENANT_IDS = id_corpus(VICTIM_TENANT, f"../users/{ADMIN}")
"""Ids of tenants ``t-<tag>``: ``DELETE /tenants/../users/admin-user`` is the admin's."""
USER_IDS = id_corpus(ADMIN, f"../tenants/{VICTIM_TENANT}")
"""Ids of users ``u-<tag>``: the fragment, query and ``%61dmin-user`` ones are the admin's."""
FLAGS_HOME = "hostile-flags"
FLAG_KEYS = id_corpus("sso", f"../../../users/{ADMIN}")
"""Keys of hand-made flags of tenant ``hostile-flags``, beside its managed ``sso``."""
ROLE_NAMES = id_corpus("operator-admin", f"../../../tenants/{VICTIM_TENANT}")
"""A second role of users ``r-<tag>``: ``%6Fperator-admin`` removes the admin role."""
PLAN_IDS = good(id_corpus(VICTIM_PLAN, "../x"))
"""Ids of plans ``p-<tag>`` that a path can carry. Plans are read one by one (their
tier defaults), so the others come in the last step, on their own."""
BAD_PLAN_IDS = bad(id_corpus(VICTIM_PLAN, f"../tenants/{VICTIM_TENANT}"))


def tenant(name: str, display: str = "T") -> dict[str, Any]:
    return {
        "name": name,
        "display_name": display,
        "plan_id": None,
        "parent_id": None,
        "status": "active",
        "configuration": {},
        "suspended_at": None,
    }


def user(address: str, roles: list[str], name: str = "U") -> dict[str, Any]:
    return {"email": address, "name": name, "enabled": True, "roles": roles, "tenant_id": None}


def seed(s: Seed) -> None:
    s.put(
        "plans",
        VICTIM_PLAN,
        {"name": VICTIM_PLAN, "display_name": "V", "description": None},
        key=VICTIM_PLAN,
    )
    s.put("tenants", VICTIM_TENANT, tenant(VICTIM_TENANT), key=VICTIM_TENANT)
    s.put(
        "flags",
        "victim-flag",
        {"key": "sso", "enabled": True, "tenant_id": VICTIM_TENANT},
        key="sso",
        scope=VICTIM_TENANT,
    )
    s.put(
        "users",
        ADMIN,
        user("admin@hostile.example", ["operator-admin"]),
        key="admin@hostile.example",
    )
    for tag, value in TENANT_IDS.items():
        s.put("tenants", value, tenant(f"t-{tag}"), key=f"t-{tag}")
    for tag, value in USER_IDS.items():
        s.put("users", value, user(email("u", tag), ["operator"]), key=email("u", tag))
    s.put("tenants", FLAGS_HOME, tenant(FLAGS_HOME), key=FLAGS_HOME)
    s.put(
        "flags",
        "home-sso",
        {"key": "sso", "enabled": True, "tenant_id": FLAGS_HOME},
        key="sso",
        scope=FLAGS_HOME,
    )
    for tag, value in FLAG_KEYS.items():
        s.put(
            "flags",
            f"flag-{tag}",
            {"key": value, "enabled": True, "tenant_id": FLAGS_HOME},
            key=value,
            scope=FLAGS_HOME,
        )
    for tag, value in ROLE_NAMES.items():
        s.put(
            "users", f"r-{tag}-id", user(email("r", tag), ["operator", value]), key=email("r", tag)
        )
    for tag, value in PLAN_IDS.items():
        s.put(
            "plans",
            value,
            {"name": f"p-{tag}", "display_name": "P", "description": None},
            key=f"p-{tag}",
        )


# ---- the specs, step by step ----------------------------------------------------------------


def base_docs() -> list[dict[str, Any]]:
    """What every step keeps managing: the victims, and ``hostile-flags`` with its ``sso``."""
    docs: list[dict[str, Any]] = [
        {"kind": "Plan", "name": VICTIM_PLAN, "displayName": "V"},
        {"kind": "Tenant", "name": VICTIM_TENANT, "displayName": "T", "features": {"sso": True}},
        {
            "kind": "Operator",
            "email": "admin@hostile.example",
            "name": "U",
            "role": "operator-admin",
        },
    ]
    docs.append(
        {"kind": "Tenant", "name": FLAGS_HOME, "displayName": "T", "features": {"sso": True}}
    )
    return docs


def adopted_docs(updated: bool) -> list[dict[str, Any]]:
    """The hand-made objects with hostile ids, taken over by specs (then changed)."""
    display, name, role = ("T2", "U2", "operator-admin") if updated else ("T", "U", "operator")
    docs: list[dict[str, Any]] = []
    for tag in TENANT_IDS:
        doc: dict[str, Any] = {"kind": "Tenant", "name": f"t-{tag}", "displayName": display}
        if tag in good(TENANT_IDS):
            doc["features"] = {"beta": not updated}
        docs.append(doc)
    docs += [
        {"kind": "Operator", "email": email("u", tag), "name": name, "role": role}
        for tag in USER_IDS
    ]
    docs += [
        {"kind": "Operator", "email": email("r", tag), "name": "U", "role": role}
        for tag in ROLE_NAMES
    ]
    for tag in PLAN_IDS:
        doc = {"kind": "Plan", "name": f"p-{tag}", "displayName": "P2" if updated else "P"}
        if updated:
            doc["tierDefaults"] = {"basic": 5, "#?%": 1}
        docs.append(doc)
    return docs


def new_docs(updated: bool) -> list[dict[str, Any]]:
    """Objects the specs create, under names that are hazards in any path."""
    docs: list[dict[str, Any]] = []
    for name in SPEC_NAMES.values():
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
            }
        )
        if name in FLAGGED:
            docs[-1]["features"] = {key: updated for key in SPEC_FLAG_KEYS}
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


def unsafe_objects(*, flags: bool) -> list[str]:
    found = [f"Tenant/t-{tag}" for tag in bad(TENANT_IDS)]
    found += [f"Operator/{email('u', tag)}" for tag in bad(USER_IDS)]
    found += [f"Operator/{email('r', tag)}" for tag in bad(ROLE_NAMES)]
    if flags:
        found += [f"FeatureFlag/{FLAGS_HOME}/{key}" for key in bad(FLAG_KEYS).values()]
    return found


def add_bad_plans(db_path: Path) -> None:
    s = Seed(db_path, "reference")
    try:
        for tag, value in BAD_PLAN_IDS.items():
            s.put(
                "plans",
                value,
                {"name": f"pb-{tag}", "display_name": "P", "description": None},
                key=f"pb-{tag}",
            )
    finally:
        s.close()


def steps() -> list[Step]:
    base = base_docs()
    kept = base + [{"kind": "Plan", "name": f"p-{tag}", "displayName": "P2"} for tag in PLAN_IDS]
    return [
        Step(
            "create",
            {
                "all.yaml": spec_files(*base, *adopted_docs(False), *new_docs(False)),
                "reconciler.yaml": prune(),
            },
        ),
        Step(
            "update",
            {
                "all.yaml": spec_files(*base, *adopted_docs(True), *new_docs(True)),
                "reconciler.yaml": prune(),
            },
            unsafe=unsafe_objects(flags=False),
        ),
        Step(
            "prune-suspend",
            {
                "all.yaml": spec_files(*kept),
                "reconciler.yaml": prune(Tenant="suspend", Operator="suspend"),
            },
            unsafe=unsafe_objects(flags=False),
        ),
        Step(
            "prune-delete",
            {
                "all.yaml": spec_files(*kept),
                "reconciler.yaml": prune(Tenant="delete", Operator="delete", FeatureFlag="delete"),
            },
            unsafe=unsafe_objects(flags=True),
        ),
        Step(
            "flags-under-tenants-no-path-can-carry",
            {
                "all.yaml": spec_files(
                    *kept,
                    *(
                        {
                            "kind": "Tenant",
                            "name": f"t-{tag}",
                            "displayName": "T",
                            "features": {"beta": True},
                        }
                        for tag in bad(TENANT_IDS)
                    ),
                ),
                "reconciler.yaml": prune(Tenant="delete", Operator="delete", FeatureFlag="delete"),
            },
            unsafe=[
                *(u for u in unsafe_objects(flags=True) if not u.startswith("Tenant/")),
                *(f"FeatureFlag/t-{tag}/beta" for tag in bad(TENANT_IDS)),
            ],
            group="parent",
        ),
        Step(
            "plan-ids-no-segment-can-carry",
            {
                "all.yaml": spec_files(
                    *kept,
                    *(
                        {"kind": "Plan", "name": f"pb-{tag}", "displayName": "P2"}
                        for tag in BAD_PLAN_IDS
                    ),
                ),
                "reconciler.yaml": prune(Tenant="delete", Operator="delete", FeatureFlag="delete"),
            },
            unsafe=[*unsafe_objects(flags=True), *(f"Plan/pb-{tag}" for tag in BAD_PLAN_IDS)],
            before=add_bad_plans,
            group="read",
        ),
    ]


# ---- reading the paths ----------------------------------------------------------------------


def _routes() -> tuple[Route, ...]:
    def one(kind: str, param: str) -> Any:
        return lambda p: (kind, p[param])

    return (
        Route("POST", f"{B}/plans", lambda p: ("plans",)),
        Route("PUT", f"{B}/plans/{{plan}}", one("plan", "plan")),
        Route("PUT", f"{B}/plans/{{plan}}/tier-defaults", one("tiers", "plan")),
        Route("POST", f"{B}/tenants", lambda p: ("tenants",)),
        Route("PATCH", f"{B}/tenants/{{t}}", one("tenant", "t")),
        Route("DELETE", f"{B}/tenants/{{t}}", one("tenant", "t")),
        Route("POST", f"{B}/tenants/{{t}}/suspend", one("tenant", "t")),
        Route("POST", f"{B}/tenants/{{t}}/resume", one("tenant", "t")),
        Route("POST", f"{B}/tenants/{{t}}/feature-flags", one("flags-of", "t")),
        Route("PUT", f"{B}/tenants/{{t}}/feature-flags/{{k}}", lambda p: ("flag", p["t"], p["k"])),
        Route(
            "DELETE", f"{B}/tenants/{{t}}/feature-flags/{{k}}", lambda p: ("flag", p["t"], p["k"])
        ),
        Route("POST", f"{B}/users", lambda p: ("users",)),
        Route("PUT", f"{B}/users/{{u}}", one("user", "u")),
        Route("DELETE", f"{B}/users/{{u}}", one("user", "u")),
        *(
            Route("POST", f"{B}/users/{{u}}/{action}", one("user", "u"))
            for action in ("enable", "disable", "roles", "tenant")
        ),
        Route("DELETE", f"{B}/users/{{u}}/roles/{{r}}", lambda p: ("role", p["u"], p["r"])),
    )


def _lookup(rid: str, before: Snapshot, after: Snapshot) -> tuple[str, list[Any]]:
    """The kind of ``rid`` and the stored rows it is (before or after the step)."""
    kind, key = split_rid(rid)
    snaps = (before, after)
    if kind in ("Plan", "TierDefaults"):
        return kind, [r for _, r in rows_where(snaps, "plans", name=key)]
    if kind == "Tenant":
        return kind, [r for _, r in rows_where(snaps, "tenants", name=key)]
    if kind == "Operator":
        return kind, [r for _, r in rows_where(snaps, "users") if r.data["email"].lower() == key]
    if kind == "FeatureFlag":
        found = []
        for name, flag in splits(key):
            for _, t in rows_where(snaps, "tenants", name=name):
                found.append((t, flag))
        return kind, found
    raise AssertionError(f"unexpected change {rid}")


def targets(rid: str, before: Snapshot, after: Snapshot) -> set[Target]:
    kind, found = _lookup(rid, before, after)
    out: set[Target] = set()
    for item in found:
        if kind == "Plan":
            out |= {("plans",), ("plan", item.id)}
        elif kind == "TierDefaults":
            out.add(("tiers", item.id))
        elif kind == "Tenant":
            out |= {("tenants",), ("tenant", item.id)}
        elif kind == "FeatureFlag":
            t, flag = item
            out |= {("flags-of", t.id), ("flag", t.id, flag)}
        else:
            roles = set(item.data.get("roles", []))
            out |= {("users",), ("user", item.id), *(("role", item.id, r) for r in roles)}
    if kind == "Operator":  # a create: the new user's id is in ``after``
        out.add(("users",))
    return out


def rows(rid: str, before: Snapshot, after: Snapshot) -> set[RowKey]:
    kind, found = _lookup(rid, before, after)
    out: set[RowKey] = set()
    for item in found:
        if kind == "Plan":
            out.add(("plans", item.id))
        elif kind == "TierDefaults":
            out.add(("tier_defaults", item.id))
        elif kind == "Tenant":
            out.add(("tenants", item.id))
            # a deleted tenant takes its flags along
            out |= {k for k in before if k[0] == "flags" and k[1] == item.id}
        elif kind == "FeatureFlag":
            t, flag = item
            out.add(("flags", t.id, flag))
        else:
            out.add(("users", item.id))
    return out


def identity(table: str, row: Any) -> RowKey:
    if table == "flags":
        return (table, row.scope, row.key)
    if table == "tier_defaults":
        return (table, row.key)
    return (table, row.id)


SCENARIO = Scenario(
    dialect="reference",
    seed=seed,
    steps=steps,
    routes=_routes(),
    targets=targets,
    rows=rows,
    identity=identity,
)

"""The hostile-identifier scenario of ``iaas-v1`` (judged in test_hostile_ids.py).

Where ``iaas-v1`` puts a value into a path: tenant ids (``DELETE
/tenants/{id}``), user ids (``PUT``/``DELETE /users/{id}``) and both at once in
a membership (``PUT``/``DELETE /tenants/{tid}/users/{uid}``). Users ``u-<tag>``
and tenants ``t-<tag>`` carry the corpus as ids; each user joins the tenant of
its tag, moves to ``new-tenant``, and both are pruned at the end. The victims: the
operator ``admin-user`` and ``victim-tenant`` with its member ``victim-user``.
Tenant names are DNS labels in this API, so the specs' hazards are in emails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.reliability.test_hostile_ids_harness import (
    SPEC_EMAILS,
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
    id_corpus,
    prune,
    rows_where,
    spec_files,
    split_rid,
)

B = "/api"
ADMIN = "admin-user"
VICTIM_TENANT = "victim-tenant"
KEY = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
NEW_KEY = "mF4vW0ZV7s9Qz3bq8yJp1xKc2TnLr6HdEoGuAiBjYkM="

TENANT_IDS = id_corpus(VICTIM_TENANT, f"../users/{ADMIN}")
"""``DELETE /tenants/../users/admin-user`` deletes the admin."""
USER_IDS = id_corpus(ADMIN, f"../tenants/{VICTIM_TENANT}")
"""``DELETE /users/../tenants/victim-tenant`` deletes the victim tenant."""


def user(address: str, role: str, tenant: str | None = None) -> dict[str, Any]:
    return {
        "email": address,
        "role": role,
        "ssh_key_id": None,
        "tenant_id": tenant,
        "pubkey": KEY if tenant else None,
    }


def seed(s: Seed) -> None:
    s.put("tenants", VICTIM_TENANT, {"name": VICTIM_TENANT}, key=VICTIM_TENANT)
    s.put("users", ADMIN, user("admin@hostile.example", "operator"), key="admin@hostile.example")
    s.put(
        "users",
        "victim-user",
        user("victim@hostile.example", "member", VICTIM_TENANT),
        key="victim@hostile.example",
    )
    for tag, value in TENANT_IDS.items():
        s.put("tenants", value, {"name": f"t-{tag}"}, key=f"t-{tag}")
    for tag, value in USER_IDS.items():
        s.put("users", value, user(email("u", tag), "member"), key=email("u", tag))


def base_docs() -> list[dict[str, Any]]:
    return [
        {"kind": "Tenant", "name": VICTIM_TENANT},
        {"kind": "Tenant", "name": "new-tenant"},
        {"kind": "Operator", "email": "admin@hostile.example", "role": "operator"},
        {
            "kind": "Operator",
            "email": "victim@hostile.example",
            "role": "member",
            "tenant": VICTIM_TENANT,
            "wireguardPubkey": KEY,
        },
    ]


def new_docs(tenant: str | None) -> list[dict[str, Any]]:
    """Operators the specs create, their emails hazards wherever an email goes."""
    docs: list[dict[str, Any]] = []
    for address in SPEC_EMAILS:
        doc: dict[str, Any] = {"kind": "Operator", "email": address, "role": "member"}
        if tenant:
            doc |= {"tenant": tenant, "wireguardPubkey": KEY}
        docs.append(doc)
    return docs


def adopted_docs(stage: str) -> list[dict[str, Any]]:
    """``create``: as they are; ``join``: operator role, in the tenant of their tag;
    ``move``: into ``new-tenant`` with a new key."""
    docs: list[dict[str, Any]] = [{"kind": "Tenant", "name": f"t-{t}"} for t in TENANT_IDS]
    for tag in USER_IDS:
        doc: dict[str, Any] = {"kind": "Operator", "email": email("u", tag), "role": "member"}
        if stage == "join":
            doc |= {"role": "operator", "tenant": f"t-{tag}", "wireguardPubkey": KEY}
        elif stage == "move":
            doc |= {"role": "operator", "tenant": "new-tenant", "wireguardPubkey": NEW_KEY}
        docs.append(doc)
    return docs


def unsafe_objects(*, tenants: bool) -> list[str]:
    found = [f"Operator/{email('u', tag)}" for tag in bad(USER_IDS)]
    if tenants:
        found += [f"Tenant/t-{tag}" for tag in bad(TENANT_IDS)]
    return found


def steps() -> list[Step]:
    return [
        Step(
            "create",
            {
                "all.yaml": spec_files(*base_docs(), *adopted_docs("create"), *new_docs(None)),
                "reconciler.yaml": prune(),
            },
        ),
        Step(
            "update-join",
            {
                "all.yaml": spec_files(
                    *base_docs(), *adopted_docs("join"), *new_docs("new-tenant")
                ),
                "reconciler.yaml": prune(),
            },
            unsafe=unsafe_objects(tenants=False),
        ),
        Step(
            "update-move",
            {
                "all.yaml": spec_files(
                    *base_docs(), *adopted_docs("move"), *new_docs(VICTIM_TENANT)
                ),
                "reconciler.yaml": prune(),
            },
            unsafe=unsafe_objects(tenants=False),
        ),
        Step(
            "prune-delete",
            {
                "all.yaml": spec_files(*base_docs()),
                "reconciler.yaml": prune(Tenant="delete", Operator="delete"),
            },
            unsafe=unsafe_objects(tenants=True),
        ),
        Step(
            "join-tenants-no-path-can-carry",
            {
                "all.yaml": spec_files(
                    *base_docs(),
                    *({"kind": "Tenant", "name": f"t-{tag}"} for tag in bad(TENANT_IDS)),
                    *(
                        {
                            "kind": "Operator",
                            "email": email("j", tag),
                            "role": "member",
                            "tenant": f"t-{tag}",
                            "wireguardPubkey": KEY,
                        }
                        for tag in bad(TENANT_IDS)
                    ),
                ),
                "reconciler.yaml": prune(Tenant="delete", Operator="delete"),
            },
            unsafe=[
                *unsafe_objects(tenants=False),
                *(f"Operator/{email('j', tag)}" for tag in bad(TENANT_IDS)),
            ],
            before=add_joiners,
            group="parent",
        ),
    ]


def add_joiners(db_path: Path) -> None:
    """Users ``j-<tag>`` (plain ids) that the specs put in the tenants no path can carry."""
    s = Seed(db_path, "iaas-v1")
    try:
        for tag in bad(TENANT_IDS):
            s.put("users", f"j-{tag}-id", user(email("j", tag), "member"), key=email("j", tag))
    finally:
        s.close()


def _routes() -> tuple[Route, ...]:
    return (
        Route("POST", f"{B}/users", lambda p: ("users",)),
        Route("PUT", f"{B}/users/{{u}}", lambda p: ("user", p["u"])),
        Route("DELETE", f"{B}/users/{{u}}", lambda p: ("user", p["u"])),
        Route("POST", f"{B}/tenants", lambda p: ("tenants",)),
        Route("DELETE", f"{B}/tenants/{{t}}", lambda p: ("tenant", p["t"])),
        Route("PUT", f"{B}/tenants/{{t}}/users/{{u}}", lambda p: ("member", p["t"], p["u"])),
        Route("DELETE", f"{B}/tenants/{{t}}/users/{{u}}", lambda p: ("member", p["t"], p["u"])),
    )


def _found(rid: str, before: Snapshot, after: Snapshot) -> tuple[str, list[Row]]:
    kind, key = split_rid(rid)
    snaps = (before, after)
    if kind == "Tenant":
        return kind, [r for _, r in rows_where(snaps, "tenants", name=key)]
    return kind, [r for _, r in rows_where(snaps, "users") if r.data["email"].lower() == key]


def targets(rid: str, before: Snapshot, after: Snapshot) -> set[Target]:
    kind, found = _found(rid, before, after)
    if kind == "Tenant":
        return {("tenants",), *(("tenant", r.id) for r in found)}
    out: set[Target] = {("users",)}
    for r in found:
        out.add(("user", r.id))
        # the tenant it leaves and the one it joins (its row before and after)
        out |= {("member", t, r.id) for t in (r.data.get("tenant_id"),) if t is not None}
    return out


def rows(rid: str, before: Snapshot, after: Snapshot) -> set[RowKey]:
    kind, found = _found(rid, before, after)
    if kind == "Operator":
        return {("users", r.id) for r in found}
    out: set[RowKey] = set()
    for r in found:
        out.add(("tenants", r.id))
        # a tenant's create lists its members; its delete lets them go
        out |= {k for k, u in rows_where((before, after), "users", tenant_id=r.id)}
    return out


SCENARIO = Scenario(
    dialect="iaas-v1",
    seed=seed,
    steps=steps,
    routes=_routes(),
    targets=targets,
    rows=rows,
    url_path=B,
    without={"read": "every object is read from a listing; no id goes into a read's path"},
)

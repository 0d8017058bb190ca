"""What the ``platform-admin`` sandbox stores, and how document ``003`` shows it.

Tenants (by company name), platform users (by email), per-tenant flag values over
a catalog of flags, an audit log of what admins did (flag changes and
suspensions with their ``reason``), and settings (the flag catalog, quirks).
The routes live in :mod:`platform_admin`; this module owns the shapes, so the
list, the detail and the seed agree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from reconciler.options.platform_admin import PlatformAdminOptions
from reconciler.sandbox.common import ErrorAnswer
from reconciler.sandbox.store import Conflict, Obj, Store, now

TENANTS, USERS, FLAGS, AUDIT, SETTINGS = "tenants", "users", "flags", "audit", "settings"
PLANS = {"free": "Free", "pro": "Pro", "enterprise": "Enterprise"}
"""The plan slugs the document names (``free, pro, enterprise``) and their names."""
STATUSES = ("active", "trial", "churned")
DEFAULT_FLAGS = ("advanced_analytics", "api_access", "white_label")
"""The flags of the document's example: the catalog when the seed names none."""
SEED_KEYS = frozenset({"tenants", "users", "flags", "quirks", "options"})
QUIRKS = frozenset({"max_page", "extra_fields"})


def put_at(body: dict[str, Any], key: str, value: Any) -> None:
    """``value`` at dotted ``key`` in ``body`` (objects made on the way)."""
    *parents, last = key.split(".")
    for part in parents:
        if not isinstance(body.get(part), dict):
            body[part] = {}
        body = body[part]
    body[last] = value


def later(days: float) -> str:
    """``now`` plus ``days``, in the store's timestamp format."""
    when = datetime.now(UTC) + timedelta(days=days)
    return when.isoformat(timespec="microseconds").replace("+00:00", "Z")


class Platform:
    """Reads and writes of the sandbox's state, in the document's shapes."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # ---- settings ------------------------------------------------------------

    def options(self) -> PlatformAdminOptions:
        """The options this sandbox was seeded with (``options:``), else the defaults."""
        found = self.store.find(SETTINGS, "options")
        return PlatformAdminOptions.model_validate(found["options"] if found else {})

    def error(self, status: int, code: str, message: str) -> dict[str, Any]:
        """``{"success": false, "error": {"code", "message"}}``, or the words at the key
        the options' ``errors.message`` names."""
        key = self.options().errors.message or "error.message"
        body: dict[str, Any] = {"success": False, "error": {"code": code}}
        put_at(body, key, message)
        return body

    def quirk(self, name: str) -> Any:
        quirks = self.store.find(SETTINGS, "quirks")
        return quirks.get(name) if quirks else None

    def extra(self) -> dict[str, Any]:
        """Fields a real server adds that the document does not list (quirk)."""
        return {"region": "eu-west-1", "internal_ref": 7} if self.quirk("extra_fields") else {}

    def page_cap(self, limit: int) -> int:
        cap = self.quirk("max_page")
        return min(limit, int(cap)) if cap else limit

    def catalog(self) -> list[str]:
        found = self.store.find(SETTINGS, "catalog")
        return list(found["flags"]) if found else list(DEFAULT_FLAGS)

    # ---- objects -------------------------------------------------------------

    def all(self, collection: str) -> list[Obj]:
        rows, _ = self.store.page(collection, 10_000_000, 0)
        return [json.loads(r) for r in rows]

    def get(self, collection: str, id_: str, what: str) -> Obj:
        found = self.store.get(collection, id_)
        if found is None:
            raise ErrorAnswer(404, "not_found", f"{what} {id_} not found")
        return found

    def add_tenant(self, name: str, owner: str, plan: str, status: str, mrr: float = 0.0) -> Obj:
        fields = {
            "company_name": name,
            "owner_email": owner,
            "plan": plan,
            "status": status,
            "mrr": mrr,
            "plan_override": None,
            "billing_override": None,
        }
        try:
            return self.store.insert(TENANTS, fields, key=name)
        except Conflict:
            raise ErrorAnswer(409, "conflict", f"a tenant named '{name}' exists already") from None

    def user_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for user in self.all(USERS):
            if user.get("tenant_id"):
                counts[user["tenant_id"]] = counts.get(user["tenant_id"], 0) + 1
        return counts

    def flags_of(self, tenant_id: str) -> list[dict[str, Any]]:
        """Every catalog flag of a tenant: never-set ones are off with no ``updated_at``."""
        set_ = {f["key"]: f for f in (json.loads(r) for r in self.store.in_scope(FLAGS, tenant_id))}
        shown = []
        for name in self.catalog():
            row = set_.get(name)
            shown.append(
                {
                    "flag_name": name,
                    "enabled": bool(row["enabled"]) if row else False,
                    "updated_at": row["updated_at"] if row else None,
                }
                | self.extra()
            )
        return shown

    def audit(self, **entry: Any) -> None:
        """One line of what an admin did, with the reason they gave."""
        scope = str(entry.get("user_id") or entry.get("tenant_id") or "")
        self.store.insert(AUDIT, {**entry, "timestamp": now()}, scope=scope)

    # ---- shapes --------------------------------------------------------------

    def listed_tenant(self, t: Obj, users: int) -> dict[str, Any]:
        return {
            "id": t["id"],
            "company_name": t["company_name"],
            "owner_email": t["owner_email"],
            "plan": {"name": PLANS.get(t["plan"], t["plan"]), "slug": t["plan"]},
            "mrr": t.get("mrr", 0.0),
            "workspaces": 1,
            "users": users,
            "status": t["status"],
            "created_at": t["created_at"],
        } | self.extra()

    def tenant_detail(self, t: Obj, users: int) -> dict[str, Any]:
        """The tenant's own page; the applied override where ``overrideKey`` says."""
        shown = {
            "id": t["id"],
            "company_name": t["company_name"],
            "owner_email": t["owner_email"],
            "plan": t["plan"],
            "status": t["status"],
            "subscription": {
                "id": "sub_" + t["id"][:8],
                "status": "trialing" if t["status"] == "trial" else t["status"],
                "current_period_end": t.get("expires_at"),
            },
            "usage": {"users": users, "domains": 0, "emails_this_month": 0},
            "billing_override": t.get("billing_override"),
            "created_at": t["created_at"],
        } | self.extra()
        put_at(shown, self.options().override_key, t.get("plan_override"))
        return shown

    def shown_user(self, u: Obj) -> dict[str, Any]:
        shown = {
            k: u.get(k)
            for k in ("id", "email", "name", "role", "tenant_id", "status", "created_at")
        }
        if u.get("suspended_at"):
            shown["suspended_at"] = u["suspended_at"]
        return shown | self.extra()


def seed(store: Store, data: Mapping[str, Any]) -> None:
    """Put in what the API cannot create: tenants that signed up, users, the flag catalog.

    ``{tenants: [{company_name, owner_email, plan, status, mrr}], users: [{email, name,
    role, tenant, status}], flags: [name, ...], quirks: {max_page, extra_fields},
    options: {...}}``; a user's ``tenant`` is a seeded tenant's company name.
    ``options`` (the target options of docs/apis/platform-admin.md, camelCase)
    make the sandbox answer as a target configured with them expects; a bad one
    is a ValueError before the server starts.
    """
    unknown = set(data) - SEED_KEYS
    if unknown:
        raise ValueError(f"unknown platform-admin seed keys: {', '.join(sorted(unknown))}")
    if data.get("options") is not None:
        options = PlatformAdminOptions.model_validate(dict(data["options"]))
        store.insert(SETTINGS, {"options": options.as_data()}, key="options")
    platform = Platform(store)
    names: dict[str, str] = {}
    for t in data.get("tenants") or []:
        plan, status = t.get("plan", "free"), t.get("status", "active")
        if plan not in PLANS or status not in STATUSES:
            raise ValueError(f"seed: tenant {t.get('company_name')}: bad plan or status")
        try:
            made = platform.add_tenant(
                t["company_name"], t["owner_email"], plan, status, float(t.get("mrr", 0.0))
            )
        except ErrorAnswer as exc:
            raise ValueError(f"seed: {exc.message}") from None
        names[t["company_name"]] = made["id"]
    for u in data.get("users") or []:
        tenant = u.get("tenant")
        if tenant is not None and tenant not in names:
            raise ValueError(f"seed: user {u['email']}: no seeded tenant named '{tenant}'")
        status = u.get("status", "active")
        if status not in ("active", "suspended"):
            raise ValueError(f"seed: user {u['email']}: status is active or suspended")
        fields = {
            "email": u["email"],
            "name": u.get("name", u["email"].split("@")[0]),
            "role": u.get("role", "member"),
            "tenant_id": names.get(tenant) if tenant else None,
            "status": status,
            "suspended_at": now() if status == "suspended" else None,
        }
        try:
            store.insert(USERS, fields, key=u["email"].lower())
        except Conflict:
            raise ValueError(f"seed: user {u['email']} is listed twice") from None
    if data.get("flags") is not None:
        store.insert(SETTINGS, {"flags": [str(f) for f in data["flags"]]}, key="catalog")
    quirks = dict(data.get("quirks") or {})
    if set(quirks) - QUIRKS:
        raise ValueError(f"unknown quirks: {', '.join(sorted(set(quirks) - QUIRKS))}")
    if quirks:
        store.insert(SETTINGS, quirks, key="quirks")

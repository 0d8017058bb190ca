"""The ``platform-admin`` dialect: tenants with plan overrides, users, bulk feature flags.

After document ``003``, under ``/api/v1/platform/admin``, every answer in the
``{"success": true, "data": ...}`` envelope: tenants (list with ``limit`` ≤ 100
and ``offset``, get, ``PATCH`` overrides, ``POST /tenants/test`` to create),
users (list, get, ``POST …/suspend {reason}``, ``DELETE ?confirmation=<email>``)
and per-tenant feature flags (list, one bulk ``PATCH {flags, reason}``).
Choices where the document is silent: docs/apis/platform-admin.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.responses import Response

from reconciler.sandbox.common import ApiError, bearer_auth, install_error_handlers, json_response
from reconciler.sandbox.dialect import Dialect
from reconciler.sandbox.store import Collection, Conflict, Obj, Store, now

PREFIX = "/api/v1/platform/admin"
TENANTS, USERS, FLAGS, SETTINGS = "tenants", "users", "flags", "settings"
MAX_LIMIT = 100
PLANS = {"free": "Free", "pro": "Pro", "enterprise": "Enterprise"}


def _error(status: int, code: str, message: str) -> dict[str, Any]:
    return {"success": False, "error": {"code": code, "message": message}}


def ok(data: Any, status: int = 200) -> Response:
    return json_response({"success": True, "data": data}, status)


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, "validation_error", "request body must be JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "validation_error", "request body must be a JSON object")
    return body


class Platform:
    def __init__(self, store: Store) -> None:
        self.store = store

    def all(self, collection: str) -> list[Obj]:
        rows, _ = self.store.page(collection, 10_000_000, 0)
        return [json.loads(r) for r in rows]

    def get(self, collection: str, id_: str, what: str) -> Obj:
        found = self.store.get(collection, id_)
        if found is None:
            raise ApiError(404, "not_found", f"{what} {id_} not found")
        return found

    def extra(self) -> bool:
        quirks = self.store.find(SETTINGS, "quirks")
        return bool(quirks and quirks.get("extra_fields"))


def router(store: Store, token: str) -> APIRouter:
    api = Platform(store)
    r = APIRouter(prefix=PREFIX, dependencies=[Depends(bearer_auth(token))])

    def listed(t: Obj) -> dict[str, Any]:
        shown = {
            "id": t["id"],
            "company_name": t["company_name"],
            "owner_email": t["owner_email"],
            "plan": {"name": PLANS.get(t["plan"], t["plan"]), "slug": t["plan"]},
            "mrr": 0.0,
            "workspaces": 1,
            "users": 0,
            "status": t["status"],
            "created_at": t["created_at"],
        }
        return shown | ({"region": "eu"} if api.extra() else {})

    @r.get("/tenants", tags=["tenants"])
    async def list_tenants(request: Request) -> Response:
        q = request.query_params
        try:
            limit = int(q.get("limit", 50))
            offset = int(q.get("offset", 0))
        except ValueError:
            raise ApiError(400, "validation_error", "limit and offset are integers") from None
        if limit < 1 or offset < 0:
            raise ApiError(400, "validation_error", "limit must be >= 1 and offset >= 0")
        limit = min(limit, MAX_LIMIT)
        tenants = api.all(TENANTS)
        page = [listed(t) for t in tenants[offset : offset + limit]]
        return ok(
            {
                "tenants": page,
                "pagination": {"total": len(tenants), "limit": limit, "offset": offset},
            }
        )

    @r.get("/tenants/{tenant_id}", tags=["tenants"])
    async def get_tenant(tenant_id: str) -> Response:
        t = api.get(TENANTS, tenant_id, "tenant")
        tenant = {
            "id": t["id"],
            "company_name": t["company_name"],
            "owner_email": t["owner_email"],
            "plan": t["plan"],
            "status": t["status"],
            "plan_override": t.get("plan_override"),
            "created_at": t["created_at"],
        }
        return ok({"tenant": tenant})

    @r.post("/tenants/test", status_code=201, tags=["tenants"])
    async def create_test_tenant(request: Request) -> Response:
        body = await _body(request)
        name, owner = body.get("company_name"), body.get("owner_email")
        if not isinstance(name, str) or not name or not isinstance(owner, str) or "@" not in owner:
            raise ApiError(400, "validation_error", "company_name and owner_email are required")
        plan = body.get("plan", "free")
        if plan not in PLANS:
            raise ApiError(400, "validation_error", f"plan must be one of {', '.join(PLANS)}")
        fields = {"company_name": name, "owner_email": owner, "plan": plan, "status": "trial"}
        try:
            tenant = store.insert(TENANTS, fields, key=name)
        except Conflict:
            raise ApiError(409, "conflict", f"a tenant named {name} exists") from None
        data = {
            "tenant_id": tenant["id"],
            "login_url": f"https://app.example.invalid/login?tenant={tenant['id']}",
            "expires_at": None,
        }
        return ok(data, 201)

    @r.patch("/tenants/{tenant_id}", tags=["tenants"])
    async def update_tenant(tenant_id: str, request: Request) -> Response:
        tenant = api.get(TENANTS, tenant_id, "tenant")
        body = await _body(request)
        changes: dict[str, Any] = {
            k: body[k] for k in ("plan_override", "billing_override") if k in body
        }
        if not changes:
            raise ApiError(400, "validation_error", "plan_override or billing_override required")
        store.update(TENANTS, {**tenant, **changes})
        return ok({"tenant_id": tenant_id, "overrides_applied": True, "effective_date": now()})

    @r.get("/tenants/{tenant_id}/feature-flags", tags=["feature flags"])
    async def list_flags(tenant_id: str) -> Response:
        tenant = api.get(TENANTS, tenant_id, "tenant")
        flags = [
            {"flag_name": f["key"], "enabled": f["enabled"], "updated_at": f["updated_at"]}
            for f in (json.loads(row) for row in store.in_scope(FLAGS, tenant["id"]))
        ]
        return ok({"flags": flags})

    @r.patch("/tenants/{tenant_id}/feature-flags", tags=["feature flags"])
    async def update_flags(tenant_id: str, request: Request) -> Response:
        tenant = api.get(TENANTS, tenant_id, "tenant")
        body = await _body(request)
        flags, reason = body.get("flags"), body.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ApiError(400, "validation_error", "reason is required")
        if not isinstance(flags, list) or not flags:
            raise ApiError(400, "validation_error", "flags must be a non-empty list")
        with store.transaction():
            for flag in flags:
                name, enabled = flag.get("flag_name"), flag.get("enabled")
                if not isinstance(name, str) or not isinstance(enabled, bool):
                    raise ApiError(400, "validation_error", "each flag needs flag_name and enabled")
                existing = store.find(FLAGS, name, scope=tenant["id"])
                if existing is None:
                    store.insert(
                        FLAGS, {"key": name, "enabled": enabled}, key=name, scope=tenant["id"]
                    )
                else:
                    store.update(FLAGS, {**existing, "enabled": enabled})
            store.insert(SETTINGS, {"tenant_id": tenant["id"], "reason": reason}, scope="reasons")
        return ok({"tenant_id": tenant_id, "flags_updated": len(flags), "updated_at": now()})

    @r.get("/users", tags=["users"])
    async def list_users() -> Response:
        return ok(api.all(USERS))

    @r.get("/users/{user_id}", tags=["users"])
    async def get_user(user_id: str) -> Response:
        return ok(api.get(USERS, user_id, "user"))

    @r.post("/users/{user_id}/suspend", tags=["users"])
    async def suspend_user(user_id: str, request: Request) -> Response:
        user = api.get(USERS, user_id, "user")
        reason = (await _body(request)).get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ApiError(400, "validation_error", "reason is required")
        stamp = now()
        store.update(USERS, {**user, "status": "suspended", "suspended_at": stamp})
        return ok({"user_id": user_id, "status": "suspended", "suspended_at": stamp})

    @r.delete("/users/{user_id}", tags=["users"])
    async def delete_user(user_id: str, request: Request) -> Response:
        user = api.get(USERS, user_id, "user")
        if request.query_params.get("confirmation") != user["email"]:
            raise ApiError(
                400, "confirmation_required", "confirmation must be the user's email address"
            )
        store.delete(USERS, user["id"])
        return ok({"user_id": user_id, "deleted_at": now(), "data_removed": True})

    return r


def install(app: FastAPI, store: Store, token: str) -> None:
    install_error_handlers(app, _error)
    app.include_router(router(store, token))


def seed(store: Store, data: Mapping[str, Any]) -> None:
    """``{users: [{email, name, role, tenant}], quirks: {extra_fields: true}}``: the API
    cannot create users; ``tenant`` names a company created by the data file's ``tenants``."""
    names: dict[str, str] = {}
    for t in data.get("tenants", []):
        fields = {
            "company_name": t["company_name"],
            "owner_email": t["owner_email"],
            "plan": t.get("plan", "free"),
            "status": t.get("status", "active"),
        }
        names[t["company_name"]] = store.insert(TENANTS, fields, key=t["company_name"])["id"]
    for u in data.get("users", []):
        fields = {
            "email": u["email"],
            "name": u.get("name", u["email"]),
            "role": u.get("role", "member"),
            "tenant_id": names.get(u.get("tenant", "")),
            "status": "active",
        }
        store.insert(USERS, fields, key=u["email"].lower())
    if data.get("quirks"):
        store.insert(SETTINGS, dict(data["quirks"]), key="quirks")


DIALECT = Dialect(
    name="platform-admin",
    title="Platform admin API (tenants, plan overrides, users, bulk flags)",
    collections=(Collection(TENANTS), Collection(USERS), Collection(FLAGS), Collection(SETTINGS)),
    install=install,
    seed=seed,
)

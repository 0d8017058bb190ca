"""The ``platform-admin`` dialect: tenants with plan overrides, users, bulk feature flags.

After document ``003``, under ``/api/v1/platform/admin``, every answer in the
``{"success": true, "data": ...}`` envelope and every error in
``{"success": false, "error": {"code", "message"}}``: tenants (list with
``limit`` ≤ 100 and ``offset``, get, ``PATCH`` overrides, ``POST /tenants/test``
as the only create), users (list with filters, get, audit trail, ``POST …/suspend
{reason}``, ``POST …/reset-password``, ``DELETE ?confirmation=<email>``) and
per-tenant feature flags (list, one bulk ``PATCH {flags, reason}``).
Choices where the document is silent: docs/apis/platform-admin.md; each is an
option the sandbox takes as a target does (``options:`` in its seed): users
and flags paged otherwise, errors' words at another key, the applied override
shown at another key of the tenant's page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.responses import Response

from reconciler.options.common import Listing
from reconciler.options.platform_admin import FlagsListing, UsersListing
from reconciler.sandbox import listing as served
from reconciler.sandbox.common import (
    ErrorAnswer,
    api_router,
    bearer_auth,
    install_error_handlers,
    json_response,
    raw_json_response,
)
from reconciler.sandbox.dialect import Dialect
from reconciler.sandbox.dialects.platform_admin_state import (
    AUDIT,
    FLAGS,
    PLANS,
    SETTINGS,
    TENANTS,
    USERS,
    Platform,
    later,
    seed,
)
from reconciler.sandbox.store import Collection, Store, dumps, now

PREFIX = "/api/v1/platform/admin"
DEFAULT_LIMIT, MAX_LIMIT = 50, 100
"""The document's paging: ``limit`` defaults to 50, at most 100 (more is served as 100)."""
CLEANUP_DAYS = 30


def ok(data: Any, status: int = 200) -> Response:
    return json_response({"success": True, "data": data}, status)


def bad(message: str, code: str = "validation_error") -> ErrorAnswer:
    return ErrorAnswer(400, code, message)


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise bad("request body must be JSON") from None
    if not isinstance(body, dict):
        raise bad("request body must be a JSON object")
    return body


def _int(query: Any, name: str, default: int, least: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad(f"{name} must be an integer") from None
    if value < least:
        raise bad(f"{name} must be at least {least}")
    return value


def _window(api: Platform, query: Any) -> tuple[int, int]:
    """``limit`` (clamped to 100, and to the ``max_page`` quirk) and ``offset``."""
    limit = min(_int(query, "limit", DEFAULT_LIMIT, 1), MAX_LIMIT)
    return api.page_cap(limit), _int(query, "offset", 0, 0)


def _listed(api: Platform, listing: Listing, rows: list[Any], request: Request) -> Response:
    """A listing the options page otherwise than the default: as ``listing`` says,
    ``limit`` 50 when not asked, at most 100 (and the ``max_page`` quirk) when it pages."""
    cap = api.page_cap(MAX_LIMIT) if listing.paging != "none" else max(len(rows), 1)
    window = served.asked(request.query_params, listing, max_page=cap, default_limit=DEFAULT_LIMIT)
    chunk = [dumps(row) for row in rows[window.offset : window.offset + window.limit]]
    text = served.answer(
        listing, window, chunk, len(rows), path=request.url.path, extra={"success": True}
    )
    return raw_json_response(text)


def _number(query: Any, name: str) -> float | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        raise bad(f"{name} must be a number") from None


def tenant_routes(r: APIRouter, api: Platform, store: Store) -> None:
    @r.get("/tenants", tags=["tenants"])
    async def list_tenants(request: Request) -> Response:
        q = request.query_params
        limit, offset = _window(api, q)
        search, plan, status = (q.get("search") or "").lower(), q.get("plan"), q.get("status")
        low, high = _number(q, "mrr_min"), _number(q, "mrr_max")
        chosen = [
            t
            for t in api.all(TENANTS)
            if (
                not search
                or search in t["company_name"].lower()
                or search in t["owner_email"].lower()
            )
            and (plan is None or t["plan"] == plan)
            and (status is None or t["status"] == status)
            and (low is None or t.get("mrr", 0.0) >= low)
            and (high is None or t.get("mrr", 0.0) <= high)
        ]
        users = api.user_counts()
        page = [api.listed_tenant(t, users.get(t["id"], 0)) for t in chosen[offset:][:limit]]
        paging = {"total": len(chosen), "limit": limit, "offset": offset}
        return ok({"tenants": page, "pagination": paging})

    @r.get("/tenants/{tenant_id}", tags=["tenants"])
    async def get_tenant(tenant_id: str) -> Response:
        t = api.get(TENANTS, tenant_id, "tenant")
        return ok({"tenant": api.tenant_detail(t, api.user_counts().get(t["id"], 0))})

    @r.post("/tenants/test", status_code=201, tags=["tenants"])
    async def create_test_tenant(request: Request) -> Response:
        body = await _body(request)
        name, owner = body.get("company_name"), body.get("owner_email")
        if not isinstance(name, str) or not name.strip():
            raise bad("company_name is required")
        if not isinstance(owner, str) or "@" not in owner:
            raise bad("owner_email must be an email address")
        plan = body.get("plan", "free")
        if plan not in PLANS:
            raise bad(f"plan must be one of {', '.join(PLANS)}")
        days = body.get("auto_cleanup_days", CLEANUP_DAYS)
        if not isinstance(days, int) or isinstance(days, bool) or days < 1:
            raise bad("auto_cleanup_days must be a whole number of days, at least 1")
        tenant = api.add_tenant(name, owner, plan, "trial")
        tenant = store.update(TENANTS, {**tenant, "expires_at": later(days)})
        data = {
            "tenant_id": tenant["id"],
            "login_url": f"https://app.example.invalid/login?tenant={tenant['id']}",
            "expires_at": tenant["expires_at"],
        }
        return ok(data, 201)

    @r.patch("/tenants/{tenant_id}", tags=["tenants"])
    async def update_tenant(tenant_id: str, request: Request) -> Response:
        tenant = api.get(TENANTS, tenant_id, "tenant")
        body = await _body(request)
        given: dict[str, Any] = {
            k: body[k] for k in ("plan_override", "billing_override") if k in body
        }
        if not given:
            raise bad("plan_override or billing_override is required")
        for name, value in given.items():
            if value is not None and not isinstance(value, dict):
                raise bad(f"{name} must be an object (or null to remove it)")
        store.update(TENANTS, {**tenant, **given})  # each override replaced as a whole
        return ok({"tenant_id": tenant_id, "overrides_applied": True, "effective_date": now()})


def flag_routes(r: APIRouter, api: Platform, store: Store) -> None:
    @r.get("/tenants/{tenant_id}/feature-flags", tags=["feature flags"])
    async def list_flags(tenant_id: str, request: Request) -> Response:
        tenant = api.get(TENANTS, tenant_id, "tenant")
        listing = api.options().lists.flags
        if listing == FlagsListing():  # as the document shows it: every flag at once
            return ok({"flags": api.flags_of(tenant["id"])})
        return _listed(api, listing, api.flags_of(tenant["id"]), request)

    @r.patch("/tenants/{tenant_id}/feature-flags", tags=["feature flags"])
    async def update_flags(tenant_id: str, request: Request) -> Response:
        tenant = api.get(TENANTS, tenant_id, "tenant")
        body = await _body(request)
        flags, reason = body.get("flags"), body.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise bad("reason is required: say why the flags change")
        if not isinstance(flags, list) or not flags:
            raise bad("flags must be a non-empty list of {flag_name, enabled}")
        wanted: dict[str, bool] = {}
        for flag in flags:
            name = flag.get("flag_name") if isinstance(flag, dict) else None
            enabled = flag.get("enabled") if isinstance(flag, dict) else None
            if not isinstance(name, str) or not isinstance(enabled, bool):
                raise bad("each flag needs a flag_name (string) and enabled (true or false)")
            if name in wanted:
                raise bad(f"flag '{name}' is listed twice")
            wanted[name] = enabled
        unknown = sorted(set(wanted) - set(api.catalog()))
        if unknown:
            raise bad(f"unknown feature flag(s): {', '.join(unknown)}", "unknown_flag")
        with store.transaction():  # all of them or none
            for name, enabled in wanted.items():
                row = store.find(FLAGS, name, scope=tenant["id"])
                if row is None:
                    store.insert(
                        FLAGS, {"key": name, "enabled": enabled}, key=name, scope=tenant_id
                    )
                else:
                    store.update(FLAGS, {**row, "enabled": enabled})
            api.audit(tenant_id=tenant_id, action="flags_updated", flags=wanted, reason=reason)
        return ok({"tenant_id": tenant_id, "flags_updated": len(wanted), "updated_at": now()})


def user_routes(r: APIRouter, api: Platform, store: Store) -> None:
    @r.get("/users", tags=["users"])
    async def list_users(request: Request) -> Response:
        q = request.query_params
        search, role, tenant = (q.get("search") or "").lower(), q.get("role"), q.get("tenant_id")
        chosen = [
            api.shown_user(u)
            for u in api.all(USERS)
            if (not search or search in u["email"].lower() or search in u["name"].lower())
            and (role is None or u["role"] == role)
            and (tenant is None or u["tenant_id"] == tenant)
        ]
        listing = api.options().lists.users
        if listing != UsersListing():
            return _listed(api, listing, chosen, request)
        paged = api.quirk("max_page") or "limit" in q or "offset" in q
        if not paged:  # the document's answer: every user, no pagination
            return ok(chosen)
        limit, offset = _window(api, q)
        paging = {"total": len(chosen), "limit": limit, "offset": offset}
        return json_response(
            {"success": True, "data": chosen[offset:][:limit], "pagination": paging}
        )

    @r.get("/users/{user_id}", tags=["users"])
    async def get_user(user_id: str) -> Response:
        return ok(api.shown_user(api.get(USERS, user_id, "user")))

    @r.get("/users/{user_id}/audit-trail", tags=["users"])
    async def audit_trail(user_id: str, request: Request) -> Response:
        api.get(USERS, user_id, "user")
        q = request.query_params
        limit, offset = _window(api, q)
        action, start, end = q.get("action_type"), q.get("start_time"), q.get("end_time")
        entries = [
            {"id": e["id"], "action": e["action"], "timestamp": e["timestamp"]}
            | ({"reason": e["reason"]} if e.get("reason") else {})
            for e in api.all(AUDIT)
            if e.get("user_id") == user_id
            and (action is None or e["action"] == action)
            and (start is None or e["timestamp"] >= start)
            and (end is None or e["timestamp"] <= end)
        ]
        paging = {"total": len(entries), "limit": limit, "offset": offset}
        return json_response(
            {"success": True, "data": entries[offset:][:limit], "pagination": paging}
        )

    @r.post("/users/{user_id}/suspend", tags=["users"])
    async def suspend_user(user_id: str, request: Request) -> Response:
        user = api.get(USERS, user_id, "user")
        reason = (await _body(request)).get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise bad("reason is required: say why the account is suspended")
        if user["status"] != "suspended":  # suspending twice keeps the first time
            user = store.update(USERS, {**user, "status": "suspended", "suspended_at": now()})
            api.audit(user_id=user_id, action="account_suspended", reason=reason)
        data = {"user_id": user_id, "status": "suspended", "suspended_at": user["suspended_at"]}
        return ok(data)

    @r.post("/users/{user_id}/reset-password", tags=["users"])
    async def reset_password(user_id: str) -> Response:
        api.get(USERS, user_id, "user")
        api.audit(user_id=user_id, action="password_reset_sent")
        return ok({"user_id": user_id, "reset_email_sent": True, "expires_at": later(1)})

    @r.delete("/users/{user_id}", tags=["users"])
    async def delete_user(user_id: str, request: Request) -> Response:
        user = api.get(USERS, user_id, "user")
        confirmation = request.query_params.get("confirmation")
        if not confirmation:
            raise bad(
                "confirmation is required: set it to the user's email address",
                "confirmation_required",
            )
        if confirmation.strip().lower() != user["email"].lower():
            raise bad(
                "confirmation does not match the user's email address", "confirmation_mismatch"
            )
        with store.transaction():
            store.delete(USERS, user["id"])
            store.delete_scope(AUDIT, user["id"])  # GDPR: the user's data goes with them
        return ok({"user_id": user_id, "deleted_at": now(), "data_removed": True})


def install(app: FastAPI, store: Store, token: str) -> None:
    api = Platform(store)
    install_error_handlers(app, api.error)
    r = api_router(PREFIX, [Depends(bearer_auth(token))])
    tenant_routes(r, api, store)
    flag_routes(r, api, store)
    user_routes(r, api, store)
    app.include_router(r)


DIALECT = Dialect(
    name="platform-admin",
    title="Platform admin API (tenants, plan overrides, users, bulk flags)",
    collections=(
        Collection(TENANTS),
        Collection(USERS),
        Collection(FLAGS),
        Collection(AUDIT),
        Collection(SETTINGS),
    ),
    install=install,
    seed=seed,
)

"""The ``operator-v1`` dialect: the routes document ``000`` lists, and no others.

Under ``/api/v1/operator``: device tiers (list, create, ``PUT``), plans (list,
create, ``PUT``) with their tier defaults (``GET``/``PUT`` the whole set),
tenants (list, create, get, ``PATCH``, delete; status is a ``PATCH`` field, as
no suspend route exists), and users (list, get, create, ``PUT``, delete,
enable/disable, add/remove a role, assign a tenant). No feature flags, no plan
or device tier delete, no ``GET`` of one plan. Every choice the document leaves
open (bodies, envelopes, caps, errors, rules) is on docs/apis/operator-v1.md;
seeded with ``options:`` (the target options of that page), the sandbox answers
as a server that made the other choices would (:mod:`.operator_v1_bodies`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response

from reconciler.options.operator_v1 import OperatorV1Options
from reconciler.sandbox.common import (
    api_router,
    bearer_auth,
    default_error_body,
    install_error_handlers,
    json_response,
)
from reconciler.sandbox.dialect import Dialect
from reconciler.sandbox.dialects.operator_v1_api import (
    COLLECTIONS,
    PLANS,
    SETTINGS,
    TENANTS,
    TIERS,
    USERS,
    OperatorApi,
    insert,
)
from reconciler.sandbox.store import Store

BASE = "/api/v1/operator"
SEED_KEYS = frozenset({"users", "quirks", "options"})
QUIRKS = frozenset({"max_page", "extra_fields"})


async def _body(request: Request) -> Any:
    """The request's JSON (None when it has no body); bad JSON is a refused body."""
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        error = {"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error"}
        raise RequestValidationError([error]) from None


def _catalog_routes(r: APIRouter, api: OperatorApi) -> None:
    """Device tiers, plans and tier defaults."""

    @r.get("/device-tiers", tags=["device tiers"])
    async def list_tiers(request: Request) -> Response:
        return api.page(TIERS, request.query_params, request.url.path)

    @r.post("/device-tiers", status_code=201, tags=["device tiers"])
    async def create_tier(request: Request) -> Response:
        return api.create_named(TIERS, await _body(request), "device tier")

    @r.put("/device-tiers/{tier_id}", tags=["device tiers"])
    async def replace_tier(tier_id: str, request: Request) -> Response:
        return api.replace_named(TIERS, tier_id, await _body(request), "device tier")

    @r.get("/plans", tags=["plans"])
    async def list_plans(request: Request) -> Response:
        return api.page(PLANS, request.query_params, request.url.path)

    @r.post("/plans", status_code=201, tags=["plans"])
    async def create_plan(request: Request) -> Response:
        return api.create_named(PLANS, await _body(request), "plan")

    @r.put("/plans/{plan_id}", tags=["plans"])
    async def replace_plan(plan_id: str, request: Request) -> Response:
        return api.replace_named(PLANS, plan_id, await _body(request), "plan")

    @r.get("/plans/{plan_id}/tier-defaults", tags=["plans"])
    async def get_tier_defaults(plan_id: str) -> Response:
        return api.tier_defaults(plan_id)

    @r.put("/plans/{plan_id}/tier-defaults", tags=["plans"])
    async def put_tier_defaults(plan_id: str, request: Request) -> Response:
        return api.put_tier_defaults(plan_id, await _body(request))


def _tenant_routes(r: APIRouter, api: OperatorApi) -> None:
    @r.get("/tenants", tags=["tenants"])
    async def list_tenants(request: Request) -> Response:
        return api.page(TENANTS, request.query_params, request.url.path)

    @r.post("/tenants", status_code=201, tags=["tenants"])
    async def create_tenant(request: Request) -> Response:
        return api.create_tenant(await _body(request))

    @r.get("/tenants/{tenant_id}", tags=["tenants"])
    async def get_tenant(tenant_id: str) -> Response:
        return api.answer(api.get(TENANTS, tenant_id, "tenant"))

    @r.patch("/tenants/{tenant_id}", tags=["tenants"])
    async def patch_tenant(tenant_id: str, request: Request) -> Response:
        return api.patch_tenant(tenant_id, await _body(request))

    @r.delete("/tenants/{tenant_id}", status_code=204, tags=["tenants"])
    async def delete_tenant(tenant_id: str) -> Response:
        return api.delete_tenant(tenant_id)


def _user_routes(r: APIRouter, api: OperatorApi) -> None:
    @r.get("/users", tags=["users"])
    async def list_users(request: Request) -> Response:
        return api.page(USERS, request.query_params, request.url.path)

    @r.post("/users", status_code=201, tags=["users"])
    async def create_user(request: Request) -> Response:
        return api.create_user(await _body(request))

    @r.get("/users/{user_id}", tags=["users"])
    async def get_user(user_id: str) -> Response:
        return api.answer(api.get(USERS, user_id, "user"))

    @r.put("/users/{user_id}", tags=["users"])
    async def replace_user(user_id: str, request: Request) -> Response:
        return api.replace_user(user_id, await _body(request))

    @r.delete("/users/{user_id}", status_code=204, tags=["users"])
    async def delete_user(user_id: str) -> Response:
        return api.delete_user(user_id)

    @r.post("/users/{user_id}/enable", tags=["users"])
    async def enable_user(user_id: str) -> Response:
        return api.set_enabled(user_id, True)

    @r.post("/users/{user_id}/disable", tags=["users"])
    async def disable_user(user_id: str) -> Response:
        return api.set_enabled(user_id, False)

    @r.post("/users/{user_id}/roles", tags=["users"])
    async def add_role(user_id: str, request: Request) -> Response:
        return api.add_role(user_id, await _body(request))

    @r.delete("/users/{user_id}/roles/{role_name}", tags=["users"])
    async def remove_role(user_id: str, role_name: str) -> Response:
        return api.remove_role(user_id, role_name)

    @r.post("/users/{user_id}/tenant", tags=["users"])
    async def assign_tenant(user_id: str, request: Request) -> Response:
        return api.assign_tenant(user_id, await _body(request))


def _error_body(key: str | None, status: int, code: str, message: str) -> Any:
    """``{"error", "message"}`` by default; the message alone at ``errors.message`` (a
    dotted key) when the options name one, as ``{"detail": "..."}`` for FastAPI."""
    if key is None:
        return default_error_body(status, code, message)
    body: dict[str, Any] = {}
    *parents, last = key.split(".")
    inner = body
    for part in parents:
        inner = inner.setdefault(part, {})
    inner[last] = message
    return body


def _install_errors(app: FastAPI, api: OperatorApi) -> None:
    """Errors in the configured shape. With ``errors.message: detail`` a refused body is
    FastAPI's own ``422 {"detail": [{"loc", "msg", "type"}]}``; otherwise ``400`` with
    the reasons joined, as every dialect answers by default."""

    def render(status: int, code: str, message: str) -> Any:
        return _error_body(api.options().errors.message, status, code, message)

    install_error_handlers(app, render)

    async def refused_body(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = list(exc.errors())
        if api.options().errors.message == "detail":
            detail = [
                {
                    "loc": list(e.get("loc", ())),
                    "msg": str(e.get("msg")),
                    "type": str(e.get("type")),
                }
                for e in errors
            ]
            return json_response({"detail": detail}, 422)
        reasons = []
        for e in errors:
            where = ".".join(str(part) for part in e.get("loc", ()) if part != "body")
            reasons.append(f"{where}: {e.get('msg')}" if where else str(e.get("msg")))
        return json_response(render(400, "validation_error", "; ".join(reasons) or "invalid"), 400)

    app.add_exception_handler(RequestValidationError, refused_body)


def install(app: FastAPI, store: Store, token: str) -> None:
    api = OperatorApi(store)
    _install_errors(app, api)
    r = api_router(BASE, [Depends(bearer_auth(token))])
    _catalog_routes(r, api)
    _tenant_routes(r, api)
    _user_routes(r, api)
    app.include_router(r)


def seed(store: Store, data: Mapping[str, Any]) -> None:
    """``{users: [{email, name, roles, enabled}], quirks: {max_page, extra_fields},
    options: {...}}``.

    ``users`` exist before any apply and may hold roles the API does not hand
    out (a ``customer`` of a tenant, listed by ``GET /users`` like everyone).
    ``options`` (the target options of docs/apis/operator-v1.md, camelCase) make
    the sandbox answer as a target configured with them expects; a bad one is a
    ValueError before the server starts. Seeding again replaces them.
    """
    unknown = set(data) - SEED_KEYS
    if unknown:
        raise ValueError(f"unknown seed keys: {', '.join(sorted(unknown))}")
    options = OperatorV1Options.model_validate(dict(data.get("options") or {}))
    if "options" in data:
        found = store.find(SETTINGS, "options")
        if found is not None:
            store.delete(SETTINGS, str(found["id"]))
        store.insert(SETTINGS, {"options": options.as_data()}, key="options")
    for user in data.get("users") or []:
        email, roles = user.get("email"), user.get("roles", [])
        if not isinstance(email, str) or "@" not in email:
            raise ValueError(f"seed user without a valid email: {user!r}")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise ValueError(f"seed user {email}: roles must be a list of names")
        fields = {
            "email": email,
            "name": user.get("name"),
            "enabled": bool(user.get("enabled", True)),
            "roles": roles,
            "tenant_id": None,
        }
        insert(store, USERS, fields, key=email.lower(), numbered=options.id_type == "integer")
    quirks = dict(data.get("quirks") or {})
    if set(quirks) - QUIRKS:
        raise ValueError(f"unknown quirks: {', '.join(sorted(set(quirks) - QUIRKS))}")
    max_page = quirks.get("max_page")
    if max_page is not None and (not isinstance(max_page, int) or max_page < 1):
        raise ValueError("quirks.max_page must be a whole number of at least 1")
    if quirks:
        store.insert(SETTINGS, quirks, key="quirks")


DIALECT = Dialect(
    name="operator-v1",
    title="IoT operator API (document 000)",
    collections=COLLECTIONS,
    install=install,
    seed=seed,
)

__all__ = ["DIALECT", "OperatorApi"]

"""The ``operator-v1`` dialect: the routes document ``000`` lists, and no others.

Under ``/api/v1/operator``: device tiers (list, create, ``PUT``), plans (list,
create, ``PUT``) with their tier defaults (``GET``/``PUT`` the whole set),
tenants (list, create, get, ``PATCH``, delete; status is a ``PATCH`` field, as
no suspend route exists), and users (list, get, create, ``PUT``, delete,
enable/disable, add/remove a role, assign a tenant). No feature flags, no plan
or device tier delete, no ``GET`` of one plan. Every choice the document leaves
open (bodies, envelopes, caps, errors, rules) is on docs/apis/operator-v1.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query
from starlette.responses import Response

from reconciler.sandbox.common import api_router, bearer_auth, install_error_handlers
from reconciler.sandbox.dialect import Dialect
from reconciler.sandbox.dialects.operator_v1_api import (
    COLLECTIONS,
    MAX_LIMIT,
    PLANS,
    SETTINGS,
    TENANTS,
    TIERS,
    USERS,
    OperatorApi,
)
from reconciler.sandbox.dialects.operator_v1_bodies import (
    NamedCreate,
    NamedReplace,
    RoleBody,
    TenantAssignment,
    TenantCreate,
    TenantPatch,
    TierDefaults,
    UserCreate,
    UserReplace,
)
from reconciler.sandbox.store import Store

BASE = "/api/v1/operator"
SEED_KEYS = frozenset({"users", "quirks"})
QUIRKS = frozenset({"max_page", "extra_fields"})

Limit = Annotated[int, Query(ge=1, description=f"Page size; over {MAX_LIMIT} serves {MAX_LIMIT}.")]
Offset = Annotated[int, Query(ge=0, description="How many objects to skip.")]


def _catalog_routes(r: APIRouter, api: OperatorApi) -> None:
    """Device tiers, plans and tier defaults."""

    @r.get("/device-tiers", tags=["device tiers"])
    async def list_tiers(limit: Limit = 100, offset: Offset = 0) -> Response:
        return api.page(TIERS, limit, offset)

    @r.post("/device-tiers", status_code=201, tags=["device tiers"])
    async def create_tier(body: NamedCreate) -> Response:
        return api.create_named(TIERS, body, "device tier")

    @r.put("/device-tiers/{tier_id}", tags=["device tiers"])
    async def replace_tier(tier_id: str, body: NamedReplace) -> Response:
        return api.replace_named(TIERS, tier_id, body, "device tier")

    @r.get("/plans", tags=["plans"])
    async def list_plans(limit: Limit = 100, offset: Offset = 0) -> Response:
        return api.page(PLANS, limit, offset)

    @r.post("/plans", status_code=201, tags=["plans"])
    async def create_plan(body: NamedCreate) -> Response:
        return api.create_named(PLANS, body, "plan")

    @r.put("/plans/{plan_id}", tags=["plans"])
    async def replace_plan(plan_id: str, body: NamedReplace) -> Response:
        return api.replace_named(PLANS, plan_id, body, "plan")

    @r.get("/plans/{plan_id}/tier-defaults", tags=["plans"])
    async def get_tier_defaults(plan_id: str) -> Response:
        return api.tier_defaults(plan_id)

    @r.put("/plans/{plan_id}/tier-defaults", tags=["plans"])
    async def put_tier_defaults(plan_id: str, body: TierDefaults) -> Response:
        return api.put_tier_defaults(plan_id, body)


def _tenant_routes(r: APIRouter, api: OperatorApi) -> None:
    @r.get("/tenants", tags=["tenants"])
    async def list_tenants(limit: Limit = 100, offset: Offset = 0) -> Response:
        return api.page(TENANTS, limit, offset)

    @r.post("/tenants", status_code=201, tags=["tenants"])
    async def create_tenant(body: TenantCreate) -> Response:
        return api.create_tenant(body)

    @r.get("/tenants/{tenant_id}", tags=["tenants"])
    async def get_tenant(tenant_id: str) -> Response:
        return api.answer(api.get(TENANTS, tenant_id, "tenant"))

    @r.patch("/tenants/{tenant_id}", tags=["tenants"])
    async def patch_tenant(tenant_id: str, body: TenantPatch) -> Response:
        return api.patch_tenant(tenant_id, body)

    @r.delete("/tenants/{tenant_id}", status_code=204, tags=["tenants"])
    async def delete_tenant(tenant_id: str) -> Response:
        return api.delete_tenant(tenant_id)


def _user_routes(r: APIRouter, api: OperatorApi) -> None:
    @r.get("/users", tags=["users"])
    async def list_users(limit: Limit = 100, offset: Offset = 0) -> Response:
        return api.page(USERS, limit, offset)

    @r.post("/users", status_code=201, tags=["users"])
    async def create_user(body: UserCreate) -> Response:
        return api.create_user(body)

    @r.get("/users/{user_id}", tags=["users"])
    async def get_user(user_id: str) -> Response:
        return api.answer(api.get(USERS, user_id, "user"))

    @r.put("/users/{user_id}", tags=["users"])
    async def replace_user(user_id: str, body: UserReplace) -> Response:
        return api.replace_user(user_id, body)

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
    async def add_role(user_id: str, body: RoleBody) -> Response:
        return api.add_role(user_id, body)

    @r.delete("/users/{user_id}/roles/{role_name}", tags=["users"])
    async def remove_role(user_id: str, role_name: str) -> Response:
        return api.remove_role(user_id, role_name)

    @r.post("/users/{user_id}/tenant", tags=["users"])
    async def assign_tenant(user_id: str, body: TenantAssignment) -> Response:
        return api.assign_tenant(user_id, body)


def install(app: FastAPI, store: Store, token: str) -> None:
    install_error_handlers(app)
    api = OperatorApi(store)
    r = api_router(BASE, [Depends(bearer_auth(token))])
    _catalog_routes(r, api)
    _tenant_routes(r, api)
    _user_routes(r, api)
    app.include_router(r)


def seed(store: Store, data: Mapping[str, Any]) -> None:
    """``{users: [{email, name, roles, enabled}], quirks: {max_page, extra_fields}}``.

    ``users`` exist before any apply and may hold roles the API does not hand
    out (a ``customer`` of a tenant, listed by ``GET /users`` like everyone).
    """
    unknown = set(data) - SEED_KEYS
    if unknown:
        raise ValueError(f"unknown seed keys: {', '.join(sorted(unknown))}")
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
        store.insert(USERS, fields, key=email.lower())
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

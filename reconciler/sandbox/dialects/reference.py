"""The ``reference`` dialect, as ``docs/apis/reference.md`` describes it.

Plans with tier defaults, tenants with suspend/resume and per-tenant feature
flags, and users with roles and a tenant, under ``/api/v1/operator``. The
module reads in the page's order; where the page is silent the choice made is
noted beside the code. Listings and error bodies follow the target options
the sandbox was seeded with (``reference_bodies.seed``), the page's by default.

Length: a little over 400 lines, kept whole so the emulation reads in the
page's order; request bodies already live in ``reference_bodies.py``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.responses import Response

from reconciler.sandbox.common import (
    api_router,
    bearer_auth,
    conflict,
    install_error_handlers,
    invalid,
    json_response,
    not_found,
    raw_json_response,
    splice_list,
)
from reconciler.sandbox.dialect import Dialect
from reconciler.sandbox.dialects.reference_bodies import (
    SETTINGS,
    FlagCreate,
    FlagUpdate,
    PlanCreate,
    PlanUpdate,
    RoleBody,
    TenantAssignment,
    TenantCreate,
    TenantPatch,
    TierDefaults,
    UserCreate,
    UserUpdate,
    error_body,
    listed,
    merge_patch,
    options,
    seed,
)
from reconciler.sandbox.store import Collection, Conflict, Obj, Store, now

BASE = "/api/v1/operator"
ROLES = ("operator", "operator-admin")

PLANS, TIERS, TENANTS, FLAGS, USERS = "plans", "tier_defaults", "tenants", "flags", "users"
COLLECTIONS = (
    Collection(PLANS),
    Collection(TIERS),  # one row per plan, keyed by plan id: the whole set at once
    Collection(TENANTS, indexed=("parent_id",)),
    Collection(FLAGS),  # scope = tenant id, key = flag key
    Collection(USERS, indexed=("tenant_id",)),  # key = lower-cased email
    Collection(SETTINGS),  # the seeded options and quirks
)


class Reference:
    """The endpoints, over one store; each method is one documented call."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # ---- lookups -------------------------------------------------------------

    def get(self, collection: str, id_: str, what: str) -> Obj:
        obj = self.store.get(collection, id_)
        if obj is None:
            raise not_found(f"{what} '{id_}'")
        return obj

    def _must_exist(self, collection: str, id_: str | None, field: str) -> None:
        """A referenced id that does not exist is a bad request, not a 404."""
        if id_ is not None and not self.store.exists(collection, id_):
            raise invalid(f"{field}: no {collection[:-1]} with id '{id_}'")

    # ---- plans ---------------------------------------------------------------

    def create_plan(self, body: PlanCreate) -> Response:
        fields = body.model_dump(include={"name", "display_name", "description"})
        try:
            plan = self.store.insert(PLANS, fields, key=body.name)
        except Conflict:
            raise conflict(f"a plan named '{body.name}' already exists") from None
        return json_response(plan, 201)

    def update_plan(self, plan_id: str, body: PlanUpdate) -> Response:
        plan = self.get(PLANS, plan_id, "plan")
        plan.update(body.model_dump(include=body.model_fields_set))
        return json_response(self.store.update(PLANS, plan))

    def get_tiers(self, plan_id: str) -> Response:
        self.get(PLANS, plan_id, "plan")
        row = self.store.find(TIERS, plan_id)
        tiers = row["tier_defaults"] if row else []
        return json_response({"plan_id": plan_id, "tier_defaults": tiers})

    def put_tiers(self, plan_id: str, body: TierDefaults) -> Response:
        self.get(PLANS, plan_id, "plan")
        tiers = [t.model_dump() for t in body.tier_defaults]
        names = [t["tier"] for t in tiers]
        if len(set(names)) != len(names):
            raise invalid("tier_defaults: a tier appears more than once")
        row = self.store.find(TIERS, plan_id)
        if row is None:
            self.store.insert(TIERS, {"plan_id": plan_id, "tier_defaults": tiers}, key=plan_id)
        else:
            self.store.update(TIERS, {**row, "tier_defaults": tiers})
        return json_response({"plan_id": plan_id, "tier_defaults": tiers})

    # ---- tenants -------------------------------------------------------------

    def create_tenant(self, body: TenantCreate) -> Response:
        self._must_exist(PLANS, body.plan_id, "plan_id")
        self._must_exist(TENANTS, body.parent_id, "parent_id")
        fields = {
            "name": body.name,
            "display_name": body.display_name,
            "plan_id": body.plan_id,
            "parent_id": body.parent_id,
            "status": "active",
            "configuration": merge_patch({}, body.configuration or {}),
            "suspended_at": None,
        }
        try:
            tenant = self.store.insert(TENANTS, fields, key=body.name)
        except Conflict:
            raise conflict(f"a tenant named '{body.name}' already exists") from None
        return json_response(tenant, 201)

    def patch_tenant(self, tenant_id: str, body: TenantPatch) -> Response:
        tenant = self.get(TENANTS, tenant_id, "tenant")
        given = body.model_fields_set
        if "plan_id" in given:
            self._must_exist(PLANS, body.plan_id, "plan_id")
            tenant["plan_id"] = body.plan_id
        if "parent_id" in given:
            self._must_exist(TENANTS, body.parent_id, "parent_id")
            self._refuse_cycle(tenant_id, body.parent_id)
            tenant["parent_id"] = body.parent_id
        if "display_name" in given:
            tenant["display_name"] = body.display_name
        if "configuration" in given:
            # A null configuration removes every key, as merge patch would.
            patch = body.configuration
            tenant["configuration"] = (
                {} if patch is None else merge_patch(tenant["configuration"], patch)
            )
        return json_response(self.store.update(TENANTS, tenant))

    def _refuse_cycle(self, tenant_id: str, parent_id: str | None) -> None:
        seen: set[str] = set()
        while parent_id is not None and parent_id not in seen:
            if parent_id == tenant_id:
                raise invalid(f"parent_id: '{tenant_id}' would become its own ancestor")
            seen.add(parent_id)
            parent = self.store.get(TENANTS, parent_id)
            parent_id = parent["parent_id"] if parent else None

    def delete_tenant(self, tenant_id: str) -> Response:
        self.get(TENANTS, tenant_id, "tenant")
        if self.store.any_with(TENANTS, "parent_id", tenant_id):
            raise conflict("the tenant has child tenants; delete or move them first")
        if self.store.any_with(USERS, "tenant_id", tenant_id):
            raise conflict("users are assigned to the tenant; reassign them first")
        with self.store.transaction():
            self.store.delete_scope(FLAGS, tenant_id)
            self.store.delete(TENANTS, tenant_id)
        return Response(status_code=204)

    def set_status(self, tenant_id: str, suspended: bool) -> Response:
        tenant = self.get(TENANTS, tenant_id, "tenant")
        if (tenant["status"] == "suspended") == suspended:
            return json_response(tenant)  # already there: a no-op, nothing written
        stamp = now()
        tenant["status"] = "suspended" if suspended else "active"
        tenant["suspended_at"] = stamp if suspended else None
        return json_response(self.store.update(TENANTS, tenant, at=stamp))

    # ---- feature flags -------------------------------------------------------

    def list_flags(self, tenant_id: str) -> Response:
        self.get(TENANTS, tenant_id, "tenant")
        rows = self.store.in_scope(FLAGS, tenant_id)
        return raw_json_response(splice_list(rows, {"total": len(rows)}))

    def create_flag(self, tenant_id: str, body: FlagCreate) -> Response:
        self.get(TENANTS, tenant_id, "tenant")
        fields = {"key": body.key, "enabled": body.enabled, "tenant_id": tenant_id}
        try:
            flag = self.store.insert(FLAGS, fields, key=body.key, scope=tenant_id)
        except Conflict:
            raise conflict(f"the tenant already has a flag '{body.key}'") from None
        return json_response(flag, 201)

    def _flag(self, tenant_id: str, key: str) -> Obj:
        self.get(TENANTS, tenant_id, "tenant")
        flag = self.store.find(FLAGS, key, scope=tenant_id)
        if flag is None:
            raise not_found(f"flag '{key}' of tenant '{tenant_id}'")
        return flag

    def update_flag(self, tenant_id: str, key: str, body: FlagUpdate) -> Response:
        flag = self._flag(tenant_id, key)
        flag["enabled"] = body.enabled
        return json_response(self.store.update(FLAGS, flag))

    def delete_flag(self, tenant_id: str, key: str) -> Response:
        self.store.delete(FLAGS, self._flag(tenant_id, key)["id"])
        return Response(status_code=204)

    # ---- users ---------------------------------------------------------------

    @staticmethod
    def _check_role(role: str) -> None:
        if role not in ROLES:
            raise invalid(f"role: unknown role '{role}' (known: {', '.join(ROLES)})")

    def create_user(self, body: UserCreate) -> Response:
        for role in body.roles:
            self._check_role(role)
        self._must_exist(TENANTS, body.tenant_id, "tenant_id")
        fields = {
            "email": body.email,
            "name": body.name,
            "enabled": body.enabled,
            "roles": list(dict.fromkeys(body.roles)),
            "tenant_id": body.tenant_id,
        }
        try:
            # Emails are unique regardless of case, as mail systems treat them.
            user = self.store.insert(USERS, fields, key=body.email.lower())
        except Conflict:
            raise conflict(f"a user with email '{body.email}' already exists") from None
        return json_response(user, 201)

    def _save_user(self, user: Obj, key: str | None = None) -> Response:
        try:
            return json_response(self.store.update(USERS, user, key=key))
        except Conflict:
            raise conflict(f"a user with email '{user['email']}' already exists") from None

    def update_user(self, user_id: str, body: UserUpdate) -> Response:
        user = self.get(USERS, user_id, "user")
        key = None
        if "email" in body.model_fields_set:
            if body.email is None:
                raise invalid("email: cannot be null")
            user["email"], key = body.email, body.email.lower()
        if "name" in body.model_fields_set:
            user["name"] = body.name
        return self._save_user(user, key)

    def delete_user(self, user_id: str) -> Response:
        if not self.store.delete(USERS, user_id):
            raise not_found(f"user '{user_id}'")
        return Response(status_code=204)

    def set_enabled(self, user_id: str, enabled: bool) -> Response:
        user = self.get(USERS, user_id, "user")
        if user["enabled"] == enabled:
            return json_response(user)
        user["enabled"] = enabled
        return self._save_user(user)

    def add_role(self, user_id: str, body: RoleBody) -> Response:
        self._check_role(body.role)
        user = self.get(USERS, user_id, "user")
        if body.role in user["roles"]:
            return json_response(user)
        user["roles"] = [*user["roles"], body.role]
        return self._save_user(user)

    def remove_role(self, user_id: str, role_name: str) -> Response:
        user = self.get(USERS, user_id, "user")
        if role_name not in user["roles"]:
            return json_response(user)  # already without it: idempotent, like adding
        user["roles"] = [r for r in user["roles"] if r != role_name]
        return self._save_user(user)

    def assign_tenant(self, user_id: str, body: TenantAssignment) -> Response:
        user = self.get(USERS, user_id, "user")
        self._must_exist(TENANTS, body.tenant_id, "tenant_id")
        user["tenant_id"] = body.tenant_id
        return self._save_user(user)


def router(store: Store, token: str) -> APIRouter:
    """The API's routes; each is a thin async shim over :class:`Reference`."""
    api = Reference(store)
    r = api_router(BASE, [Depends(bearer_auth(token))])

    # Routes are matched in order, so the hottest go first.
    @r.get("/feature-flags", tags=["feature flags"])
    async def list_all_flags(request: Request) -> Response:
        return listed(store, request, FLAGS, options(store).lists.feature_flags)

    @r.get("/tenants/{tenant_id}/feature-flags", tags=["feature flags"])
    async def list_flags(tenant_id: str) -> Response:
        return api.list_flags(tenant_id)

    @r.post("/tenants/{tenant_id}/feature-flags", status_code=201, tags=["feature flags"])
    async def create_flag(tenant_id: str, body: FlagCreate) -> Response:
        return api.create_flag(tenant_id, body)

    @r.put("/tenants/{tenant_id}/feature-flags/{flag_key}", tags=["feature flags"])
    async def update_flag(tenant_id: str, flag_key: str, body: FlagUpdate) -> Response:
        return api.update_flag(tenant_id, flag_key, body)

    @r.delete(
        "/tenants/{tenant_id}/feature-flags/{flag_key}", status_code=204, tags=["feature flags"]
    )
    async def delete_flag(tenant_id: str, flag_key: str) -> Response:
        return api.delete_flag(tenant_id, flag_key)

    @r.get("/plans", tags=["plans"])
    async def list_plans(request: Request) -> Response:
        return listed(store, request, PLANS, options(store).lists.plans)

    @r.post("/plans", status_code=201, tags=["plans"])
    async def create_plan(body: PlanCreate) -> Response:
        return api.create_plan(body)

    @r.get("/plans/{plan_id}", tags=["plans"])
    async def get_plan(plan_id: str) -> Response:
        return json_response(api.get(PLANS, plan_id, "plan"))

    @r.put("/plans/{plan_id}", tags=["plans"])
    async def update_plan(plan_id: str, body: PlanUpdate) -> Response:
        return api.update_plan(plan_id, body)

    @r.get("/plans/{plan_id}/tier-defaults", tags=["plans"])
    async def get_tier_defaults(plan_id: str) -> Response:
        return api.get_tiers(plan_id)

    @r.put("/plans/{plan_id}/tier-defaults", tags=["plans"])
    async def put_tier_defaults(plan_id: str, body: TierDefaults) -> Response:
        return api.put_tiers(plan_id, body)

    @r.get("/tenants", tags=["tenants"])
    async def list_tenants(request: Request) -> Response:
        return listed(store, request, TENANTS, options(store).lists.tenants)

    @r.post("/tenants", status_code=201, tags=["tenants"])
    async def create_tenant(body: TenantCreate) -> Response:
        return api.create_tenant(body)

    @r.get("/tenants/{tenant_id}", tags=["tenants"])
    async def get_tenant(tenant_id: str) -> Response:
        return json_response(api.get(TENANTS, tenant_id, "tenant"))

    @r.patch("/tenants/{tenant_id}", tags=["tenants"])
    async def patch_tenant(tenant_id: str, body: TenantPatch) -> Response:
        return api.patch_tenant(tenant_id, body)

    @r.delete("/tenants/{tenant_id}", status_code=204, tags=["tenants"])
    async def delete_tenant(tenant_id: str) -> Response:
        return api.delete_tenant(tenant_id)

    @r.post("/tenants/{tenant_id}/suspend", tags=["tenants"])
    async def suspend_tenant(tenant_id: str) -> Response:
        return api.set_status(tenant_id, suspended=True)

    @r.post("/tenants/{tenant_id}/resume", tags=["tenants"])
    async def resume_tenant(tenant_id: str) -> Response:
        return api.set_status(tenant_id, suspended=False)

    @r.get("/users", tags=["users"])
    async def list_users(request: Request) -> Response:
        return listed(store, request, USERS, options(store).lists.users)

    @r.post("/users", status_code=201, tags=["users"])
    async def create_user(body: UserCreate) -> Response:
        return api.create_user(body)

    @r.get("/users/{user_id}", tags=["users"])
    async def get_user(user_id: str) -> Response:
        return json_response(api.get(USERS, user_id, "user"))

    @r.put("/users/{user_id}", tags=["users"])
    async def update_user(user_id: str, body: UserUpdate) -> Response:
        return api.update_user(user_id, body)

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

    return r


def install(app: FastAPI, store: Store, token: str) -> None:
    install_error_handlers(app, error_body(store))
    app.include_router(router(store, token))


DIALECT = Dialect(
    name="reference",
    title="Reference operator API",
    collections=COLLECTIONS,
    install=install,
    seed=seed,
)

__all__ = ["DIALECT", "Reference", "merge_patch", "router", "seed"]

"""What the ``operator-v1`` sandbox does on each call: one method per documented route.

The rules here are the ones docs/apis/operator-v1.md writes down where document
``000`` is silent: tier defaults name existing device tiers, a tenant with
children or users cannot be deleted, a user keeps at least one role, a ``PUT``
replaces the whole object, a ``PATCH`` merges.
"""

from __future__ import annotations

import json

from starlette.responses import Response

from reconciler.sandbox.common import (
    conflict,
    invalid,
    json_response,
    not_found,
    raw_json_response,
    splice_list,
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
from reconciler.sandbox.dialects.reference_bodies import merge_patch
from reconciler.sandbox.store import Collection, Conflict, Obj, Store, now

ROLES = ("operator", "operator-admin")
MAX_LIMIT = 500

TIERS, PLANS, DEFAULTS = "device_tiers", "plans", "tier_defaults"
TENANTS, USERS, SETTINGS = "tenants", "users", "settings"
COLLECTIONS = (
    Collection(TIERS),  # key = tier name
    Collection(PLANS),  # key = plan name
    Collection(DEFAULTS),  # one row per plan, key = plan id: the set is written whole
    Collection(TENANTS, indexed=("parent_id",)),  # key = tenant name
    Collection(USERS, indexed=("tenant_id",)),  # key = lower-cased email
    Collection(SETTINGS),  # the seed's quirks
)


class OperatorApi:
    """The routes over one store; each public method is one call of the document."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # ---- answers ---------------------------------------------------------------

    def quirks(self) -> Obj:
        return self.store.find(SETTINGS, "quirks") or {}

    def show(self, obj: Obj, quirks: Obj | None = None) -> Obj:
        """An object as answered; ``extra_fields`` adds what a real server might."""
        if not (quirks if quirks is not None else self.quirks()).get("extra_fields"):
            return obj
        return {**obj, "etag": f'W/"{obj.get("updated_at")}"', "audit": {"rls_bypassed": True}}

    def answer(self, obj: Obj, status: int = 200) -> Response:
        return json_response(self.show(obj), status)

    def page(self, collection: str, limit: int, offset: int) -> Response:
        """``{"items", "total", "limit", "offset"}``, at most 500 (or ``max_page``) items."""
        quirks = self.quirks()
        limit = min(limit, MAX_LIMIT, int(quirks.get("max_page") or MAX_LIMIT))
        rows, total = self.store.page(collection, limit, offset)
        extra = {"total": total, "limit": limit, "offset": offset}
        if not quirks.get("extra_fields"):
            return raw_json_response(splice_list(rows, extra))
        items = [self.show(json.loads(row), quirks) for row in rows]
        return json_response({"items": items, **extra, "has_more": offset + len(rows) < total})

    def get(self, collection: str, id_: str, what: str) -> Obj:
        obj = self.store.get(collection, id_)
        if obj is None:
            raise not_found(f"{what} '{id_}'")
        return obj

    def _must_exist(self, collection: str, id_: str | None, field: str) -> None:
        """A body naming an id that does not exist is a bad request, not a 404."""
        if id_ is not None and not self.store.exists(collection, id_):
            raise invalid(f"{field}: no {collection[:-1]} with id '{id_}'")

    # ---- device tiers and plans (the same shape) -----------------------------------

    def create_named(self, collection: str, body: NamedCreate, what: str) -> Response:
        fields = body.model_dump(include={"name", "display_name", "description"})
        try:
            obj = self.store.insert(collection, fields, key=body.name)
        except Conflict:
            raise conflict(f"a {what} named '{body.name}' already exists") from None
        return self.answer(obj, 201)

    def replace_named(self, collection: str, id_: str, body: NamedReplace, what: str) -> Response:
        obj = self.get(collection, id_, what)
        if body.name is not None and body.name != obj["name"]:
            raise invalid(f"name: a {what}'s name cannot change ('{obj['name']}')")
        obj.update(display_name=body.display_name, description=body.description)
        return self.answer(self.store.update(collection, obj))

    # ---- tier defaults ---------------------------------------------------------------

    def tier_defaults(self, plan_id: str) -> Response:
        self.get(PLANS, plan_id, "plan")
        row = self.store.find(DEFAULTS, plan_id)
        return self._defaults_answer(plan_id, row["tier_defaults"] if row else [])

    def put_tier_defaults(self, plan_id: str, body: TierDefaults) -> Response:
        self.get(PLANS, plan_id, "plan")
        rows = [t.model_dump() for t in body.tier_defaults]
        names = [row["tier"] for row in rows]
        if len(set(names)) != len(names):
            raise invalid("tier_defaults: a tier appears more than once")
        for name in names:
            if self.store.find(TIERS, name) is None:
                raise invalid(f"tier_defaults: no device tier named '{name}'")
        row = self.store.find(DEFAULTS, plan_id)
        if row is None:
            self.store.insert(DEFAULTS, {"plan_id": plan_id, "tier_defaults": rows}, key=plan_id)
        else:
            self.store.update(DEFAULTS, {**row, "tier_defaults": rows})
        return self._defaults_answer(plan_id, rows)

    def _defaults_answer(self, plan_id: str, rows: list[Obj]) -> Response:
        if self.quirks().get("extra_fields"):
            rows = [{**row, "unit": "devices"} for row in rows]
        return json_response({"plan_id": plan_id, "tier_defaults": rows})

    # ---- tenants ----------------------------------------------------------------------

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
        return self.answer(tenant, 201)

    def patch_tenant(self, tenant_id: str, body: TenantPatch) -> Response:
        tenant = self.get(TENANTS, tenant_id, "tenant")
        given = body.model_fields_set
        if not given:
            raise invalid("no fields to update")
        if "status" in given and body.status is None:
            raise invalid("status: must be 'active' or 'suspended', not null")
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
            patch = body.configuration
            tenant["configuration"] = (
                {} if patch is None else merge_patch(tenant["configuration"], patch)
            )
        stamp = now()
        if body.status is not None and body.status != tenant["status"]:
            tenant["status"] = body.status
            tenant["suspended_at"] = stamp if body.status == "suspended" else None
        return self.answer(self.store.update(TENANTS, tenant, at=stamp))

    def _refuse_cycle(self, tenant_id: str, parent_id: str | None) -> None:
        seen: set[str] = set()
        while parent_id is not None and parent_id not in seen:
            if parent_id == tenant_id:
                raise invalid(f"parent_id: tenant '{tenant_id}' would become its own ancestor")
            seen.add(parent_id)
            parent = self.store.get(TENANTS, parent_id)
            parent_id = parent["parent_id"] if parent else None

    def delete_tenant(self, tenant_id: str) -> Response:
        self.get(TENANTS, tenant_id, "tenant")
        if self.store.any_with(TENANTS, "parent_id", tenant_id):
            raise conflict("the tenant has child tenants; delete or move them first")
        if self.store.any_with(USERS, "tenant_id", tenant_id):
            raise conflict("users are assigned to the tenant; reassign or delete them first")
        self.store.delete(TENANTS, tenant_id)
        return Response(status_code=204)

    # ---- users ------------------------------------------------------------------------

    @staticmethod
    def _check_role(role: str) -> None:
        if role not in ROLES:
            raise invalid(f"role: unknown role '{role}' (known: {', '.join(ROLES)})")

    def _save_user(self, user: Obj, key: str | None = None) -> Response:
        try:
            return self.answer(self.store.update(USERS, user, key=key))
        except Conflict:
            raise conflict(f"a user with email '{user['email']}' already exists") from None

    def create_user(self, body: UserCreate) -> Response:
        if body.role is not None:
            self._check_role(body.role)
        self._must_exist(TENANTS, body.tenant_id, "tenant_id")
        fields = {
            "email": body.email,
            "name": body.name,
            "enabled": True,
            "roles": [body.role] if body.role else [],
            "tenant_id": body.tenant_id,
        }
        try:
            user = self.store.insert(USERS, fields, key=body.email.lower())
        except Conflict:
            raise conflict(f"a user with email '{body.email}' already exists") from None
        return self.answer(user, 201)

    def replace_user(self, user_id: str, body: UserReplace) -> Response:
        user = self.get(USERS, user_id, "user")
        user.update(email=body.email, name=body.name)
        return self._save_user(user, key=body.email.lower())

    def delete_user(self, user_id: str) -> Response:
        if not self.store.delete(USERS, user_id):
            raise not_found(f"user '{user_id}'")
        return Response(status_code=204)

    def set_enabled(self, user_id: str, enabled: bool) -> Response:
        user = self.get(USERS, user_id, "user")
        if user["enabled"] == enabled:
            return self.answer(user)  # already so: nothing written
        user["enabled"] = enabled
        return self._save_user(user)

    def add_role(self, user_id: str, body: RoleBody) -> Response:
        self._check_role(body.role)
        user = self.get(USERS, user_id, "user")
        if body.role in user["roles"]:
            return self.answer(user)
        user["roles"] = [*user["roles"], body.role]
        return self._save_user(user)

    def remove_role(self, user_id: str, role_name: str) -> Response:
        user = self.get(USERS, user_id, "user")
        if role_name not in user["roles"]:
            return self.answer(user)  # already without it: a repeat is harmless
        if user["roles"] == [role_name]:
            raise conflict(
                f"'{role_name}' is the user's only role; add the new role before removing it"
            )
        user["roles"] = [r for r in user["roles"] if r != role_name]
        return self._save_user(user)

    def assign_tenant(self, user_id: str, body: TenantAssignment) -> Response:
        user = self.get(USERS, user_id, "user")
        self._must_exist(TENANTS, body.tenant_id, "tenant_id")
        user["tenant_id"] = body.tenant_id
        return self._save_user(user)

"""What the ``operator-v1`` sandbox does on each call: one method per documented route.

The rules here are the ones docs/apis/operator-v1.md writes down where document
``000`` is silent: tier defaults name existing device tiers, a tenant with
children or users cannot be deleted, a user keeps at least one role, a ``PUT``
replaces the whole object, a ``PATCH`` merges. How bodies and answers are
shaped follows the options the sandbox was seeded with (:meth:`OperatorApi.options`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from reconciler.options.operator_v1 import OperatorV1Options
from reconciler.sandbox.common import conflict, invalid, json_response, not_found, raw_json_response
from reconciler.sandbox.dialects.operator_v1_bodies import (
    BodyModels,
    Parsed,
    View,
    body_models,
    parse,
    tier_rows,
)
from reconciler.sandbox.dialects.reference_bodies import merge_patch
from reconciler.sandbox.listing import answer, asked
from reconciler.sandbox.store import Collection, Conflict, Obj, Store, dumps, now

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
    Collection(SETTINGS),  # the seed's quirks and options, the next integer ids
)


def insert(store: Store, collection: str, fields: Obj, *, key: str, numbered: bool) -> Obj:
    """A new object; its id a whole number (1, 2, …, per collection, kept as text) when
    ``numbered`` (``idType: integer``), else a UUID."""
    if not numbered:
        return store.insert(collection, fields, key=key)
    counter = store.find(SETTINGS, f"next-id:{collection}")
    number = int(counter["next"]) if counter else 1
    with store.transaction():
        obj = store.insert(collection, {"id": str(number), **fields}, key=key)
        if counter is None:
            store.insert(SETTINGS, {"next": number + 1}, key=f"next-id:{collection}")
        else:
            store.update(SETTINGS, {**counter, "next": number + 1})
    return obj


class OperatorApi:
    """The routes over one store; each public method is one call of the document."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._options: tuple[Any, OperatorV1Options, View] | None = None

    # ---- options and answers ----------------------------------------------------------

    def _settings(self) -> tuple[OperatorV1Options, View]:
        """The seeded options, read per request (a test may put a new database under a
        running server), validated again only when they changed."""
        found = self.store.find(SETTINGS, "options")
        data = found["options"] if found else {}
        if self._options is None or self._options[0] != data:
            options = OperatorV1Options.model_validate(data)
            self._options = (data, options, View(options))
        return self._options[1], self._options[2]

    def options(self) -> OperatorV1Options:
        return self._settings()[0]

    def view(self) -> View:
        return self._settings()[1]

    def models(self) -> BodyModels:
        options = self.options()
        return body_models(options.fields, options.id_type, options.tier_defaults)

    def quirks(self) -> Obj:
        return self.store.find(SETTINGS, "quirks") or {}

    def show(self, obj: Obj, quirks: Obj | None = None) -> Obj:
        """An object as answered; ``extra_fields`` adds what a real server might."""
        shown = self.view().show(obj)
        if not (quirks if quirks is not None else self.quirks()).get("extra_fields"):
            return shown
        return {**shown, "etag": f'W/"{obj.get("updated_at")}"', "audit": {"rls_bypassed": True}}

    def answer(self, obj: Obj, status: int = 200) -> Response:
        return json_response(self.show(obj), status)

    def page(self, collection: str, query: Mapping[str, str], path: str) -> Response:
        """One page as the collection's listing option says (by default ``{"items",
        "total", "limit", "offset"}``), at most 500 (or ``max_page``) items."""
        quirks = self.quirks()
        listing = getattr(self.options().lists, collection)
        cap = min(MAX_LIMIT, int(quirks.get("max_page") or MAX_LIMIT))
        window = asked(query, listing, max_page=cap)
        rows, total = self.store.page(collection, window.limit, window.offset)
        if quirks.get("extra_fields") or not self.view().plain:
            rows = [dumps(self.show(json.loads(row), quirks)) for row in rows]
        extra: dict[str, Any] = {}
        if listing.items == "items" and listing.paging == "offset":  # the default envelope
            extra = {"limit": window.limit, "offset": window.offset}
        if quirks.get("extra_fields"):
            extra["has_more"] = window.offset + len(rows) < total
        return raw_json_response(answer(listing, window, rows, total, path=path, extra=extra))

    def get(self, collection: str, id_: str, what: str) -> Obj:
        obj = self.store.get(collection, id_)
        if obj is None:
            raise not_found(f"{what} '{id_}'")
        return obj

    def _must_exist(self, collection: str, id_: str | None, field: str) -> None:
        """A body naming an id that does not exist is a bad request, not a 404."""
        if id_ is not None and not self.store.exists(collection, id_):
            key = self.view().keys[field]
            raise invalid(f"{key}: no {collection[:-1]} with id '{id_}'")

    # ---- device tiers and plans (the same shape) -----------------------------------

    def _insert(self, collection: str, fields: Obj, key: str) -> Obj:
        return insert(self.store, collection, fields, key=key, numbered=self.view().numbers)

    def create_named(self, collection: str, data: Any, what: str) -> Response:
        fields = parse(self.models().named_create, data).values
        try:
            obj = self._insert(collection, fields, fields["name"])
        except Conflict:
            raise conflict(f"a {what} named '{fields['name']}' already exists") from None
        return self.answer(obj, 201)

    def replace_named(self, collection: str, id_: str, data: Any, what: str) -> Response:
        body = parse(self.models().named_replace, data).values
        obj = self.get(collection, id_, what)
        if body["name"] is not None and body["name"] != obj["name"]:
            key = self.view().keys["name"]
            raise invalid(f"{key}: a {what}'s name cannot change ('{obj['name']}')")
        obj.update(display_name=body["display_name"], description=body["description"])
        return self.answer(self.store.update(collection, obj))

    # ---- tier defaults ---------------------------------------------------------------

    def tier_defaults(self, plan_id: str) -> Response:
        self.get(PLANS, plan_id, "plan")
        row = self.store.find(DEFAULTS, plan_id)
        return self._defaults_answer(plan_id, row["tier_defaults"] if row else [])

    def put_tier_defaults(self, plan_id: str, data: Any) -> Response:
        sent = tier_rows(self.models(), data)
        self.get(PLANS, plan_id, "plan")
        shape = self.options().tier_defaults
        where = shape.wrapper or shape.tier_field
        rows = []
        for tier, limit in sent:
            if shape.tier_reference == "id":
                found = self.store.get(TIERS, tier)
                if found is None:
                    raise invalid(f"{where}: no device tier with id '{tier}'")
                tier = found["name"]
            elif self.store.find(TIERS, tier) is None:
                raise invalid(f"{where}: no device tier named '{tier}'")
            rows.append({"tier": tier, "slot_limit": limit})
        if len({row["tier"] for row in rows}) != len(rows):
            raise invalid(f"{where}: a tier appears more than once")
        row = self.store.find(DEFAULTS, plan_id)
        if row is None:
            self.store.insert(DEFAULTS, {"plan_id": plan_id, "tier_defaults": rows}, key=plan_id)
        else:
            self.store.update(DEFAULTS, {**row, "tier_defaults": rows})
        return self._defaults_answer(plan_id, rows)

    def _defaults_answer(self, plan_id: str, rows: list[Obj]) -> Response:
        """``{"plan_id", "tier_defaults": [{"tier", "slot_limit"}]}`` under the configured
        keys, each tier by name or by its id; a bare list without a wrapper."""
        shape, view = self.options().tier_defaults, self.view()
        shown = []
        for row in rows:
            tier = row["tier"]
            if shape.tier_reference == "id":
                found = self.store.find(TIERS, tier)
                tier = view.sent_id(found["id"]) if found else None
            shown.append({shape.tier_field: tier, shape.limit_field: row["slot_limit"]})
        if self.quirks().get("extra_fields"):
            shown = [{**row, "unit": "devices"} for row in shown]
        if shape.wrapper is None:
            return json_response(shown)
        return json_response({view.keys["plan_id"]: view.sent_id(plan_id), shape.wrapper: shown})

    # ---- tenants ----------------------------------------------------------------------

    def create_tenant(self, data: Any) -> Response:
        body = parse(self.models().tenant_create, data).values
        self._must_exist(PLANS, body["plan_id"], "plan_id")
        self._must_exist(TENANTS, body["parent_id"], "parent_id")
        fields = {
            "name": body["name"],
            "display_name": body["display_name"],
            "plan_id": body["plan_id"],
            "parent_id": body["parent_id"],
            "status": "active",
            "configuration": merge_patch({}, body["configuration"] or {}),
            "suspended_at": None,
        }
        try:
            tenant = self._insert(TENANTS, fields, body["name"])
        except Conflict:
            raise conflict(f"a tenant named '{body['name']}' already exists") from None
        return self.answer(tenant, 201)

    def patch_tenant(self, tenant_id: str, data: Any) -> Response:
        body: Parsed = parse(self.models().tenant_patch, data)
        tenant = self.get(TENANTS, tenant_id, "tenant")
        given, values = body.given, body.values
        if not given:
            raise invalid("no fields to update")
        if "status" in given and values["status"] is None:
            key = self.view().keys["status"]
            raise invalid(f"{key}: must be 'active' or 'suspended', not null")
        if "plan_id" in given:
            self._must_exist(PLANS, values["plan_id"], "plan_id")
            tenant["plan_id"] = values["plan_id"]
        if "parent_id" in given:
            self._must_exist(TENANTS, values["parent_id"], "parent_id")
            self._refuse_cycle(tenant_id, values["parent_id"])
            tenant["parent_id"] = values["parent_id"]
        if "display_name" in given:
            tenant["display_name"] = values["display_name"]
        if "configuration" in given:
            patch = values["configuration"]
            tenant["configuration"] = (
                {} if patch is None else merge_patch(tenant["configuration"], patch)
            )
        stamp = now()
        status = values["status"]
        if status is not None and status != tenant["status"]:
            tenant["status"] = status
            tenant["suspended_at"] = stamp if status == "suspended" else None
        return self.answer(self.store.update(TENANTS, tenant, at=stamp))

    def _refuse_cycle(self, tenant_id: str, parent_id: str | None) -> None:
        seen: set[str] = set()
        while parent_id is not None and parent_id not in seen:
            if parent_id == tenant_id:
                key = self.view().keys["parent_id"]
                raise invalid(f"{key}: tenant '{tenant_id}' would become its own ancestor")
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

    def _check_role(self, role: str) -> None:
        if role not in ROLES:
            key = self.view().keys["role"]
            raise invalid(f"{key}: unknown role '{role}' (known: {', '.join(ROLES)})")

    def _save_user(self, user: Obj, key: str | None = None) -> Response:
        try:
            return self.answer(self.store.update(USERS, user, key=key))
        except Conflict:
            raise conflict(f"a user with email '{user['email']}' already exists") from None

    def create_user(self, data: Any) -> Response:
        body = parse(self.models().user_create, data).values
        if body["role"] is not None:
            self._check_role(body["role"])
        self._must_exist(TENANTS, body["tenant_id"], "tenant_id")
        fields = {
            "email": body["email"],
            "name": body["name"],
            "enabled": True,
            "roles": [body["role"]] if body["role"] else [],
            "tenant_id": body["tenant_id"],
        }
        try:
            user = self._insert(USERS, fields, body["email"].lower())
        except Conflict:
            raise conflict(f"a user with email '{body['email']}' already exists") from None
        return self.answer(user, 201)

    def replace_user(self, user_id: str, data: Any) -> Response:
        body = parse(self.models().user_replace, data).values
        user = self.get(USERS, user_id, "user")
        user.update(email=body["email"], name=body["name"])
        return self._save_user(user, key=body["email"].lower())

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

    def add_role(self, user_id: str, data: Any) -> Response:
        role = parse(self.models().role, data).values["role"]
        self._check_role(role)
        user = self.get(USERS, user_id, "user")
        if role in user["roles"]:
            return self.answer(user)
        user["roles"] = [*user["roles"], role]
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

    def assign_tenant(self, user_id: str, data: Any) -> Response:
        tenant_id = parse(self.models().tenant_assignment, data).values["tenant_id"]
        user = self.get(USERS, user_id, "user")
        self._must_exist(TENANTS, tenant_id, "tenant_id")
        user["tenant_id"] = tenant_id
        return self._save_user(user)

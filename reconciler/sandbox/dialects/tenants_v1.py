"""The ``tenants-v1`` dialect: a gateway's tenants API with lifecycle, hierarchy and roles.

After document ``004``: ``/v1/tenants`` (``page``/``limit`` lists, create, get,
``PATCH``), lifecycle (``suspend``, ``resume``, ``activate``, ``deactivate``:
elevated role or 403), ``children`` and ``hierarchy``, ``configuration``,
feature flags (list, create, delete by key), roles (CRUD) and role assignments
(create, revoke). Path ids must be UUIDs (400 ``validation_error``). Choices
where the document is silent: docs/apis/tenants-v1.md.

Length: a little over 400 lines, kept whole so the emulation reads in the
document's order, its state machine beside the routes that walk it.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.responses import Response

from reconciler.options.tenants_v1 import TenantsV1Options
from reconciler.sandbox.common import ErrorAnswer, api_router, install_error_handlers, json_response
from reconciler.sandbox.dialect import Dialect
from reconciler.sandbox.store import Collection, Conflict, Obj, Store

PREFIX = "/v1/tenants"
TENANTS, FLAGS, ROLES, GRANTS, SETTINGS = "tenants", "flags", "roles", "grants", "settings"
GATEWAY_ROLES = frozenset({"tenant_admin", "platform_admin", "system_admin", "super_admin"})
ELEVATED = frozenset({"platform_admin", "platform_operator", "system_admin", "super_admin"})
TRANSITIONS = {
    "suspend": ("active", "suspended"),
    "resume": ("suspended", "active"),
    "deactivate": ("active", "inactive"),
    "activate": ("inactive", "active"),
}
_bearer = HTTPBearer(auto_error=False)


def _uuid(value: str, name: str) -> str:
    try:
        uuid.UUID(value)
    except ValueError:
        raise ErrorAnswer(400, "validation_error", f"{name} must be a valid UUID") from None
    return value


def _positive(value: str | None, name: str, default: int) -> int:
    if value is None:
        return default
    if not value.isdigit() or int(value) < 1:
        raise ErrorAnswer(400, "validation_error", f"{name} must be a positive integer")
    return int(value)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ErrorAnswer(400, "validation_error", "request body must be JSON") from None
    if not isinstance(body, dict):
        raise ErrorAnswer(400, "validation_error", "request body must be a JSON object")
    return body


class Tenants:
    """The Rust platform service behind the gateway, over one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def all(self, collection: str) -> list[Obj]:
        rows, _ = self.store.page(collection, 10_000_000, 0)
        return [json.loads(r) for r in rows]

    def scoped(self, collection: str, tenant_id: str) -> list[Obj]:
        return [json.loads(r) for r in self.store.in_scope(collection, tenant_id)]

    def options(self) -> TenantsV1Options:
        """The options this sandbox was seeded with (``options:``), else the defaults."""
        found = self.store.find(SETTINGS, "options", scope="options")
        data = {} if found is None else found.get("options", {})
        return TenantsV1Options.model_validate(data)

    def tenant(self, tenant_id: str) -> Obj:
        found = self.store.get(TENANTS, _uuid(tenant_id, "tenant_id"))
        if found is None:
            raise ErrorAnswer(404, "not_found", f"tenant {tenant_id} not found")
        return found

    def level(self, tenant: Obj) -> int:
        depth, parent = 1, tenant.get("parent_id")
        while parent:
            depth += 1
            found = self.store.get(TENANTS, parent)
            parent = found.get("parent_id") if found else None
        return depth

    def show(self, tenant: Obj) -> dict[str, Any]:
        shown = {k: tenant.get(k) for k in ("id", "name", "display_name", "parent_id", "status")}
        return shown | {"tenant_level": self.level(tenant), "created_at": tenant["created_at"]}


def _page(items: list[Any], request: Request) -> Response:
    q = request.query_params
    page = _positive(q.get("page"), "page", 1)
    limit = min(_positive(q.get("limit"), "limit", 20), 100)
    chunk = items[(page - 1) * limit : page * limit]
    return json_response({"data": chunk, "page": page, "limit": limit, "total": len(items)})


async def caller_roles(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> frozenset[str]:
    """The roles of whoever calls: the sandbox's token is a platform admin; seeded
    tokens hold the roles they were given; no gateway role at all is a 403."""
    token, api = request.app.state.tenants_v1
    if credentials is None:
        raise ErrorAnswer(401, "unauthorized", "missing bearer token")
    given = credentials.credentials.encode()
    if secrets.compare_digest(given, token.encode()):
        return frozenset({"platform_admin"})
    for entry in api.scoped(SETTINGS, "tokens"):
        if secrets.compare_digest(given, str(entry["token"]).encode()):
            roles = frozenset(entry.get("roles", []))
            if not roles & GATEWAY_ROLES:
                raise ErrorAnswer(403, "permission_denied", "tenant admin role required")
            return roles
    raise ErrorAnswer(401, "unauthorized", "invalid bearer token")


Roles = Annotated[frozenset[str], Depends(caller_roles)]


def router(store: Store, token: str) -> APIRouter:
    api = Tenants(store)

    r = api_router(PREFIX)

    @r.get("", tags=["tenants"])
    async def list_tenants(request: Request, roles: Roles) -> Response:
        q = request.query_params
        items = api.all(TENANTS)
        if q.get("parent_id") is not None:
            parent = _uuid(q["parent_id"], "parent_id")
            items = [t for t in items if t.get("parent_id") == parent]
        if q.get("tenant_level") is not None:
            level = _positive(q.get("tenant_level"), "tenant_level", 1)
            items = [t for t in items if api.level(t) == level]
        return _page([api.show(t) for t in items], request)

    @r.post("", status_code=201, tags=["tenants"])
    async def create_tenant(request: Request, roles: Roles) -> Response:
        body = await _body(request)
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ErrorAnswer(400, "validation_error", "name is required")
        parent = body.get("parent_id")
        if parent is not None:
            api.tenant(str(parent))
        fields: dict[str, Any] = {
            "name": name,
            "display_name": body.get("display_name"),
            "parent_id": parent,
            "status": "active",
            "configuration": {},
        }
        try:
            tenant = store.insert(TENANTS, fields, key=name)
        except Conflict:
            raise ErrorAnswer(409, "conflict", f"a tenant named '{name}' exists") from None
        return json_response(api.show(tenant), 201)

    @r.get("/{tenant_id}", tags=["tenants"])
    async def get_tenant(tenant_id: str, roles: Roles) -> Response:
        return json_response(api.show(api.tenant(tenant_id)))

    @r.patch("/{tenant_id}", tags=["tenants"])
    async def update_tenant(tenant_id: str, request: Request, roles: Roles) -> Response:
        tenant = api.tenant(tenant_id)
        body = await _body(request)
        if "parent_id" in body and body["parent_id"] is not None:
            api.tenant(str(body["parent_id"]))
        changes: dict[str, Any] = {k: body[k] for k in ("display_name", "parent_id") if k in body}
        return json_response(api.show(store.update(TENANTS, {**tenant, **changes})))

    for action, (before, after) in TRANSITIONS.items():

        def lifecycle(action: str = action, before: str = before, after: str = after) -> Any:
            async def move(tenant_id: str, roles: Roles) -> Response:
                tenant = api.tenant(tenant_id)
                if not roles & ELEVATED:
                    raise ErrorAnswer(403, "permission_denied", "platform admin role required")
                if tenant["status"] != before:
                    raise ErrorAnswer(
                        409,
                        "invalid_transition",
                        f"cannot {action} a tenant that is {tenant['status']}",
                    )
                return json_response(api.show(store.update(TENANTS, {**tenant, "status": after})))

            return move

        r.add_api_route(
            f"/{{tenant_id}}/{action}", lifecycle(), methods=["POST"], tags=["lifecycle"]
        )

    @r.get("/{tenant_id}/children", tags=["hierarchy"])
    async def children(tenant_id: str, request: Request, roles: Roles) -> Response:
        parent = api.tenant(tenant_id)
        kids = [api.show(t) for t in api.all(TENANTS) if t.get("parent_id") == parent["id"]]
        return _page(kids, request)

    @r.get("/{tenant_id}/hierarchy", tags=["hierarchy"])
    async def hierarchy(tenant_id: str, roles: Roles) -> Response:
        everyone = api.all(TENANTS)

        def tree(node: Obj) -> dict[str, Any]:
            kids = [t for t in everyone if t.get("parent_id") == node["id"]]
            return {"id": node["id"], "name": node["name"], "children": [tree(k) for k in kids]}

        return json_response(tree(api.tenant(tenant_id)))

    def answer(config: Mapping[str, Any]) -> Response:
        wrapper = api.options().configuration_response_wrapper
        return json_response(dict(config) if wrapper is None else {wrapper: config})

    @r.get("/{tenant_id}/configuration", tags=["configuration"])
    async def get_configuration(tenant_id: str, roles: Roles) -> Response:
        return answer(api.tenant(tenant_id)["configuration"])

    @r.patch("/{tenant_id}/configuration", tags=["configuration"])
    async def patch_configuration(tenant_id: str, request: Request, roles: Roles) -> Response:
        tenant = api.tenant(tenant_id)
        config = dict(tenant["configuration"])
        body = await _body(request)
        wrapper = api.options().configuration_request_wrapper
        if wrapper is not None:
            inner = body.get(wrapper)
            if not isinstance(inner, dict):
                raise ErrorAnswer(400, "validation_error", f"{wrapper} is required")
            body = inner
        for key, value in body.items():
            if value is None:
                config.pop(key, None)
            else:
                config[key] = value
        store.update(TENANTS, {**tenant, "configuration": config})
        return answer(config)

    @r.get("/{tenant_id}/feature-flags", tags=["feature flags"])
    async def list_flags(tenant_id: str, roles: Roles) -> Response:
        tenant = api.tenant(tenant_id)
        flags = [
            {"key": f["key"], "enabled": f["enabled"]} for f in api.scoped(FLAGS, tenant["id"])
        ]
        return json_response({"data": flags})

    @r.post("/{tenant_id}/feature-flags", status_code=201, tags=["feature flags"])
    async def create_flag(tenant_id: str, request: Request, roles: Roles) -> Response:
        tenant = api.tenant(tenant_id)
        body = await _body(request)
        key, enabled = body.get("key"), body.get("enabled", True)
        if not isinstance(key, str) or not key or not isinstance(enabled, bool):
            raise ErrorAnswer(
                400, "validation_error", "key (string) and enabled (boolean) required"
            )
        try:
            flag = store.insert(
                FLAGS, {"key": key, "enabled": enabled}, key=key, scope=tenant["id"]
            )
        except Conflict:
            raise ErrorAnswer(409, "conflict", f"flag '{key}' exists") from None
        return json_response({"key": flag["key"], "enabled": flag["enabled"]}, 201)

    @r.delete("/{tenant_id}/feature-flags/{flag_key}", status_code=204, tags=["feature flags"])
    async def delete_flag(tenant_id: str, flag_key: str, roles: Roles) -> Response:
        tenant = api.tenant(tenant_id)
        flag = store.find(FLAGS, flag_key, scope=tenant["id"])
        if flag is None:
            raise ErrorAnswer(404, "not_found", f"flag '{flag_key}' not found")
        store.delete(FLAGS, flag["id"])
        return Response(status_code=204)

    def role_fields(body: dict[str, Any]) -> dict[str, Any]:
        name, permissions = body.get("name"), body.get("permissions", [])
        if not isinstance(name, str) or not name:
            raise ErrorAnswer(400, "validation_error", "name is required")
        if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
            raise ErrorAnswer(400, "validation_error", "permissions must be a list of strings")
        # As strict as the strictest server met: a description, when sent, is a string;
        # a role without one leaves the key out (``null`` is refused).
        description = body.get("description")
        if "description" in body and not isinstance(description, str):
            raise ErrorAnswer(400, "validation_error", "description must be a string")
        return {"name": name, "description": description, "permissions": permissions}

    def role(tenant: Obj, role_id: str) -> Obj:
        found = store.get(ROLES, _uuid(role_id, "role_id"))
        if found is None or found.get("tenant_id") != tenant["id"]:
            raise ErrorAnswer(404, "not_found", f"role {role_id} not found")
        return found

    @r.get("/{tenant_id}/roles", tags=["roles"])
    async def list_roles(tenant_id: str, roles: Roles) -> Response:
        return json_response({"data": api.scoped(ROLES, api.tenant(tenant_id)["id"])})

    @r.post("/{tenant_id}/roles", status_code=201, tags=["roles"])
    async def create_role(tenant_id: str, request: Request, roles: Roles) -> Response:
        tenant = api.tenant(tenant_id)
        fields = role_fields(await _body(request)) | {"tenant_id": tenant["id"]}
        try:
            made = store.insert(ROLES, fields, key=fields["name"], scope=tenant["id"])
        except Conflict:
            raise ErrorAnswer(409, "conflict", f"role '{fields['name']}' exists") from None
        return json_response(made, 201)

    @r.put("/{tenant_id}/roles/{role_id}", tags=["roles"])
    async def update_role(tenant_id: str, role_id: str, request: Request, roles: Roles) -> Response:
        tenant = api.tenant(tenant_id)
        existing = role(tenant, role_id)
        fields = role_fields(await _body(request))
        return json_response(store.update(ROLES, {**existing, **fields}, key=fields["name"]))

    @r.delete("/{tenant_id}/roles/{role_id}", status_code=204, tags=["roles"])
    async def delete_role(tenant_id: str, role_id: str, roles: Roles) -> Response:
        tenant = api.tenant(tenant_id)
        store.delete(ROLES, role(tenant, role_id)["id"])
        return Response(status_code=204)

    @r.get("/{tenant_id}/role-assignments", tags=["role assignments"])
    async def list_grants(tenant_id: str, roles: Roles) -> Response:
        return json_response({"data": api.scoped(GRANTS, api.tenant(tenant_id)["id"])})

    @r.post("/{tenant_id}/role-assignments", status_code=201, tags=["role assignments"])
    async def create_grant(tenant_id: str, request: Request, roles: Roles) -> Response:
        tenant = api.tenant(tenant_id)
        body = await _body(request)
        role(tenant, str(body.get("role_id", "")))
        user = _uuid(str(body.get("user_id", "")), "user_id")
        for grant in api.scoped(GRANTS, tenant["id"]):
            if (
                grant["role_id"] == body["role_id"]
                and grant["user_id"] == user
                and grant["status"] == "active"
            ):
                raise ErrorAnswer(409, "conflict", "the user already holds this role")
        fields = {"role_id": body["role_id"], "user_id": user, "status": "active"}
        return json_response(store.insert(GRANTS, fields, scope=tenant["id"]), 201)

    @r.post("/{tenant_id}/role-assignments/{assignment_id}/revoke", tags=["role assignments"])
    async def revoke(tenant_id: str, assignment_id: str, roles: Roles) -> Response:
        tenant = api.tenant(tenant_id)
        wanted = _uuid(assignment_id, "assignment_id")
        # only an assignment of this tenant: another tenant's is not found here
        grant = next((g for g in api.scoped(GRANTS, tenant["id"]) if g["id"] == wanted), None)
        if grant is None or grant.get("status") != "active":
            raise ErrorAnswer(404, "not_found", f"assignment {assignment_id} not found")
        return json_response(store.update(GRANTS, {**grant, "status": "revoked"}))

    return r


def install(app: FastAPI, store: Store, token: str) -> None:
    install_error_handlers(app)  # {"error": code, "message": ...} as the document shows
    app.state.tenants_v1 = (token, Tenants(store))
    app.include_router(router(store, token))


def seed(store: Store, data: Mapping[str, Any]) -> None:
    """``{tokens: [{token, roles: [...]}]}``: more callers, with the roles they hold.

    ``options:`` (the target options of docs/apis/tenants-v1.md, camelCase) makes
    the sandbox answer the way a target configured with them expects; a bad one
    is a ValueError before the server starts. Seeding again replaces them.
    """
    if "options" in data:
        options = TenantsV1Options.model_validate(dict(data["options"] or {}))
        found = store.find(SETTINGS, "options", scope="options")
        if found is not None:
            store.delete(SETTINGS, str(found["id"]))
        row = {"options": options.model_dump(by_alias=True)}
        store.insert(SETTINGS, row, key="options", scope="options")
    for entry in data.get("tokens", []):
        store.insert(
            SETTINGS,
            {"token": entry["token"], "roles": list(entry.get("roles", []))},
            scope="tokens",
        )


DIALECT = Dialect(
    name="tenants-v1",
    title="Tenants API (lifecycle, hierarchy, configuration, flags, roles)",
    collections=(
        Collection(TENANTS),
        Collection(FLAGS),
        Collection(ROLES),
        Collection(GRANTS),
        Collection(SETTINGS),
    ),
    install=install,
    seed=seed,
)

"""The ``tenants-v1`` dialect: a gateway's tenants API with lifecycle, hierarchy and roles.

After document ``004``: ``/v1/tenants`` (``page``/``limit`` lists, create, get,
``PATCH``), lifecycle (``suspend``, ``resume``, ``activate``, ``deactivate``:
elevated role or 403), ``children`` and ``hierarchy``, ``configuration``,
feature flags (list, create, delete by key), roles (CRUD) and role assignments
(create, revoke). Path ids must be UUIDs (400 ``validation_error``). Choices
where the document is silent: docs/apis/tenants-v1.md; each is an option the
sandbox takes as a target does (``options:`` in its seed), so bodies, listings
and errors travel as they say (:mod:`tenants_v1_state`).
"""

from __future__ import annotations

import json
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.responses import Response

from reconciler.sandbox.common import ErrorAnswer, api_router, install_error_handlers, json_response
from reconciler.sandbox.dialect import Dialect
from reconciler.sandbox.dialects.tenants_v1_state import (
    DEFAULT_LIMIT,
    FLAGS,
    GRANTS,
    MAX_LIMIT,
    ROLES,
    SETTINGS,
    TENANTS,
    Shapes,
    Tenants,
    check_uuid,
    positive,
    seed,
)
from reconciler.sandbox.store import Collection, Conflict, Obj, Store

PREFIX = "/v1/tenants"
GATEWAY_ROLES = frozenset({"tenant_admin", "platform_admin", "system_admin", "super_admin"})
ELEVATED = frozenset({"platform_admin", "platform_operator", "system_admin", "super_admin"})
TRANSITIONS = {
    "suspend": ("active", "suspended"),
    "resume": ("suspended", "active"),
    "deactivate": ("active", "inactive"),
    "activate": ("inactive", "active"),
}
_bearer = HTTPBearer(auto_error=False)


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


def _page(api: Tenants, items: list[Obj], request: Request) -> Response:
    """Tenants paged by ``page`` and ``limit`` (documented: positive integers; more
    than 100 is served as 100), the answer's keys as ``lists.tenants`` says."""
    q, shapes = request.query_params, Shapes(api.options())
    page = positive(q.get("page"), "page", 1)
    cap = min(MAX_LIMIT, api.max_page() or MAX_LIMIT)
    limit = min(positive(q.get("limit"), "limit", DEFAULT_LIMIT), cap)
    listing = shapes.options.lists.tenants
    return shapes.listed(
        "tenant",
        listing,
        items,
        request,
        max_page=cap,
        default_limit=DEFAULT_LIMIT,
        extra={"page": page, "limit": limit},
    )


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

    def shapes() -> Shapes:
        """The names and envelopes of the options the sandbox was seeded with."""
        return Shapes(api.options())

    @r.get("", tags=["tenants"])
    async def list_tenants(request: Request, roles: Roles) -> Response:
        q = request.query_params
        items = api.all(TENANTS)
        if q.get("parent_id") is not None:
            parent = check_uuid(q["parent_id"], "parent_id")
            items = [t for t in items if t.get("parent_id") == parent]
        if q.get("tenant_level") is not None:
            level = positive(q.get("tenant_level"), "tenant_level", 1)
            items = [t for t in items if api.level(t) == level]
        return _page(api, [api.show(t) for t in items], request)

    @r.post("", status_code=201, tags=["tenants"])
    async def create_tenant(request: Request, roles: Roles) -> Response:
        shape = shapes()
        body = shape.taken("tenant", await _body(request))
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ErrorAnswer(
                400, "validation_error", f"{shape.name('tenant', 'name')} is required"
            )
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
        return shape.one("tenant", api.show(tenant), 201)

    @r.get("/{tenant_id}", tags=["tenants"])
    async def get_tenant(tenant_id: str, roles: Roles) -> Response:
        return shapes().one("tenant", api.show(api.tenant(tenant_id)))

    @r.patch("/{tenant_id}", tags=["tenants"])
    async def update_tenant(tenant_id: str, request: Request, roles: Roles) -> Response:
        tenant, shape = api.tenant(tenant_id), shapes()
        body = shape.taken("tenant", await _body(request))
        if body.get("parent_id") is not None:
            api.tenant(str(body["parent_id"]))
        changes: dict[str, Any] = {k: body[k] for k in ("display_name", "parent_id") if k in body}
        return shape.one("tenant", api.show(store.update(TENANTS, {**tenant, **changes})))

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
                moved = store.update(TENANTS, {**tenant, "status": after})
                return shapes().one("tenant", api.show(moved))

            return move

        r.add_api_route(
            f"/{{tenant_id}}/{action}", lifecycle(), methods=["POST"], tags=["lifecycle"]
        )

    @r.get("/{tenant_id}/children", tags=["hierarchy"])
    async def children(tenant_id: str, request: Request, roles: Roles) -> Response:
        parent = api.tenant(tenant_id)
        kids = [api.show(t) for t in api.all(TENANTS) if t.get("parent_id") == parent["id"]]
        return _page(api, kids, request)

    @r.get("/{tenant_id}/hierarchy", tags=["hierarchy"])
    async def hierarchy(tenant_id: str, roles: Roles) -> Response:
        everyone, shape = api.all(TENANTS), shapes()

        def tree(node: Obj) -> dict[str, Any]:
            kids = [t for t in everyone if t.get("parent_id") == node["id"]]
            shown = shape.shown("tenant", {"id": node["id"], "name": node["name"]})
            return shown | {"children": [tree(k) for k in kids]}

        return json_response(tree(api.tenant(tenant_id)))

    def answer(config: dict[str, Any]) -> Response:
        wrapper = api.options().configuration_response_wrapper
        return json_response(config if wrapper is None else {wrapper: config})

    @r.get("/{tenant_id}/configuration", tags=["configuration"])
    async def get_configuration(tenant_id: str, roles: Roles) -> Response:
        return answer(dict(api.tenant(tenant_id)["configuration"]))

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
    async def list_flags(tenant_id: str, request: Request, roles: Roles) -> Response:
        tenant, shape = api.tenant(tenant_id), shapes()
        flags = [
            {"key": f["key"], "enabled": f["enabled"]} for f in api.scoped(FLAGS, tenant["id"])
        ]
        listing = shape.options.lists.flags
        return shape.listed("flag", listing, flags, request, max_page=api.max_page())

    @r.post("/{tenant_id}/feature-flags", status_code=201, tags=["feature flags"])
    async def create_flag(tenant_id: str, request: Request, roles: Roles) -> Response:
        tenant, shape = api.tenant(tenant_id), shapes()
        body = shape.taken("flag", await _body(request))
        key, enabled = body.get("key"), body.get("enabled", True)
        if not isinstance(key, str) or not key or not isinstance(enabled, bool):
            names = shape.name("flag", "key"), shape.name("flag", "enabled")
            raise ErrorAnswer(
                400, "validation_error", "{} (string) and {} (boolean) required".format(*names)
            )
        try:
            flag = store.insert(
                FLAGS, {"key": key, "enabled": enabled}, key=key, scope=tenant["id"]
            )
        except Conflict:
            raise ErrorAnswer(409, "conflict", f"flag '{key}' exists") from None
        return shape.one("flag", {"key": flag["key"], "enabled": flag["enabled"]}, 201)

    @r.delete("/{tenant_id}/feature-flags/{flag_key}", status_code=204, tags=["feature flags"])
    async def delete_flag(tenant_id: str, flag_key: str, roles: Roles) -> Response:
        tenant = api.tenant(tenant_id)
        flag = store.find(FLAGS, flag_key, scope=tenant["id"])
        if flag is None:
            raise ErrorAnswer(404, "not_found", f"flag '{flag_key}' not found")
        store.delete(FLAGS, flag["id"])
        return Response(status_code=204)

    def role_fields(shape: Shapes, sent: dict[str, Any]) -> dict[str, Any]:
        body = shape.taken("role", sent)
        name, permissions = body.get("name"), body.get("permissions", [])
        names = {f: shape.name("role", f) for f in ("name", "description", "permissions")}
        if not isinstance(name, str) or not name:
            raise ErrorAnswer(400, "validation_error", f"{names['name']} is required")
        if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
            message = f"{names['permissions']} must be a list of strings"
            raise ErrorAnswer(400, "validation_error", message)
        # As strict as the strictest server met: a description, when sent, is a string;
        # a role without one leaves the key out (``null`` is refused).
        description = body.get("description")
        if "description" in body and not isinstance(description, str):
            message = f"{names['description']} must be a string"
            raise ErrorAnswer(400, "validation_error", message)
        return {"name": name, "description": description, "permissions": permissions}

    def role(tenant: Obj, role_id: str) -> Obj:
        found = store.get(ROLES, check_uuid(role_id, "role_id"))
        if found is None or found.get("tenant_id") != tenant["id"]:
            raise ErrorAnswer(404, "not_found", f"role {role_id} not found")
        return found

    @r.get("/{tenant_id}/roles", tags=["roles"])
    async def list_roles(tenant_id: str, request: Request, roles: Roles) -> Response:
        tenant, shape = api.tenant(tenant_id), shapes()
        held = api.scoped(ROLES, tenant["id"])
        listing = shape.options.lists.roles
        return shape.listed("role", listing, held, request, max_page=api.max_page())

    @r.post("/{tenant_id}/roles", status_code=201, tags=["roles"])
    async def create_role(tenant_id: str, request: Request, roles: Roles) -> Response:
        tenant, shape = api.tenant(tenant_id), shapes()
        fields = role_fields(shape, await _body(request)) | {"tenant_id": tenant["id"]}
        try:
            made = store.insert(ROLES, fields, key=fields["name"], scope=tenant["id"])
        except Conflict:
            raise ErrorAnswer(409, "conflict", f"role '{fields['name']}' exists") from None
        return shape.one("role", made, 201)

    @r.put("/{tenant_id}/roles/{role_id}", tags=["roles"])
    async def update_role(tenant_id: str, role_id: str, request: Request, roles: Roles) -> Response:
        tenant, shape = api.tenant(tenant_id), shapes()
        existing = role(tenant, role_id)
        fields = role_fields(shape, await _body(request))
        updated = store.update(ROLES, {**existing, **fields}, key=fields["name"])
        return shape.one("role", updated)

    @r.delete("/{tenant_id}/roles/{role_id}", status_code=204, tags=["roles"])
    async def delete_role(tenant_id: str, role_id: str, roles: Roles) -> Response:
        tenant = api.tenant(tenant_id)
        store.delete(ROLES, role(tenant, role_id)["id"])
        return Response(status_code=204)

    @r.get("/{tenant_id}/role-assignments", tags=["role assignments"])
    async def list_grants(tenant_id: str, request: Request, roles: Roles) -> Response:
        tenant, shape = api.tenant(tenant_id), shapes()
        granted = api.scoped(GRANTS, tenant["id"])
        listing = shape.options.lists.role_assignments
        return shape.listed("role_assignment", listing, granted, request, max_page=api.max_page())

    @r.post("/{tenant_id}/role-assignments", status_code=201, tags=["role assignments"])
    async def create_grant(tenant_id: str, request: Request, roles: Roles) -> Response:
        tenant, shape = api.tenant(tenant_id), shapes()
        body = shape.taken("role_assignment", await _body(request))
        role_id = str(role(tenant, str(body.get("role_id", "")))["id"])
        user_name = shape.name("role_assignment", "user_id")
        user = check_uuid(str(body.get("user_id", "")), user_name)
        for grant in api.scoped(GRANTS, tenant["id"]):
            if (
                grant["role_id"] == role_id
                and grant["user_id"] == user
                and grant["status"] == "active"
            ):
                raise ErrorAnswer(409, "conflict", "the user already holds this role")
        fields = {"role_id": role_id, "user_id": user, "status": "active"}
        made = store.insert(GRANTS, fields, scope=tenant["id"])
        return shape.one("role_assignment", made, 201)

    @r.post("/{tenant_id}/role-assignments/{assignment_id}/revoke", tags=["role assignments"])
    async def revoke(tenant_id: str, assignment_id: str, roles: Roles) -> Response:
        tenant = api.tenant(tenant_id)
        wanted = check_uuid(assignment_id, "assignment_id")
        # only an assignment of this tenant: another tenant's is not found here
        grant = next((g for g in api.scoped(GRANTS, tenant["id"]) if g["id"] == wanted), None)
        if grant is None or grant.get("status") != "active":
            raise ErrorAnswer(404, "not_found", f"assignment {assignment_id} not found")
        revoked = store.update(GRANTS, {**grant, "status": "revoked"})
        return shapes().one("role_assignment", revoked)

    return r


def install(app: FastAPI, store: Store, token: str) -> None:
    api = Tenants(store)

    def error(status: int, code: str, message: str) -> dict[str, Any]:
        # {"error": code, "message": ...} as the document shows, or the words at
        # the key the options name (errors the platform service sends through)
        return Shapes(api.options()).error(status, code, message)

    install_error_handlers(app, error)
    app.state.tenants_v1 = (token, api)
    app.include_router(router(store, token))


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

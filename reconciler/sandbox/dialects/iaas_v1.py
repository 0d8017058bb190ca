"""The ``iaas-v1`` dialect: an IaaS operator API of users and tenants with WireGuard members.

After document ``001``: under ``${API_BASE_URL}`` (here ``/api``), ``/users``
(list, create, ``PUT`` the whole user, delete, ``/users/me``) and ``/tenants``
(list, create with members, delete; **no update**), membership by ``PUT`` /
``DELETE /tenants/{tenant_id}/users/{user_id}`` with the member's WireGuard
``pubkey``. Each user belongs to one tenant at most; deleting a user removes
its membership. Choices where the document is silent: docs/apis/iaas-v1.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.responses import Response

from reconciler.sandbox.common import ApiError, bearer_auth, install_error_handlers, json_response
from reconciler.sandbox.dialect import Dialect
from reconciler.sandbox.store import Collection, Conflict, Obj, Store

PREFIX = "/api"
USERS, TENANTS, SETTINGS = "users", "tenants", "settings"
ROLES = ("member", "operator")
EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
ME = {"email": "operator@iaas.local", "role": "operator"}


def _error(status: int, code: str, message: str) -> dict[str, str]:
    return {"detail": message}  # the FastAPI shape the document's Swagger UI implies


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, "validation_error", "request body must be JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "validation_error", "request body must be a JSON object")
    return body


def _user_body(body: dict[str, Any]) -> dict[str, Any]:
    email, role = body.get("email"), body.get("role")
    if not isinstance(email, str) or not EMAIL.match(email):
        raise ApiError(400, "validation_error", "email: a valid email address is required")
    if role not in ROLES:
        raise ApiError(400, "validation_error", f"role: must be one of {', '.join(ROLES)}")
    ssh = body.get("ssh_key_id")
    if ssh is not None and not isinstance(ssh, str):
        raise ApiError(400, "validation_error", "ssh_key_id: must be a string or null")
    return {"email": email, "role": role, "ssh_key_id": ssh}


def _pubkey(body: dict[str, Any]) -> str:
    key = body.get("pubkey")
    if not isinstance(key, str) or not key.strip():
        raise ApiError(
            400, "validation_error", "pubkey: the member's WireGuard public key is required"
        )
    return key


class Iaas:
    """Users and tenants; a user's membership lives on the user (one tenant at most)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def extra(self) -> bool:
        quirks = self.store.find(SETTINGS, "quirks")
        return bool(quirks and quirks.get("extra_fields"))

    def _all(self, collection: str) -> list[Obj]:
        rows, _ = self.store.page(collection, 1_000_000, 0)
        return [json.loads(r) for r in rows]

    def user(self, user_id: str) -> Obj:
        user = self.store.get(USERS, user_id)
        if user is None:
            raise ApiError(404, "not_found", f"user {user_id} not found")
        return user

    def tenant(self, tenant_id: str) -> Obj:
        tenant = self.store.get(TENANTS, tenant_id)
        if tenant is None:
            raise ApiError(404, "not_found", f"tenant {tenant_id} not found")
        return tenant

    def show_user(self, user: Obj) -> dict[str, Any]:
        shown = {k: user.get(k) for k in ("id", "email", "role", "ssh_key_id", "created_at")}
        return shown | ({"last_seen": None} if self.extra() else {})

    def show_tenant(self, tenant: Obj) -> dict[str, Any]:
        members = [
            {"user_id": u["id"], "pubkey": u["pubkey"]}
            for u in self._all(USERS)
            if u.get("tenant_id") == tenant["id"]
        ]
        shown = {"id": tenant["id"], "name": tenant["name"], "users": members}
        return shown | ({"subnet": "10.0.0.0/24"} if self.extra() else {})

    def join(self, tenant_id: str, user_id: str, pubkey: str) -> Obj:
        user = self.user(user_id)
        current = user.get("tenant_id")
        if current and current != tenant_id:
            raise ApiError(409, "conflict", f"user {user_id} already belongs to tenant {current}")
        return self.store.update(USERS, {**user, "tenant_id": tenant_id, "pubkey": pubkey})


def router(store: Store, token: str) -> APIRouter:
    api = Iaas(store)
    r = APIRouter(prefix=PREFIX, dependencies=[Depends(bearer_auth(token))])

    @r.get("/users/me", tags=["users"])
    async def me() -> Response:
        found = store.find(SETTINGS, "me") or ME
        return json_response({"email": found["email"], "role": found["role"]})

    @r.get("/users", tags=["users"])
    async def list_users() -> Response:
        return json_response([api.show_user(u) for u in api._all(USERS)])

    @r.post("/users", status_code=201, tags=["users"])
    async def create_user(request: Request) -> Response:
        fields = _user_body(await _json(request))
        try:
            user = store.insert(USERS, fields, key=fields["email"].lower())
        except Conflict:
            raise ApiError(409, "conflict", f"a user with email {fields['email']} exists") from None
        return json_response(api.show_user(user), 201)

    @r.put("/users/{user_id}", tags=["users"])
    async def update_user(user_id: str, request: Request) -> Response:
        user = api.user(user_id)
        fields = _user_body(await _json(request))
        try:
            user = store.update(USERS, {**user, **fields}, key=fields["email"].lower())
        except Conflict:
            raise ApiError(409, "conflict", f"a user with email {fields['email']} exists") from None
        return json_response(api.show_user(user))

    @r.delete("/users/{user_id}", status_code=204, tags=["users"])
    async def delete_user(user_id: str) -> Response:
        store.delete(USERS, api.user(user_id)["id"])  # its membership goes with it
        return Response(status_code=204)

    @r.get("/tenants", tags=["tenants"])
    async def list_tenants() -> Response:
        return json_response([api.show_tenant(t) for t in api._all(TENANTS)])

    @r.post("/tenants", status_code=201, tags=["tenants"])
    async def create_tenant(request: Request) -> Response:
        body = await _json(request)
        name, members = body.get("name"), body.get("users", [])
        if not isinstance(name, str) or not name.strip():
            raise ApiError(400, "validation_error", "name: required")
        if not isinstance(members, list):
            raise ApiError(400, "validation_error", "users: must be a list")
        for member in members:
            if not isinstance(member, dict) or not isinstance(member.get("user_id"), str):
                raise ApiError(400, "validation_error", "users: each needs user_id and pubkey")
            _pubkey(member)
            user = api.user(member["user_id"])
            if user.get("tenant_id"):
                raise ApiError(409, "conflict", f"user {user['id']} already belongs to a tenant")
        with store.transaction():
            try:
                tenant = store.insert(TENANTS, {"name": name}, key=name)
            except Conflict:
                raise ApiError(409, "conflict", f"a tenant named {name} exists") from None
            for member in members:
                api.join(tenant["id"], member["user_id"], member["pubkey"])
        return json_response(api.show_tenant(tenant), 201)

    @r.delete("/tenants/{tenant_id}", status_code=204, tags=["tenants"])
    async def delete_tenant(tenant_id: str) -> Response:
        tenant = api.tenant(tenant_id)
        with store.transaction():
            for user in api._all(USERS):
                if user.get("tenant_id") == tenant_id:
                    store.update(USERS, {**user, "tenant_id": None, "pubkey": None})
            store.delete(TENANTS, tenant["id"])
        return Response(status_code=204)

    @r.put("/tenants/{tenant_id}/users/{user_id}", tags=["membership"])
    async def add_member(tenant_id: str, user_id: str, request: Request) -> Response:
        api.tenant(tenant_id)
        pubkey = _pubkey(await _json(request))
        api.join(tenant_id, user_id, pubkey)
        return json_response(api.show_tenant(api.tenant(tenant_id)))

    @r.delete("/tenants/{tenant_id}/users/{user_id}", status_code=204, tags=["membership"])
    async def remove_member(tenant_id: str, user_id: str) -> Response:
        api.tenant(tenant_id)
        user = api.user(user_id)
        if user.get("tenant_id") != tenant_id:
            raise ApiError(404, "not_found", f"user {user_id} is not a member of {tenant_id}")
        store.update(USERS, {**user, "tenant_id": None, "pubkey": None})
        return Response(status_code=204)

    return r


def install(app: FastAPI, store: Store, token: str) -> None:
    install_error_handlers(app, _error)
    app.include_router(router(store, token))


def seed(store: Store, data: Mapping[str, Any]) -> None:
    """``{me: {email, role}, users: [{email, role}], quirks: {extra_fields: true}}``."""
    if data.get("me"):
        store.insert(SETTINGS, dict(data["me"]), key="me")
    for user in data.get("users", []):
        fields = {"email": user["email"], "role": user.get("role", "member"), "ssh_key_id": None}
        store.insert(USERS, fields, key=user["email"].lower())
    if data.get("quirks"):
        store.insert(SETTINGS, dict(data["quirks"]), key="quirks")


DIALECT = Dialect(
    name="iaas-v1",
    title="IaaS operator API (users, tenants, WireGuard membership)",
    collections=(Collection(USERS), Collection(TENANTS), Collection(SETTINGS)),
    install=install,
    seed=seed,
)

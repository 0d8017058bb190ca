"""The ``iaas-v1`` dialect: an IaaS operator API of users and tenants with WireGuard members.

After document ``001``: under ``${API_BASE_URL}`` (here ``/api``), ``/users``
(list, create, ``PUT`` the whole user, delete, ``/users/me``) and ``/tenants``
(list, create with members, delete; **no update**), membership by ``PUT`` /
``DELETE /tenants/{tenant_id}/users/{user_id}`` with the member's WireGuard
``pubkey``. Each user belongs to one tenant at most; deleting a user removes
its membership. Choices where the document is silent: docs/apis/iaas-v1.md;
each is a target option, and a sandbox seeded with ``options:`` answers as a
server that made those choices would.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.responses import Response

from reconciler.options.common import Listing
from reconciler.options.iaas_v1 import IaasV1Options
from reconciler.sandbox.common import (
    ErrorRenderer,
    api_router,
    bearer_auth,
    conflict,
    install_error_handlers,
    invalid,
    json_response,
    not_found,
    raw_json_response,
)
from reconciler.sandbox.dialect import Dialect
from reconciler.sandbox.dialects.reference_bodies import keep_options, message_at, seeded_options
from reconciler.sandbox.listing import answer, asked
from reconciler.sandbox.store import Collection, Conflict, Obj, Store, dumps

PREFIX = "/api"
USERS, TENANTS, SETTINGS = "users", "tenants", "settings"
ROLES = ("member", "operator")
EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
TENANT_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
"""Tenant names as the document writes them (``project-alpha``): they name networks."""
PUBKEY = re.compile(r"^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$")
"""A WireGuard public key: 32 bytes in base64."""
ME = {"email": "operator@iaas.local", "role": "operator"}
"""Who the token belongs to when no ``me`` is seeded (not a listed user then)."""

EVERYTHING = 1_000_000
"""Served at once when no page size is asked for and no ``max_page`` is seeded."""


def _error_body(store: Store) -> ErrorRenderer:
    """``{"detail": …}``, the FastAPI shape the document's Swagger UI implies, or the
    message at the seeded ``errors.message`` key."""

    def render(status: int, code: str, message: str) -> Any:
        key = seeded_options(store, SETTINGS, IaasV1Options).errors.message
        return message_at(key or "detail", message)

    return render


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise invalid("request body must be JSON") from None
    if not isinstance(body, dict):
        raise invalid("request body must be a JSON object")
    return body


def _user_body(body: dict[str, Any]) -> dict[str, Any]:
    """The whole user, as both ``POST`` and ``PUT`` take it."""
    email, role, ssh = body.get("email"), body.get("role"), body.get("ssh_key_id")
    if not isinstance(email, str) or not EMAIL.match(email):
        raise invalid("email: a valid email address is required")
    if role not in ROLES:
        raise invalid(f"role: must be one of {', '.join(ROLES)}")
    if ssh is not None and not isinstance(ssh, str):
        raise invalid("ssh_key_id: must be a string or null")
    return {"email": email, "role": role, "ssh_key_id": ssh}


def _pubkey(body: dict[str, Any]) -> str:
    key = body.get("pubkey")
    if not isinstance(key, str) or not key:
        raise invalid("pubkey: the member's WireGuard public key is required")
    if not PUBKEY.match(key):
        raise invalid("pubkey: not a WireGuard public key (32 bytes in base64)")
    return key


class Iaas:
    """Users and tenants; a user's membership lives on the user (one tenant at most)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def quirk(self, name: str) -> Any:
        quirks = self.store.find(SETTINGS, "quirks")
        return quirks.get(name) if quirks else None

    def options(self) -> IaasV1Options:
        """The target options this sandbox was seeded with (``options:``), else the defaults."""
        return seeded_options(self.store, SETTINGS, IaasV1Options)

    def all(self, collection: str) -> list[Obj]:
        rows, _ = self.store.page(collection, EVERYTHING, 0)
        return [json.loads(r) for r in rows]

    def listed(self, request: Request, listing: Listing, objects: list[Any]) -> Response:
        """The window of ``objects`` a request asks for, answered as ``listing`` says.

        By default a bare array, ``skip``/``limit`` when asked (FastAPI's usual),
        everything without; the ``max_page`` quirk caps every answer.
        """
        cap = self.quirk("max_page")
        most = int(cap) if cap is not None else EVERYTHING
        window = asked(request.query_params, listing, max_page=most, default_limit=EVERYTHING)
        page = [dumps(o) for o in objects[window.offset : window.offset + window.limit]]
        path = request.url.path
        return raw_json_response(answer(listing, window, page, len(objects), path=path))

    def user(self, user_id: str) -> Obj:
        user = self.store.get(USERS, user_id)
        if user is None:
            raise not_found(f"user {user_id}")
        return user

    def tenant(self, tenant_id: str) -> Obj:
        tenant = self.store.get(TENANTS, tenant_id)
        if tenant is None:
            raise not_found(f"tenant {tenant_id}")
        return tenant

    def show_user(self, user: Obj, options: IaasV1Options | None = None) -> dict[str, Any]:
        shown = {(options or self.options()).id_field: user["id"]}
        shown |= {k: user.get(k) for k in ("email", "role", "ssh_key_id", "created_at")}
        return shown | (
            {"last_login": None, "is_active": True} if self.quirk("extra_fields") else {}
        )

    def members(self) -> dict[str, list[dict[str, Any]]]:
        """tenant id → its members as the listing shows them (``memberUserId``'s first key)."""
        extra = self.quirk("extra_fields")
        user_id = self.options().member_user_id[0]
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for u in self.all(USERS):
            if u.get("tenant_id"):
                member = {user_id: u["id"], "pubkey": u["pubkey"]}
                found[u["tenant_id"]].append(member | ({"allowed_ips": []} if extra else {}))
        return found

    def show_tenant(
        self,
        tenant: Obj,
        members: Mapping[str, list[dict[str, Any]]],
        options: IaasV1Options | None = None,
    ) -> Obj:
        options = options or self.options()
        shown = {
            options.id_field: tenant["id"],
            "name": tenant["name"],
            options.tenant_members[0]: members.get(tenant["id"], []),
            "created_at": tenant["created_at"],
        }
        return shown | ({"subnet": "10.8.0.0/24"} if self.quirk("extra_fields") else {})

    def join(self, tenant_id: str, user_id: str, pubkey: str) -> Obj:
        """Put a user in a tenant, or change its key there; never in a second tenant."""
        user = self.user(user_id)
        current = user.get("tenant_id")
        if current and current != tenant_id:
            raise conflict(f"user {user_id} already belongs to tenant {current}")
        return self.store.update(USERS, {**user, "tenant_id": tenant_id, "pubkey": pubkey})

    def leave(self, user: Obj) -> None:
        self.store.update(USERS, {**user, "tenant_id": None, "pubkey": None})


def _user_routes(r: APIRouter, api: Iaas, store: Store) -> None:
    @r.get("/users/me", tags=["users"])
    async def me() -> Response:
        who = store.find(SETTINGS, "me") or ME
        listed = store.find(USERS, who["email"].lower())
        return json_response(api.show_user(listed) if listed else dict(who))

    @r.get("/users", tags=["users"])
    async def list_users(request: Request) -> Response:
        options = api.options()
        users = [api.show_user(u, options) for u in api.all(USERS)]
        return api.listed(request, options.lists.users, users)

    @r.post("/users", status_code=201, tags=["users"])
    async def create_user(request: Request) -> Response:
        fields = _user_body(await _json(request))
        try:
            user = store.insert(USERS, fields, key=fields["email"].lower())
        except Conflict:
            raise conflict(f"a user with email {fields['email']} already exists") from None
        return json_response(api.show_user(user), 201)

    @r.put("/users/{user_id}", tags=["users"])
    async def update_user(user_id: str, request: Request) -> Response:
        user = api.user(user_id)
        fields = _user_body(await _json(request))
        try:
            user = store.update(USERS, {**user, **fields}, key=fields["email"].lower())
        except Conflict:
            raise conflict(f"a user with email {fields['email']} already exists") from None
        return json_response(api.show_user(user))

    @r.delete("/users/{user_id}", status_code=204, tags=["users"])
    async def delete_user(user_id: str) -> Response:
        store.delete(USERS, api.user(user_id)["id"])  # its membership goes with it
        return Response(status_code=204)


def _new_members(api: Iaas, body: dict[str, Any]) -> list[tuple[str, str]]:
    """The ``users`` of a tenant create as (user id, pubkey), each free to join."""
    members = body.get("users", [])
    if not isinstance(members, list):
        raise invalid("users: must be a list of {user_id, pubkey}")
    found: list[tuple[str, str]] = []
    for member in members:
        if not isinstance(member, dict) or not isinstance(member.get("user_id"), str):
            raise invalid("users: each member needs a user_id and a pubkey")
        user = api.user(member["user_id"])
        if user["id"] in {uid for uid, _ in found}:
            raise invalid(f"users: user {user['id']} is listed twice")
        if user.get("tenant_id"):
            raise conflict(f"user {user['id']} already belongs to tenant {user['tenant_id']}")
        found.append((user["id"], _pubkey(member)))
    return found


def _tenant_routes(r: APIRouter, api: Iaas, store: Store) -> None:
    @r.get("/tenants", tags=["tenants"])
    async def list_tenants(request: Request) -> Response:
        members = api.members()
        options = api.options()
        tenants = [api.show_tenant(t, members, options) for t in api.all(TENANTS)]
        return api.listed(request, options.lists.tenants, tenants)

    @r.post("/tenants", status_code=201, tags=["tenants"])
    async def create_tenant(request: Request) -> Response:
        body = await _json(request)
        name = body.get("name")
        if not isinstance(name, str) or not TENANT_NAME.match(name):
            raise invalid(
                "name: 1-63 lowercase letters, digits or '-', starting and ending with "
                "a letter or digit"
            )
        members = _new_members(api, body)
        with store.transaction():
            try:
                tenant = store.insert(TENANTS, {"name": name}, key=name)
            except Conflict:
                raise conflict(f"a tenant named {name} already exists") from None
            for user_id, pubkey in members:
                api.join(tenant["id"], user_id, pubkey)
        return json_response(api.show_tenant(tenant, api.members()), 201)

    @r.delete("/tenants/{tenant_id}", status_code=204, tags=["tenants"])
    async def delete_tenant(tenant_id: str) -> Response:
        tenant = api.tenant(tenant_id)
        with store.transaction():
            for user in api.all(USERS):
                if user.get("tenant_id") == tenant_id:
                    api.leave(user)  # the users stay, out of any tenant
            store.delete(TENANTS, tenant["id"])
        return Response(status_code=204)

    @r.put("/tenants/{tenant_id}/users/{user_id}", tags=["membership"])
    async def add_member(tenant_id: str, user_id: str, request: Request) -> Response:
        tenant = api.tenant(tenant_id)
        pubkey = _pubkey(await _json(request))
        api.join(tenant_id, user_id, pubkey)
        return json_response(api.show_tenant(tenant, api.members()))

    @r.delete("/tenants/{tenant_id}/users/{user_id}", status_code=204, tags=["membership"])
    async def remove_member(tenant_id: str, user_id: str) -> Response:
        api.tenant(tenant_id)
        user = api.user(user_id)
        if user.get("tenant_id") != tenant_id:
            raise not_found(f"user {user_id} in tenant {tenant_id}")
        api.leave(user)
        return Response(status_code=204)


def install(app: FastAPI, store: Store, token: str) -> None:
    install_error_handlers(app, _error_body(store))
    api = Iaas(store)
    r = api_router(PREFIX, [Depends(bearer_auth(token))])
    _user_routes(r, api, store)
    _tenant_routes(r, api, store)
    app.include_router(r)


def seed(store: Store, data: Mapping[str, Any]) -> None:
    """``{me: {email, role}, users: [{email, role}], quirks: {max_page, extra_fields}, options}``.

    ``me`` is the token's own user, listed like any other; ``users`` exist before
    any apply (made by hand, say). ``options`` (the target options of
    docs/apis/iaas-v1.md, camelCase) make the sandbox answer as a target
    configured with them expects; a bad one is a ValueError before the server starts.
    """
    if "options" in data:
        keep_options(store, SETTINGS, IaasV1Options, data["options"])
    people = [dict(u) for u in data.get("users", [])]
    if data.get("me"):
        me = {"email": data["me"]["email"], "role": data["me"].get("role", "operator")}
        store.insert(SETTINGS, me, key="me")
        people.insert(0, me)
    for user in people:
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

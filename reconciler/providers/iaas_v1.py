"""The ``iaas-v1`` API: operator access to users and tenants joined over WireGuard.

Document ``001``. Paths are relative to ``${API_BASE_URL}`` (``…/api``):

- users: ``GET /users``, ``POST /users {email, role, ssh_key_id}``,
  ``PUT /users/{id}`` with the whole user, ``DELETE /users/{id}`` (which also
  removes the user from its tenant), ``GET /users/me``;
- tenants: ``GET /tenants``, ``POST /tenants {name, users}``,
  ``DELETE /tenants/{id}``; **no update**, so a tenant has only its name;
- membership: ``PUT /tenants/{tid}/users/{uid} {pubkey}`` and
  ``DELETE /tenants/{tid}/users/{uid}``; **one tenant per user**, so a move is
  two calls, remove then add.

In the specs, membership is the Operator's ``tenant`` with its
``wireguardPubkey`` (required together).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, ClassVar

from reconciler.errors import ApiError, SpecProblem
from reconciler.model import Action, Change, Kind, Resource, ResourceId, State
from reconciler.providers.base import ApplyContext, KindSupport, Provider

C, U, D = Action.CREATE, Action.UPDATE, Action.DELETE


def _items(body: Any) -> list[dict[str, Any]]:
    """A plain array, as the document's examples imply; an envelope is tolerated."""
    if isinstance(body, dict):
        for key in ("items", "data", "users", "tenants", "results"):
            if isinstance(body.get(key), list):
                return list(body[key])
    if not isinstance(body, list):
        raise TypeError(f"expected a list, got {type(body).__name__}")
    return body


def _member(entry: Any) -> tuple[str, str | None]:
    """A tenant's member as (user id, pubkey): objects or bare ids, as servers differ."""
    if isinstance(entry, dict):
        return str(entry.get("user_id") or entry.get("id")), entry.get("pubkey")
    return str(entry), None


class IaasProvider(Provider):
    """Users (as Operators) and tenants with WireGuard membership."""

    dialect = "iaas-v1"
    title = "IaaS operator API: users, tenants, WireGuard membership (document 001)"
    base_path = "/api"
    admin_role = "operator"
    supports: ClassVar[dict[Kind, KindSupport]] = {
        Kind.TENANT: KindSupport(
            frozenset({C, D}),
            frozenset(),
            notes="the API has no tenant update: a tenant is only its name",
        ),
        Kind.OPERATOR: KindSupport(
            frozenset({C, U, D}),
            frozenset({"role", "tenant", "wireguard_pubkey"}),
            choices={"role": ("member", "operator")},
            sensitive=frozenset({"wireguard_pubkey"}),
            notes="one tenant per user; tenant and wireguardPubkey go together",
        ),
    }

    @classmethod
    def check(cls, desired: State) -> list[SpecProblem]:
        problems = super().check(desired)
        for r in desired.of_kind(Kind.OPERATOR):
            tenant, key = r.fields.get("tenant"), r.fields.get("wireguard_pubkey")
            if tenant and not key:
                problems.append(
                    SpecProblem(
                        r.field_sources.get("tenant", r.source),
                        f"{r.id}: a tenant member on the {cls.dialect} API needs its "
                        "'wireguardPubkey'",
                    )
                )
            if key and "tenant" in r.fields and not tenant:
                problems.append(
                    SpecProblem(
                        r.field_sources.get("wireguard_pubkey", r.source),
                        f"{r.id}: 'wireguardPubkey' is only meaningful with a 'tenant'",
                    )
                )
        return problems

    async def read(self, kinds: Collection[Kind]) -> State:
        users = _items(await self.client.call("GET", "/users", resource="users"))
        tenants = _items(await self.client.call("GET", "/tenants", resource="tenants"))
        state = State()
        membership: dict[str, tuple[str, str | None]] = {}
        for t in tenants:
            for entry in t.get("users") or []:
                user_id, pubkey = _member(entry)
                membership[user_id] = (str(t["name"]), pubkey)
            if Kind.TENANT in kinds:
                state.add(
                    Resource(
                        ResourceId(Kind.TENANT, str(t["name"])), {}, server={"id": str(t["id"])}
                    )
                )
        if Kind.OPERATOR in kinds:
            for u in users:
                tenant, pubkey = membership.get(str(u["id"]), (None, None))
                state.add(
                    Resource(
                        ResourceId(Kind.OPERATOR, str(u["email"]).lower()),
                        {"role": u.get("role"), "tenant": tenant, "wireguard_pubkey": pubkey},
                        server={
                            "id": str(u["id"]),
                            "ssh_key_id": u.get("ssh_key_id"),
                            "email": u["email"],
                        },
                    )
                )
        return state

    async def whoami(self) -> str | None:
        me = await self.client.call("GET", "/users/me", resource="users/me")
        email = me.get("email") if isinstance(me, dict) else None
        return str(email).lower() if email else None

    async def apply(self, change: Change, ctx: ApplyContext) -> Resource | None:
        rid = str(change.id)
        if change.id.kind is Kind.TENANT:
            if change.action is C:
                body = await self.client.call(
                    "POST", "/tenants", json_body={"name": change.id.key, "users": []}, resource=rid
                )
                return Resource(change.id, {}, server={"id": str(body["id"])})
            if change.action is D:
                await self.client.call(
                    "DELETE", f"/tenants/{ctx.server_id(change.id)}", resource=rid
                )
                return None
        elif change.id.kind is Kind.OPERATOR:
            if change.action is C:
                return await self._create_user(change, ctx)
            if change.action is U:
                await self._update_user(change, ctx)
                return None
            if change.action is D:
                await self.client.call("DELETE", f"/users/{ctx.server_id(change.id)}", resource=rid)
                return None
        raise ApiError("-", "-", 0, f"the iaas-v1 API cannot {change.action.value} this", rid)

    async def _create_user(self, change: Change, ctx: ApplyContext) -> Resource:
        assert change.desired is not None
        f = change.desired.fields
        body = await self.client.call(
            "POST",
            "/users",
            json_body={"email": change.id.key, "role": f.get("role", "member"), "ssh_key_id": None},
            resource=str(change.id),
        )
        user_id = str(body["id"])
        if f.get("tenant"):
            await self._join(f["tenant"], user_id, f["wireguard_pubkey"], ctx, str(change.id))
        return Resource(change.id, {}, server={"id": user_id})

    async def _update_user(self, change: Change, ctx: ApplyContext) -> None:
        assert change.desired is not None and change.live is not None
        rid, want, have = str(change.id), change.desired.fields, change.live.fields
        user_id = ctx.server_id(change.id)
        if "role" in want and want["role"] != have.get("role"):
            # PUT replaces the whole user: keep what the spec does not manage.
            body = {
                "email": change.live.server.get("email", change.id.key),
                "role": want["role"],
                "ssh_key_id": change.live.server.get("ssh_key_id"),
            }
            await self.client.call("PUT", f"/users/{user_id}", json_body=body, resource=rid)
        if "tenant" not in want and "wireguard_pubkey" not in want:
            return
        new_tenant = want.get("tenant", have.get("tenant"))
        new_key = want.get("wireguard_pubkey", have.get("wireguard_pubkey"))
        old_tenant = have.get("tenant")
        if old_tenant == new_tenant and have.get("wireguard_pubkey") == new_key:
            return
        if old_tenant and old_tenant != new_tenant:
            # One tenant per user: leave the old one first, then join the new one.
            old_id = ctx.server_id(ResourceId(Kind.TENANT, old_tenant))
            await self.client.call("DELETE", f"/tenants/{old_id}/users/{user_id}", resource=rid)
        if new_tenant:
            await self._join(new_tenant, user_id, new_key, ctx, rid)

    async def _join(
        self, tenant: str, user_id: str, pubkey: str | None, ctx: ApplyContext, rid: str
    ) -> None:
        tenant_id = ctx.server_id(ResourceId(Kind.TENANT, tenant))
        await self.client.call(
            "PUT",
            f"/tenants/{tenant_id}/users/{user_id}",
            json_body={"pubkey": pubkey},
            resource=rid,
        )


PROVIDER = IaasProvider

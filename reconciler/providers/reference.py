"""The ``reference`` dialect: the operator API's paths plus tenant lifecycle and flags.

The contract is ``docs/apis/reference.md``; this module reads as that page does:
plans and their tier defaults, tenants with suspend/resume and per-tenant flags,
users with roles and a tenant assignment, all under ``/api/v1/operator``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Any

from reconciler.model import (
    Action,
    Change,
    Kind,
    Resource,
    ResourceId,
    State,
    flag_key,
)
from reconciler.providers.base import ApplyContext, KindSupport, Provider
from reconciler.providers.http import JSON

BASE = "/api/v1/operator"
PAGE = 500
SERVER_FIELDS = ("id", "created_at", "updated_at", "suspended_at")

C, U, S, R, D = Action.CREATE, Action.UPDATE, Action.SUSPEND, Action.RESUME, Action.DELETE


def _items(body: JSON) -> list[Any]:
    items = body.get("items") if isinstance(body, dict) else None
    return items if isinstance(items, list) else []


def _total(body: JSON) -> int | None:
    total = body.get("total") if isinstance(body, dict) else None
    return total if isinstance(total, int) else None


def _server(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: obj[k] for k in SERVER_FIELDS if k in obj}


class ReferenceProvider(Provider):
    """All five kinds on one API, as served by the embedded sandbox."""

    dialect = "reference"
    admin_role = "operator-admin"
    title = "Reference operator API (the embedded sandbox's default)"
    supports = {
        Kind.PLAN: KindSupport(frozenset({C, U}), frozenset({"display_name", "description"})),
        Kind.TIER_DEFAULTS: KindSupport(frozenset({C, U}), frozenset({"tiers"})),
        Kind.TENANT: KindSupport(
            frozenset({C, U, S, R, D}),
            frozenset({"display_name", "plan", "status", "parent", "configuration"}),
        ),
        Kind.FEATURE_FLAG: KindSupport(
            frozenset({C, U, D}), frozenset({"tenant", "flag", "enabled"})
        ),
        Kind.OPERATOR: KindSupport(
            frozenset({C, U, S, R, D}),
            frozenset({"name", "role", "status", "tenant"}),
            choices={"role": ("operator", "operator-admin")},
        ),
    }

    # ---- reading -------------------------------------------------------------

    async def _list(self, path: str, resource: str) -> list[dict[str, Any]]:
        return [
            item
            async for item in self.client.paginate_offset(
                f"{BASE}{path}", _items, limit=PAGE, total=_total, resource=resource
            )
        ]

    async def read(self, kinds: Collection[Kind]) -> State:
        state = State()
        need_tenants = {Kind.TENANT, Kind.FEATURE_FLAG, Kind.OPERATOR} & set(kinds)

        async def nothing() -> list[dict[str, Any]]:
            return []

        # The listings do not depend on each other: fetch them at once.
        plans, tenants, all_flags, users = await asyncio.gather(
            self._list("/plans", "plans"),
            self._list("/tenants", "tenants") if need_tenants else nothing(),
            self._list("/feature-flags", "feature flags")
            if Kind.FEATURE_FLAG in kinds
            else nothing(),
            self._list("/users", "users") if Kind.OPERATOR in kinds else nothing(),
        )
        plan_names = {p["id"]: p["name"] for p in plans}
        if Kind.PLAN in kinds:
            for p in plans:
                state.add(
                    Resource(
                        ResourceId(Kind.PLAN, p["name"]),
                        {
                            "display_name": p.get("display_name"),
                            "description": p.get("description"),
                        },
                        server=_server(p),
                    )
                )
        if Kind.TIER_DEFAULTS in kinds:
            for resource in await asyncio.gather(*(self._read_tiers(p) for p in plans)):
                state.add(resource)

        tenant_names = {t["id"]: t["name"] for t in tenants}
        if Kind.TENANT in kinds:
            for t in tenants:
                state.add(
                    Resource(
                        ResourceId(Kind.TENANT, t["name"]),
                        {
                            "display_name": t.get("display_name"),
                            "plan": plan_names.get(t.get("plan_id")),
                            "status": t.get("status"),
                            "parent": tenant_names.get(t.get("parent_id")),
                            "configuration": t.get("configuration") or {},
                        },
                        server=_server(t),
                    )
                )
        if Kind.FEATURE_FLAG in kinds:
            # One paged listing of every tenant's flags, not a request per tenant.
            for f in all_flags:
                name = tenant_names.get(f.get("tenant_id"))
                if name is None:
                    continue  # a flag of a tenant that vanished between the two listings
                state.add(
                    Resource(
                        ResourceId(Kind.FEATURE_FLAG, flag_key(name, f["key"])),
                        {"tenant": name, "flag": f["key"], "enabled": f.get("enabled")},
                        server={
                            "id": f["key"],
                            **{k: f[k] for k in ("created_at", "updated_at") if k in f},
                        },
                    )
                )
        if Kind.OPERATOR in kinds:
            for u in users:
                state.add(
                    Resource(
                        ResourceId(Kind.OPERATOR, str(u["email"]).lower()),
                        {
                            "name": u.get("name"),
                            "role": _primary_role(u.get("roles") or []),
                            "status": "active" if u.get("enabled", True) else "disabled",
                            "tenant": tenant_names.get(u.get("tenant_id")),
                        },
                        server={**_server(u), "roles": list(u.get("roles") or [])},
                    )
                )
        return state

    async def _read_tiers(self, plan: dict[str, Any]) -> Resource:
        body = await self.client.call(
            "GET",
            f"{BASE}/plans/{plan['id']}/tier-defaults",
            resource=f"TierDefaults/{plan['name']}",
        )
        rows = body.get("tier_defaults", []) if isinstance(body, dict) else []
        tiers = {str(row["tier"]): row.get("slot_limit") for row in rows}
        return Resource(
            ResourceId(Kind.TIER_DEFAULTS, plan["name"]),
            {"tiers": tiers},
            server={"id": plan["id"]},
        )

    # ---- writing -------------------------------------------------------------

    async def apply(self, change: Change, ctx: ApplyContext) -> Resource | None:
        kind = change.id.kind
        if kind is Kind.PLAN:
            return await self._apply_plan(change)
        if kind is Kind.TIER_DEFAULTS:
            await self._apply_tiers(change, ctx)
            return None
        if kind is Kind.TENANT:
            return await self._apply_tenant(change, ctx)
        if kind is Kind.FEATURE_FLAG:
            await self._apply_flag(change, ctx)
            return None
        return await self._apply_operator(change, ctx)

    async def _send(self, method: str, path: str, change: Change, body: JSON = None) -> JSON:
        return await self.client.call(
            method, f"{BASE}{path}", json_body=body, resource=str(change.id)
        )

    @staticmethod
    def _changed(change: Change) -> dict[str, Any]:
        """Top-level fields the change sets, from the desired resource."""
        assert change.desired is not None
        names = {fc.path.split(".", 1)[0] for fc in change.fields}
        return {k: v for k, v in change.desired.fields.items() if k in names}

    async def _apply_plan(self, change: Change) -> Resource | None:
        want = self._changed(change)
        if change.action is C:
            body = {"name": change.id.key, **want}
            created = await self._send("POST", "/plans", change, body)
            return Resource(change.id, want, server=_server(created))
        assert change.live is not None
        await self._send("PUT", f"/plans/{change.live.server_id}", change, want)
        return None

    async def _apply_tiers(self, change: Change, ctx: ApplyContext) -> None:
        plan_id = ctx.server_id(ResourceId(Kind.PLAN, change.id.key))
        tiers = dict(change.live.fields.get("tiers") or {}) if change.live else {}
        assert change.desired is not None
        for tier, limit in (change.desired.fields.get("tiers") or {}).items():
            if limit is None:
                tiers.pop(tier, None)
            else:
                tiers[tier] = limit
        rows = [{"tier": t, "slot_limit": n} for t, n in sorted(tiers.items())]
        await self._send("PUT", f"/plans/{plan_id}/tier-defaults", change, {"tier_defaults": rows})

    def _tenant_body(self, want: dict[str, Any], ctx: ApplyContext) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for name, value in want.items():
            if name == "plan":
                body["plan_id"] = ctx.server_id(ResourceId(Kind.PLAN, value)) if value else None
            elif name == "parent":
                body["parent_id"] = ctx.server_id(ResourceId(Kind.TENANT, value)) if value else None
            elif name != "status":
                body[name] = value
        return body

    async def _apply_tenant(self, change: Change, ctx: ApplyContext) -> Resource | None:
        if change.action is D:
            assert change.live is not None
            await self._send("DELETE", f"/tenants/{change.live.server_id}", change)
            return None
        want = self._changed(change)
        body = self._tenant_body(want, ctx)
        result: Resource | None = None
        if change.action is C:
            body["name"] = change.id.key
            created = await self._send("POST", "/tenants", change, body)
            tenant_id = str(created["id"])
            result = Resource(change.id, want, server=_server(created))
        else:
            assert change.live is not None
            tenant_id = str(change.live.server_id)
            if body:
                await self._send("PATCH", f"/tenants/{tenant_id}", change, body)
        status = change.desired.fields.get("status") if change.desired else None
        if change.action is S or (change.action is C and status == "suspended"):
            await self._send("POST", f"/tenants/{tenant_id}/suspend", change)
        elif change.action is R:
            await self._send("POST", f"/tenants/{tenant_id}/resume", change)
        return result

    async def _apply_flag(self, change: Change, ctx: ApplyContext) -> None:
        resource = change.desired or change.live
        assert resource is not None
        tenant_id = ctx.server_id(ResourceId(Kind.TENANT, resource.fields["tenant"]))
        flag = resource.fields["flag"]
        path = f"/tenants/{tenant_id}/feature-flags"
        if change.action is C:
            await self._send(
                "POST", path, change, {"key": flag, "enabled": resource.fields["enabled"]}
            )
        elif change.action is U:
            await self._send(
                "PUT", f"{path}/{flag}", change, {"enabled": resource.fields["enabled"]}
            )
        else:
            await self._send("DELETE", f"{path}/{flag}", change)

    async def _apply_operator(self, change: Change, ctx: ApplyContext) -> Resource | None:
        if change.action is D:
            assert change.live is not None
            await self._send("DELETE", f"/users/{change.live.server_id}", change)
            return None
        want = self._changed(change)
        result: Resource | None = None
        if change.action is C:
            body: dict[str, Any] = {"email": change.id.key}
            if "name" in want:
                body["name"] = want["name"]
            if want.get("role"):
                body["roles"] = [want["role"]]
            if want.get("tenant"):
                body["tenant_id"] = ctx.server_id(ResourceId(Kind.TENANT, want["tenant"]))
            body["enabled"] = want.get("status", "active") == "active"
            created = await self._send("POST", "/users", change, body)
            return Resource(change.id, want, server=_server(created))
        assert change.live is not None
        user = f"/users/{change.live.server_id}"
        if "name" in want:
            await self._send("PUT", user, change, {"name": want["name"]})
        if "role" in want:
            await self._send("POST", f"{user}/roles", change, {"role": want["role"]})
            for old in change.live.server.get("roles", []):
                if old != want["role"]:
                    await self._send("DELETE", f"{user}/roles/{old}", change)
        if "tenant" in want:
            tenant = want["tenant"]
            tenant_id = ctx.server_id(ResourceId(Kind.TENANT, tenant)) if tenant else None
            await self._send("POST", f"{user}/tenant", change, {"tenant_id": tenant_id})
        if change.action is S:
            await self._send("POST", f"{user}/disable", change)
        elif change.action is R:
            await self._send("POST", f"{user}/enable", change)
        return result


def _primary_role(roles: list[str]) -> str | None:
    """One role per operator in specs: the highest the user holds."""
    for role in ("operator-admin", "operator"):
        if role in roles:
            return role
    return roles[0] if roles else None


PROVIDER = ReferenceProvider

"""The ``reference`` dialect: the operator API's paths plus tenant lifecycle and flags.

The contract is ``docs/apis/reference.md``; this module reads as that page does:
plans and their tier defaults, tenants with suspend/resume and per-tenant flags,
users with roles and a tenant assignment, all under ``/api/v1/operator``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Any

from reconciler.errors import PlanError
from reconciler.model import (
    Action,
    Change,
    Kind,
    Resource,
    ResourceId,
    State,
    flag_key,
)
from reconciler.providers.base import ApplyContext, KindSupport, Provider, path_value_problem
from reconciler.providers.http import JSON, segment_problem, url_path

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


def _path(template: str, *values: str | int) -> str:
    """A path under ``BASE``, each value encoded as one segment."""
    return url_path(template, *values, base=BASE)


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

    @classmethod
    def unaddressable(cls, resource: Resource) -> str | None:
        """The server id, and what else goes into paths: a flag's key
        (``/feature-flags/{key}``) and every role a user holds (a role change
        removes the others by ``DELETE /users/{id}/roles/{role}``)."""
        problem = super().unaddressable(resource)
        if problem is not None:
            return problem
        kind = resource.id.kind
        if kind is Kind.FEATURE_FLAG:
            return path_value_problem(("flag key", resource.fields.get("flag")))
        if kind is Kind.OPERATOR:
            roles = resource.server.get("roles")
            held = roles if isinstance(roles, list) else []
            return path_value_problem(*(("role", role) for role in held))
        return None

    @classmethod
    def path_parents(cls, change: Change) -> list[ResourceId]:
        """A flag's paths go through its tenant, tier defaults' through their plan."""
        kind = change.id.kind
        if kind is Kind.TIER_DEFAULTS:
            return [ResourceId(Kind.PLAN, change.id.key)]
        resource = change.desired or change.live
        if kind is Kind.FEATURE_FLAG and resource is not None and resource.fields.get("tenant"):
            return [ResourceId(Kind.TENANT, str(resource.fields["tenant"]))]
        return []

    # ---- reading -------------------------------------------------------------

    async def _list(self, path: str, resource: str) -> list[dict[str, Any]]:
        return [
            item
            async for item in self.client.paginate_offset(
                path, _items, limit=PAGE, total=_total, resource=resource
            )
        ]

    async def read(self, kinds: Collection[Kind]) -> State:
        state = State()
        need_tenants = {Kind.TENANT, Kind.FEATURE_FLAG, Kind.OPERATOR} & set(kinds)

        async def nothing() -> list[dict[str, Any]]:
            return []

        # The listings do not depend on each other: fetch them at once.
        plans, tenants, all_flags, users = await asyncio.gather(
            self._list(_path("/plans"), "plans"),
            self._list(_path("/tenants"), "tenants") if need_tenants else nothing(),
            self._list(_path("/feature-flags"), "feature flags")
            if Kind.FEATURE_FLAG in kinds
            else nothing(),
            self._list(_path("/users"), "users") if Kind.OPERATOR in kinds else nothing(),
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
        rid = ResourceId(Kind.TIER_DEFAULTS, plan["name"])
        if segment_problem(plan["id"]) is not None:
            # No path can name this plan: its tiers stay unread, the object unaddressable.
            return Resource(rid, {}, server={"id": plan["id"]})
        body = await self.client.call(
            "GET", _path("/plans/{}/tier-defaults", plan["id"]), resource=str(rid)
        )
        rows = body.get("tier_defaults", []) if isinstance(body, dict) else []
        tiers = {str(row["tier"]): row.get("slot_limit") for row in rows}
        return Resource(rid, {"tiers": tiers}, server={"id": plan["id"]})

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
        """One call for ``change``; ``path`` comes from :func:`_path`."""
        return await self.client.call(method, path, json_body=body, resource=str(change.id))

    @staticmethod
    def _live_id(change: Change) -> str:
        """The server id of the live object ``change`` acts on."""
        if change.live is None or change.live.server_id is None:
            raise PlanError(f"{change.id} has no server id to address it by")
        return change.live.server_id

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
            created = await self._send("POST", _path("/plans"), change, body)
            return Resource(change.id, want, server=_server(created))
        await self._send("PUT", _path("/plans/{}", self._live_id(change)), change, want)
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
        path = _path("/plans/{}/tier-defaults", plan_id)
        await self._send("PUT", path, change, {"tier_defaults": rows})

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
            await self._send("DELETE", _path("/tenants/{}", self._live_id(change)), change)
            return None
        want = self._changed(change)
        body = self._tenant_body(want, ctx)
        result: Resource | None = None
        if change.action is C:
            body["name"] = change.id.key
            created = await self._send("POST", _path("/tenants"), change, body)
            tenant_id: str | int = created["id"]
            result = Resource(change.id, want, server=_server(created))
        else:
            tenant_id = self._live_id(change)
            if body:
                await self._send("PATCH", _path("/tenants/{}", tenant_id), change, body)
        status = change.desired.fields.get("status") if change.desired else None
        if change.action is S or (change.action is C and status == "suspended"):
            await self._send("POST", _path("/tenants/{}/suspend", tenant_id), change)
        elif change.action is R:
            await self._send("POST", _path("/tenants/{}/resume", tenant_id), change)
        return result

    async def _apply_flag(self, change: Change, ctx: ApplyContext) -> None:
        resource = change.desired or change.live
        assert resource is not None
        tenant_id = ctx.server_id(ResourceId(Kind.TENANT, resource.fields["tenant"]))
        flag = resource.fields["flag"]
        if change.action is C:
            path = _path("/tenants/{}/feature-flags", tenant_id)
            await self._send(
                "POST", path, change, {"key": flag, "enabled": resource.fields["enabled"]}
            )
        elif change.action is U:
            path = _path("/tenants/{}/feature-flags/{}", tenant_id, flag)
            await self._send("PUT", path, change, {"enabled": resource.fields["enabled"]})
        else:
            path = _path("/tenants/{}/feature-flags/{}", tenant_id, flag)
            await self._send("DELETE", path, change)

    async def _apply_operator(self, change: Change, ctx: ApplyContext) -> Resource | None:
        if change.action is D:
            await self._send("DELETE", _path("/users/{}", self._live_id(change)), change)
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
            created = await self._send("POST", _path("/users"), change, body)
            return Resource(change.id, want, server=_server(created))
        assert change.live is not None
        user = self._live_id(change)
        if "name" in want:
            await self._send("PUT", _path("/users/{}", user), change, {"name": want["name"]})
        if "role" in want:
            path = _path("/users/{}/roles", user)
            await self._send("POST", path, change, {"role": want["role"]})
            for old in change.live.server.get("roles", []):
                if old != want["role"]:
                    await self._send("DELETE", _path("/users/{}/roles/{}", user, old), change)
        if "tenant" in want:
            tenant = want["tenant"]
            tenant_id = ctx.server_id(ResourceId(Kind.TENANT, tenant)) if tenant else None
            path = _path("/users/{}/tenant", user)
            await self._send("POST", path, change, {"tenant_id": tenant_id})
        if change.action is S:
            await self._send("POST", _path("/users/{}/disable", user), change)
        elif change.action is R:
            await self._send("POST", _path("/users/{}/enable", user), change)
        return result


def _primary_role(roles: list[str]) -> str | None:
    """One role per operator in specs: the highest the user holds."""
    for role in ("operator-admin", "operator"):
        if role in roles:
            return role
    return roles[0] if roles else None


PROVIDER = ReferenceProvider

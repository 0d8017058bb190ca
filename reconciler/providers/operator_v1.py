"""The ``operator-v1`` API: the IoT platform's cross-tenant operator endpoints.

Document ``000`` is a bare list of routes under ``/api/v1/operator``. What this
provider manages through them:

- device tiers: ``GET``/``POST /device-tiers``, ``PUT /device-tiers/{tier_id}``;
- plans: ``GET``/``POST /plans``, ``PUT /plans/{plan_id}``, and each plan's tier
  defaults, ``GET``/``PUT /plans/{plan_id}/tier-defaults`` (the whole set at once);
- tenants: list, create, ``PATCH``, delete. No suspend route is listed, so a
  tenant's ``status`` travels in the ``PATCH`` body, as in the route's source;
- users holding ``operator`` or ``operator-admin``: create, ``PUT``, delete,
  ``POST …/enable|disable``, ``POST …/roles`` and ``DELETE …/roles/{role_name}``,
  ``POST …/tenant``.

Nothing can delete a subscription plan or a device tier, and there are no feature flags,
tenant roles, owners or WireGuard keys. How the answers are read (the document
is silent on bodies, envelopes and paging): :mod:`.operator_v1_shapes`.

Length: a little over 400 lines, kept whole so the module reads as the document's
route list does, kind by kind; its answer decoders already live in
``operator_v1_shapes.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from reconciler.errors import ApiError, SpecProblem
from reconciler.model import Action, Change, Kind, Resource, ResourceId, State
from reconciler.options.operator_v1 import OperatorV1Options
from reconciler.providers.base import (
    ApplyContext,
    Capabilities,
    KindHandlers,
    KindSupport,
    Provider,
    ReadScope,
)
from reconciler.providers.http import JSON, segment_problem, url_path
from reconciler.providers.operator_v1_shapes import (
    OPERATOR_ROLES,
    Row,
    items_of,
    named_resource,
    named_row,
    operator_resource,
    server,
    tenant_resource,
    tenant_row,
    tenant_status,
    tiers,
    total,
    user_row,
)

BASE = "/api/v1/operator"
PAGE = 500
"""What a list is asked for per page; servers may answer fewer (the walk follows)."""
TIER_DEFAULT_READS = 16
"""Tier defaults are one ``GET`` per subscription plan (no list of all): at most this
many at once."""

C, U, S, R, D = Action.CREATE, Action.UPDATE, Action.SUSPEND, Action.RESUME, Action.DELETE


def _path(template: str, *values: str | int) -> str:
    """A path under ``BASE``, each value encoded as one segment."""
    return url_path(template, *values, base=BASE)


class OperatorV1Provider(Provider):
    """Device tiers, subscription plans with their tier defaults, tenants and operators of
    document 000."""

    capabilities = Capabilities(
        dialect="operator-v1",
        title="IoT operator API: tenants, operators, plans, device tiers (document 000)",
        admin_role="operator-admin",
        supports={
            Kind.DEVICE_TIER: KindSupport(
                frozenset({C, U}),
                frozenset({"display_name", "description"}),
                notes="the document lists no device tier delete",
            ),
            Kind.SUBSCRIPTION_PLAN: KindSupport(
                frozenset({C, U}),
                frozenset({"display_name", "description"}),
                notes="the document lists no plan delete",
            ),
            Kind.TIER_DEFAULTS: KindSupport(
                frozenset({C, U}),
                frozenset({"tiers"}),
                notes="the whole set is written at once; each tier must be a device tier",
            ),
            Kind.TENANT: KindSupport(
                frozenset({C, U, S, R, D}),
                frozenset({"display_name", "plan", "status", "parent", "configuration"}),
                notes="no suspend route: status is a field of PATCH /tenants/{tenant_id}",
                choices={"status": ("active", "suspended")},
            ),
            Kind.OPERATOR: KindSupport(
                frozenset({C, U, S, R, D}),
                frozenset({"name", "role", "status", "tenant"}),
                notes="an operator is a user holding one of the roles; role is required",
                choices={"role": ("operator", "operator-admin")},
            ),
        },
        options=OperatorV1Options,
    )

    def handlers(self) -> Mapping[Kind, KindHandlers]:
        tenant, operator, defaults = self._write_tenant, self._write_operator, self._write_tiers
        return {
            Kind.DEVICE_TIER: KindHandlers(self._read_tiers, self._write_tier, self._write_tier),
            Kind.SUBSCRIPTION_PLAN: KindHandlers(
                self._read_subscription_plans,
                self._write_subscription_plan,
                self._write_subscription_plan,
            ),
            Kind.TIER_DEFAULTS: KindHandlers(self._read_tier_defaults, defaults, defaults),
            Kind.TENANT: KindHandlers(
                self._read_tenants, tenant, tenant, tenant, self._delete_tenant
            ),
            Kind.OPERATOR: KindHandlers(
                self._read_operators, operator, operator, operator, self._delete_operator
            ),
        }

    @classmethod
    def support_problems(cls, desired: State) -> list[SpecProblem]:
        """Operators need ``role``: a user without an operator role is not listed as one."""
        problems = super().support_problems(desired)
        for r in desired.of_kind(Kind.OPERATOR):
            if not r.fields.get("role"):
                problems.append(
                    SpecProblem(
                        r.source,
                        f"{r.id}: the {cls.capabilities.dialect} API needs 'role' (operator "
                        "or operator-admin): a user is an operator only through one of them",
                    )
                )
        return problems

    @classmethod
    def path_parents(cls, change: Change) -> list[ResourceId]:
        """Tier defaults' paths go through their plan (``/plans/{plan}/tier-defaults``)."""
        if change.id.kind is Kind.TIER_DEFAULTS:
            return [ResourceId(Kind.SUBSCRIPTION_PLAN, change.id.key)]
        return []

    # ---- reading -------------------------------------------------------------

    def _list(
        self, scope: ReadScope, template: str, collection: str, decode: Callable[[JSON], Any]
    ) -> Awaitable[list[Row]]:
        """One paged listing, fetched once per read however many kinds need it."""

        async def fetch() -> list[Row]:
            return [
                item
                async for item in self.client.paginate_offset(
                    _path(template),
                    items_of(collection),
                    limit=PAGE,
                    total=total,
                    resource=collection.replace("_", " "),
                    decode=decode,
                )
                if item is not None
            ]

        return scope.once(template, fetch)

    def _subscription_plans(self, scope: ReadScope) -> Awaitable[list[Row]]:
        return self._list(scope, "/plans", "plans", named_row)

    async def _tenants(self, scope: ReadScope) -> list[Row]:
        # A tenant the server keeps as deleted (a soft delete) is gone for us.
        listed = await self._list(scope, "/tenants", "tenants", tenant_row)
        return [t for t in listed if tenant_status(t) != "deleted"]

    async def _tenant_names(self, scope: ReadScope) -> dict[str, str]:
        return {str(t.get("id")): str(t["name"]) for t in await self._tenants(scope)}

    async def _read_tiers(self, scope: ReadScope) -> list[Resource]:
        listed = await self._list(scope, "/device-tiers", "device_tiers", named_row)
        return [named_resource(Kind.DEVICE_TIER, t) for t in listed]

    async def _read_subscription_plans(self, scope: ReadScope) -> list[Resource]:
        return [
            named_resource(Kind.SUBSCRIPTION_PLAN, p) for p in await self._subscription_plans(scope)
        ]

    async def _read_tier_defaults(self, scope: ReadScope) -> list[Resource]:
        gate = scope.gate("tier defaults", TIER_DEFAULT_READS)
        subscription_plans = await self._subscription_plans(scope)
        return list(
            await asyncio.gather(*(self._tier_defaults(p, gate) for p in subscription_plans))
        )

    async def _read_tenants(self, scope: ReadScope) -> list[Resource]:
        subscription_plans, tenants = await asyncio.gather(
            self._subscription_plans(scope), self._tenants(scope)
        )
        subscription_plan_names = {str(p.get("id")): str(p["name"]) for p in subscription_plans}
        tenant_names = {str(t.get("id")): str(t["name"]) for t in tenants}
        return [tenant_resource(t, subscription_plan_names, tenant_names) for t in tenants]

    async def _read_operators(self, scope: ReadScope) -> list[Resource]:
        tenant_names, users = await asyncio.gather(
            self._tenant_names(scope), self._list(scope, "/users", "users", user_row)
        )
        found = (operator_resource(u, tenant_names) for u in users)
        return [operator for operator in found if operator is not None]

    async def _tier_defaults(self, subscription_plan: Row, gate: asyncio.Semaphore) -> Resource:
        rid = ResourceId(Kind.TIER_DEFAULTS, str(subscription_plan["name"]))
        ident = subscription_plan["id"]
        if segment_problem(str(ident)) is not None:
            # No path can name this plan: its tiers stay unread, the object unaddressable.
            return Resource(rid, {}, server={"id": str(ident)})
        async with gate:
            path = _path("/plans/{}/tier-defaults", ident)
            found = await self.client.call("GET", path, resource=str(rid), decode=tiers)
        return Resource(rid, {"tiers": found}, server={"id": str(ident)})

    # ---- writing -------------------------------------------------------------

    async def _send(
        self, method: str, path: str, change: Change, body: JSON = None, *, repeatable: bool = False
    ) -> JSON:
        """One call for ``change``; ``path`` comes from :func:`_path`."""
        return await self.client.call(
            method,
            path,
            json_body=body,
            resource=str(change.id),
            idempotent=True if repeatable else None,
        )

    @staticmethod
    def _changed(change: Change) -> dict[str, Any]:
        """The top-level fields this change moves, at their desired values."""
        assert change.desired is not None
        names = {fc.path.split(".", 1)[0] for fc in change.fields}
        return {k: v for k, v in change.desired.fields.items() if k in names}

    @staticmethod
    def _id(change: Change, ctx: ApplyContext) -> str:
        if change.live is not None and change.live.server_id is not None:
            return change.live.server_id
        return ctx.server_id(change.id)

    async def _created(self, change: Change, answer: JSON) -> Resource:
        """The new object with its server id: from the answer, else re-read by name."""
        assert change.desired is not None
        if isinstance(answer, dict) and answer.get("id") is not None:
            return Resource(change.id, change.desired.fields, server=server(answer))
        found = (await self.read({change.id.kind})).get(change.id)
        if found is None or found.server_id is None:
            raise ApiError(
                "GET", BASE, 200, "created, but the object is not listed with an id", str(change.id)
            )
        return found

    async def _write_tier(self, change: Change, ctx: ApplyContext) -> Resource | None:
        return await self._write_named(change, ctx, "/device-tiers", "/device-tiers/{}")

    async def _write_subscription_plan(self, change: Change, ctx: ApplyContext) -> Resource | None:
        return await self._write_named(change, ctx, "/plans", "/plans/{}")

    async def _write_named(
        self, change: Change, ctx: ApplyContext, collection: str, one: str
    ) -> Resource | None:
        """Device tiers and subscription plans: ``POST`` to create, ``PUT`` the whole object.

        ``collection`` and ``one`` are the templates of the listing and of one object
        (``/plans``, ``/plans/{}``)."""
        assert change.desired is not None
        if change.action is C:
            body = {"name": change.id.key, **self._changed(change)}
            answer = await self._send("POST", _path(collection), change, body)
            return await self._created(change, answer)
        # PUT replaces: every writable field goes, the unmanaged ones at their live value.
        live = change.live.fields if change.live else {}
        want = change.desired.fields
        body = {"name": change.id.key}
        for name in ("display_name", "description"):
            value = want[name] if name in want else live.get(name)
            if value is not None or name in want:  # unset: left out, never sent as null
                body[name] = value
        await self._send("PUT", _path(one, self._id(change, ctx)), change, body)
        return None

    async def _write_tiers(self, change: Change, ctx: ApplyContext) -> Resource | None:
        """The whole set: live tiers the spec leaves out are kept, ``None`` removes one."""
        assert change.desired is not None
        subscription_plan_id = ctx.server_id(ResourceId(Kind.SUBSCRIPTION_PLAN, change.id.key))
        tiers = dict(change.live.fields.get("tiers") or {}) if change.live else {}
        for tier, limit in (change.desired.fields.get("tiers") or {}).items():
            if limit is None:
                tiers.pop(tier, None)
            else:
                tiers[tier] = limit
        rows = [{"tier": tier, "slot_limit": limit} for tier, limit in sorted(tiers.items())]
        path = _path("/plans/{}/tier-defaults", subscription_plan_id)
        await self._send("PUT", path, change, {"tier_defaults": rows})
        return None

    def _tenant_body(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        """The changed fields as the API names them; references become server ids."""
        body: dict[str, Any] = {}
        for name, value in self._changed(change).items():
            if name == "plan":
                body["plan_id"] = (
                    ctx.server_id(ResourceId(Kind.SUBSCRIPTION_PLAN, value)) if value else None
                )
            elif name == "parent":
                body["parent_id"] = ctx.server_id(ResourceId(Kind.TENANT, value)) if value else None
            elif name == "configuration":
                live = (change.live.fields.get("configuration") or {}) if change.live else {}
                # The whole result, removals as null: right for a merge patch, and a
                # server that replaces the object keeps the keys nobody manages.
                merged = {**live, **value}
                if change.action is C:
                    merged = {k: v for k, v in merged.items() if v is not None}
                body["configuration"] = merged
            else:
                body[name] = value
        return body

    async def _patch_tenant(self, change: Change, tenant_id: str, body: dict[str, Any]) -> None:
        path = _path("/tenants/{}", tenant_id)
        answer = await self._send("PATCH", path, change, body)
        asked = body.get("status")
        shown = answer.get("status") if isinstance(answer, dict) else None
        # A server that ignores the field would otherwise "succeed" at every apply.
        if asked and shown is not None and tenant_status(answer) != asked:
            raise ApiError(
                "PATCH",
                path,
                200,
                f"asked for status '{asked}', the server answered '{shown}': "
                "it does not take a tenant's status in PATCH",
                str(change.id),
            )

    async def _delete_tenant(self, change: Change, ctx: ApplyContext) -> Resource | None:
        await self._send("DELETE", _path("/tenants/{}", self._id(change, ctx)), change)
        return None

    async def _write_tenant(self, change: Change, ctx: ApplyContext) -> Resource | None:
        """Create, update, suspend or resume: status travels in the PATCH body."""
        body = self._tenant_body(change, ctx)
        if change.action is not C:
            await self._patch_tenant(change, self._id(change, ctx), body)
            return None
        status = body.pop("status", None)  # a tenant is created active
        answer = await self._send(
            "POST", _path("/tenants"), change, {"name": change.id.key, **body}
        )
        created = await self._created(change, answer)
        if status == "suspended":
            assert created.server_id is not None
            await self._patch_tenant(change, created.server_id, {"status": status})
        return created

    async def _delete_operator(self, change: Change, ctx: ApplyContext) -> Resource | None:
        await self._send("DELETE", _path("/users/{}", self._id(change, ctx)), change)
        return None

    async def _write_operator(self, change: Change, ctx: ApplyContext) -> Resource | None:
        """Create, update, suspend or resume: one call per thing the change moves."""
        want = self._changed(change)
        tenant_id: str | None = None
        if want.get("tenant"):
            tenant_id = ctx.server_id(ResourceId(Kind.TENANT, want["tenant"]))
        if change.action is C:
            body: dict[str, Any] = {"email": change.id.key, "role": want.get("role")}
            if "name" in want:
                body["name"] = want["name"]
            if tenant_id is not None:
                body["tenant_id"] = tenant_id
            answer = await self._send("POST", _path("/users"), change, body)
            created = await self._created(change, answer)
            if want.get("status") == "disabled":
                assert created.server_id is not None  # _created answers with one
                await self._send("POST", _path("/users/{}/disable", created.server_id), change)
            return created
        assert change.live is not None
        user = self._id(change, ctx)
        if change.action is R:
            await self._send("POST", _path("/users/{}/enable", user), change, repeatable=True)
        if "name" in want:
            email = change.live.server.get("email", change.id.key)
            body = {"email": email, "name": want["name"]}
            await self._send("PUT", _path("/users/{}", user), change, body)
        if "role" in want:
            await self._move_role(change, user, want["role"])
        if "tenant" in want:
            path = _path("/users/{}/tenant", user)
            await self._send("POST", path, change, {"tenant_id": tenant_id}, repeatable=True)
        if change.action is S:
            await self._send("POST", _path("/users/{}/disable", user), change, repeatable=True)
        return None

    async def _move_role(self, change: Change, user_id: str, role: str) -> None:
        """The new role first, then the other operator role: never a user without one.

        Roles that are not operator roles (a customer's) are the user's own business.
        """
        assert change.live is not None
        held = change.live.server.get("roles", [])
        if role not in held:
            path = _path("/users/{}/roles", user_id)
            await self._send("POST", path, change, {"role": role}, repeatable=True)
        for old in OPERATOR_ROLES:  # only these two names: a live role never reaches a path
            if old != role and old in held:
                await self._send("DELETE", _path("/users/{}/roles/{}", user_id, old), change)


PROVIDER = OperatorV1Provider

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
tenant roles, owners or WireGuard keys. The document is silent on bodies,
envelopes and paging, so each of those is a target option
(:class:`~reconciler.options.operator_v1.OperatorV1Options`): answers are read
by :mod:`.operator_v1_shapes`, bodies built by :mod:`.operator_v1_bodies`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from reconciler.errors import ApiError, SpecProblem
from reconciler.model import Action, Change, Kind, Resource, ResourceId, State
from reconciler.options import DialectOptions
from reconciler.options.operator_v1 import OperatorV1Options
from reconciler.providers.base import (
    ApplyContext,
    Capabilities,
    KindHandlers,
    KindSupport,
    ListingUse,
    Provider,
    ReadScope,
)
from reconciler.providers.operator_v1_bodies import Bodies, changed
from reconciler.providers.operator_v1_shapes import (
    OPERATOR_ROLES,
    Row,
    Shapes,
    tolerant_items,
    total_at,
)
from reconciler.providers.paging import JSON
from reconciler.providers.paths import segment_problem, url_path

if TYPE_CHECKING:  # annotations only: the client (httpx) loads when a run makes one
    from reconciler.providers.http import ApiClient

BASE = "/api/v1/operator"
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

    def __init__(self, client: ApiClient, options: DialectOptions | None = None) -> None:
        super().__init__(client, options)
        assert isinstance(self.options, OperatorV1Options)
        self.settings: OperatorV1Options = self.options
        self.shapes = Shapes(self.settings)
        self.bodies = Bodies(self.settings)

    def listings(self) -> list[ListingUse]:
        """Device tiers, plans, tenants and users: each paged as ``lists.<name>`` says."""
        lists, shapes = self.settings.lists, self.shapes
        return [
            ListingUse(
                "device tiers",
                _path("/device-tiers"),
                "lists.deviceTiers",
                lists.device_tiers,
                shapes.named_row,
            ),
            ListingUse("plans", _path("/plans"), "lists.plans", lists.plans, shapes.named_row),
            ListingUse(
                "tenants", _path("/tenants"), "lists.tenants", lists.tenants, shapes.tenant_row
            ),
            ListingUse("users", _path("/users"), "lists.users", lists.users, shapes.user_row),
        ]

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

    def _walk(self, use: ListingUse) -> AsyncIterator[Any]:
        """Every item of one listing. At the default envelope (``items``, offset paging)
        the tolerance the dialect always had holds: a list under the collection's own
        name or a bare array is read too. A listing configured otherwise is read
        exactly as configured."""
        listing = use.listing
        if listing.items == "items" and listing.paging == "offset":
            return self.client.paginate_offset(
                use.path,
                tolerant_items(use.label.replace(" ", "_")),
                limit=listing.page_size,
                total=total_at(listing),
                resource=use.label,
                offset_param=listing.offset_param,
                limit_param=listing.limit_param,
                decode=use.decode,
            )
        return self.client.paginate(use.path, listing, resource=use.label, decode=use.decode)

    def _list(self, scope: ReadScope, label: str) -> Awaitable[list[Row]]:
        """One paged listing (by its label), fetched once per read however many kinds need it."""
        use = next(u for u in self.listings() if u.label == label)

        async def fetch() -> list[Row]:
            return [item async for item in self._walk(use) if item is not None]

        return scope.once(use.path, fetch)

    def _subscription_plans(self, scope: ReadScope) -> Awaitable[list[Row]]:
        return self._list(scope, "plans")

    async def _tenants(self, scope: ReadScope) -> list[Row]:
        # A tenant the server keeps as deleted (a soft delete) is gone for us.
        listed = await self._list(scope, "tenants")
        return [t for t in listed if self.shapes.status(t) != "deleted"]

    def _names(self, rows: list[Row]) -> dict[str, str]:
        """Server id → name of listed objects."""
        key = self.settings.fields.name
        return {str(self.shapes.ident(r)): str(r[key]) for r in rows}

    async def _read_tiers(self, scope: ReadScope) -> list[Resource]:
        listed = await self._list(scope, "device tiers")
        return [self.shapes.named_resource(Kind.DEVICE_TIER, t) for t in listed]

    async def _read_subscription_plans(self, scope: ReadScope) -> list[Resource]:
        return [
            self.shapes.named_resource(Kind.SUBSCRIPTION_PLAN, p)
            for p in await self._subscription_plans(scope)
        ]

    async def _read_tier_defaults(self, scope: ReadScope) -> list[Resource]:
        gate = scope.gate("tier defaults", TIER_DEFAULT_READS)
        tier_names = None
        if self.settings.tier_defaults.tier_reference == "id":
            tier_names = self._names(await self._list(scope, "device tiers"))
        decode = self.shapes.tiers(tier_names)
        subscription_plans = await self._subscription_plans(scope)
        return list(
            await asyncio.gather(
                *(self._tier_defaults(p, gate, decode) for p in subscription_plans)
            )
        )

    async def _read_tenants(self, scope: ReadScope) -> list[Resource]:
        subscription_plans, tenants = await asyncio.gather(
            self._subscription_plans(scope), self._tenants(scope)
        )
        plan_names, tenant_names = self._names(subscription_plans), self._names(tenants)
        return [self.shapes.tenant_resource(t, plan_names, tenant_names) for t in tenants]

    async def _read_operators(self, scope: ReadScope) -> list[Resource]:
        tenants, users = await asyncio.gather(self._tenants(scope), self._list(scope, "users"))
        tenant_names = self._names(tenants)
        found = (self.shapes.operator_resource(u, tenant_names) for u in users)
        return [operator for operator in found if operator is not None]

    async def _tier_defaults(
        self, subscription_plan: Row, gate: asyncio.Semaphore, decode: Callable[[JSON], Any]
    ) -> Resource:
        rid = ResourceId(Kind.TIER_DEFAULTS, str(subscription_plan[self.settings.fields.name]))
        ident = self.shapes.ident(subscription_plan)
        if ident is None or segment_problem(ident) is not None:
            # No path can name this plan: its tiers stay unread, the object unaddressable.
            return Resource(rid, {}, server={} if ident is None else {"id": ident})
        async with gate:
            path = _path("/plans/{}/tier-defaults", ident)
            found = await self.client.call("GET", path, resource=str(rid), decode=decode)
        return Resource(rid, {"tiers": found}, server={"id": ident})

    # ---- writing -------------------------------------------------------------

    @staticmethod
    def _id(change: Change, ctx: ApplyContext) -> str:
        if change.live is not None and change.live.server_id is not None:
            return change.live.server_id
        return ctx.server_id(change.id)

    async def _created(self, change: Change, answer: JSON) -> Resource:
        """The new object with its server id: from the answer, else re-read by name."""
        assert change.desired is not None
        if isinstance(answer, dict) and self.shapes.ident(answer) is not None:
            return Resource(change.id, change.desired.fields, server=self.shapes.server(answer))
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
        if change.action is C:
            body = self.bodies.named_create(change)
            answer = await self._send("POST", _path(collection), change, body)
            return await self._created(change, answer)
        body = self.bodies.named_replace(change)
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
        path = _path("/plans/{}/tier-defaults", subscription_plan_id)
        await self._send("PUT", path, change, self.bodies.tier_defaults(tiers, ctx))
        return None

    async def _patch_tenant(self, change: Change, tenant_id: str, body: dict[str, Any]) -> None:
        path = _path("/tenants/{}", tenant_id)
        answer = await self._send("PATCH", path, change, body)
        key = self.settings.fields.status
        asked = body.get(key)
        shown = answer.get(key) if isinstance(answer, dict) else None
        # A server that ignores the field would otherwise "succeed" at every apply.
        if asked and shown is not None and self.shapes.status(answer) != asked:
            raise ApiError(
                "PATCH",
                path,
                200,
                f"asked for status '{asked}', the server answered '{shown}': "
                "it does not take a tenant's status in PATCH",
                str(change.id),
            )

    async def _delete_tenant(self, change: Change, ctx: ApplyContext) -> Resource | None:
        await self.client.delete(
            _path("/tenants/{}", self._id(change, ctx)), resource=str(change.id)
        )
        return None

    async def _write_tenant(self, change: Change, ctx: ApplyContext) -> Resource | None:
        """Create, update, suspend or resume: status travels in the PATCH body."""
        body = self.bodies.tenant(change, ctx)
        if change.action is not C:
            await self._patch_tenant(change, self._id(change, ctx), body)
            return None
        status = body.pop(self.settings.fields.status, None)  # a tenant is created active
        body = {self.settings.fields.name: change.id.key, **body}
        answer = await self._send("POST", _path("/tenants"), change, body)
        created = await self._created(change, answer)
        if status == "suspended":
            assert created.server_id is not None
            await self._patch_tenant(change, created.server_id, self.bodies.status(status))
        return created

    async def _delete_operator(self, change: Change, ctx: ApplyContext) -> Resource | None:
        await self.client.delete(_path("/users/{}", self._id(change, ctx)), resource=str(change.id))
        return None

    async def _write_operator(self, change: Change, ctx: ApplyContext) -> Resource | None:
        """Create, update, suspend or resume: one call per thing the change moves."""
        want = changed(change)
        if change.action is C:
            body = self.bodies.user_create(change, ctx)
            answer = await self._send("POST", _path("/users"), change, body)
            created = await self._created(change, answer)
            if want.get("status") == "disabled":
                assert created.server_id is not None  # _created answers with one
                path = _path("/users/{}/disable", created.server_id)
                await self._send("POST", path, change, repeatable=True)
            return created
        assert change.live is not None
        user = self._id(change, ctx)
        if change.action is R:
            await self._send("POST", _path("/users/{}/enable", user), change, repeatable=True)
        if "name" in want:
            email = change.live.server.get("email", change.id.key)
            body = self.bodies.user_profile(email, want["name"])
            await self._send("PUT", _path("/users/{}", user), change, body)
        if "role" in want:
            await self._move_role(change, user, want["role"])
        if "tenant" in want:
            path = _path("/users/{}/tenant", user)
            body = self.bodies.user_tenant(ctx, want["tenant"])
            await self._send("POST", path, change, body, repeatable=True)
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
            await self._send("POST", path, change, self.bodies.role(role), repeatable=True)
        for old in OPERATOR_ROLES:  # only these two names: a live role never reaches a path
            if old != role and old in held:
                await self.client.delete(
                    _path("/users/{}/roles/{}", user_id, old), resource=str(change.id)
                )


PROVIDER = OperatorV1Provider

"""The ``reference`` dialect: the operator API's paths plus tenant lifecycle and flags.

The contract is ``docs/apis/reference.md``; this module reads as that page does:
subscription plans and their tier defaults, tenants with suspend/resume and per-tenant
flags, users with roles and a tenant assignment, all under ``/api/v1/operator``.
How each listing is paged and where error bodies hold their message are target
options (:class:`~reconciler.options.reference.ReferenceOptions`), the page's by default.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from functools import cached_property
from sys import intern
from typing import Any

from reconciler.errors import PlanError
from reconciler.model import Action, Change, Kind, Resource, ResourceId, flag_key
from reconciler.options.reference import ReferenceOptions
from reconciler.providers.base import (
    ApplyContext,
    Capabilities,
    KindHandlers,
    KindSupport,
    ListingUse,
    Provider,
    ReadScope,
    path_value_problem,
)
from reconciler.providers.paths import segment_problem, url_path
from reconciler.providers.reference_shapes import (
    Row,
    flag_row,
    named_row,
    primary_role,
    server,
    tenant_row,
    tiers,
    user_row,
)

BASE = "/api/v1/operator"

C, U, S, R, D = Action.CREATE, Action.UPDATE, Action.SUSPEND, Action.RESUME, Action.DELETE


def _path(template: str, *values: str | int) -> str:
    """A path under ``BASE``, each value encoded as one segment."""
    return url_path(template, *values, base=BASE)


class ReferenceProvider(Provider):
    """All five kinds on one API, as served by the embedded sandbox."""

    capabilities = Capabilities(
        dialect="reference",
        title="Reference operator API (the embedded sandbox's default)",
        admin_role="operator-admin",
        supports={
            Kind.SUBSCRIPTION_PLAN: KindSupport(
                frozenset({C, U}), frozenset({"display_name", "description"})
            ),
            Kind.TIER_DEFAULTS: KindSupport(frozenset({C, U}), frozenset({"tiers"})),
            Kind.TENANT: KindSupport(
                frozenset({C, U, S, R, D}),
                frozenset({"display_name", "plan", "status", "parent", "configuration"}),
                choices={"status": ("active", "suspended")},
            ),
            Kind.FEATURE_FLAG: KindSupport(
                frozenset({C, U, D}), frozenset({"tenant", "flag", "enabled"})
            ),
            Kind.OPERATOR: KindSupport(
                frozenset({C, U, S, R, D}),
                frozenset({"name", "role", "status", "tenant"}),
                choices={"role": ("operator", "operator-admin")},
            ),
        },
        options=ReferenceOptions,
    )

    def handlers(self) -> Mapping[Kind, KindHandlers]:
        tenant, operator = self._write_tenant, self._write_operator
        return {
            Kind.SUBSCRIPTION_PLAN: KindHandlers(
                self._read_subscription_plans,
                self._create_subscription_plan,
                self._update_subscription_plan,
            ),
            Kind.TIER_DEFAULTS: KindHandlers(self._read_tiers, self._put_tiers, self._put_tiers),
            Kind.TENANT: KindHandlers(
                self._read_tenants, tenant, tenant, tenant, self._delete_tenant
            ),
            Kind.FEATURE_FLAG: KindHandlers(
                self._read_flags, self._create_flag, self._update_flag, None, self._delete_flag
            ),
            Kind.OPERATOR: KindHandlers(
                self._read_operators, operator, operator, operator, self._delete_operator
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
        """A flag's paths go through its tenant, tier defaults' through their subscription plan."""
        kind = change.id.kind
        if kind is Kind.TIER_DEFAULTS:
            return [ResourceId(Kind.SUBSCRIPTION_PLAN, change.id.key)]
        resource = change.desired or change.live
        if kind is Kind.FEATURE_FLAG and resource is not None and resource.fields.get("tenant"):
            return [ResourceId(Kind.TENANT, str(resource.fields["tenant"]))]
        return []

    # ---- reading -------------------------------------------------------------

    @property
    def settings(self) -> ReferenceOptions:
        """The target's options, typed (the base class checked their model)."""
        assert isinstance(self.options, ReferenceOptions)
        return self.options

    def listings(self) -> list[ListingUse]:
        lists = self.settings.lists
        return [
            ListingUse("plans", _path("/plans"), "lists.plans", lists.plans, named_row),
            ListingUse("tenants", _path("/tenants"), "lists.tenants", lists.tenants, tenant_row),
            ListingUse(
                "feature flags",
                _path("/feature-flags"),
                "lists.featureFlags",
                lists.feature_flags,
                flag_row,
            ),
            ListingUse("users", _path("/users"), "lists.users", lists.users, user_row),
        ]

    @cached_property
    def _uses(self) -> dict[str, ListingUse]:
        return {use.label: use for use in self.listings()}

    def _listing(self, scope: ReadScope, label: str) -> Awaitable[list[Row]]:
        """One listing, paged as the target's options say, fetched once per read however
        many kinds need it."""
        use = self._uses[label]

        async def fetch() -> list[Row]:
            listed = self.client.paginate(
                use.path, use.listing, resource=use.label, decode=use.decode
            )
            return [item async for item in listed]

        return scope.once(label, fetch)

    def _subscription_plans(self, scope: ReadScope) -> Awaitable[list[Row]]:
        return self._listing(scope, "plans")

    def _tenants(self, scope: ReadScope) -> Awaitable[list[Row]]:
        return self._listing(scope, "tenants")

    async def _tenant_names(self, scope: ReadScope) -> dict[Any, str]:
        return {t["id"]: t["name"] for t in await self._tenants(scope)}

    async def _read_subscription_plans(self, scope: ReadScope) -> list[Resource]:
        return [
            Resource(
                ResourceId(Kind.SUBSCRIPTION_PLAN, p["name"]),
                {"display_name": p.get("display_name"), "description": p.get("description")},
                server=server(p),
            )
            for p in await self._subscription_plans(scope)
        ]

    async def _read_tiers(self, scope: ReadScope) -> list[Resource]:
        subscription_plans = await self._subscription_plans(scope)
        return list(await asyncio.gather(*(self._tiers_of(p) for p in subscription_plans)))

    async def _tiers_of(self, subscription_plan: Row) -> Resource:
        rid = ResourceId(Kind.TIER_DEFAULTS, subscription_plan["name"])
        ident = subscription_plan["id"]
        if segment_problem(ident) is not None:
            # No path can name this plan: its tiers stay unread, the object unaddressable.
            return Resource(rid, {}, server={"id": ident})
        path = _path("/plans/{}/tier-defaults", ident)
        found = await self.client.call("GET", path, resource=str(rid), decode=tiers)
        return Resource(rid, {"tiers": found}, server={"id": ident})

    async def _read_tenants(self, scope: ReadScope) -> list[Resource]:
        subscription_plans, tenants = await asyncio.gather(
            self._subscription_plans(scope), self._tenants(scope)
        )
        subscription_plan_names = {p["id"]: p["name"] for p in subscription_plans}
        tenant_names = {t["id"]: t["name"] for t in tenants}
        return [
            Resource(
                ResourceId(Kind.TENANT, t["name"]),
                {
                    "display_name": t.get("display_name"),
                    "plan": subscription_plan_names.get(t.get("plan_id")),
                    "status": t.get("status"),
                    "parent": tenant_names.get(t.get("parent_id")),
                    "configuration": t.get("configuration") or {},
                },
                server=server(t),
            )
            for t in tenants
        ]

    async def _read_flags(self, scope: ReadScope) -> list[Resource]:
        """One paged listing of every tenant's flags, not a request per tenant.

        Each flag becomes its resource as its page arrives, so a page's rows (the
        decoded JSON, about 90 MB at 110,000 objects if a listing's rows were kept
        to its end) are freed page by page. The tenants' names, which a flag's key
        needs, are listed at the same time: rows that come before them wait, the
        rest never do. Not shared with other readers (no other kind reads flags).
        The listing's texts are not shared page by page (a pass over every text of
        100,000 rows): the builder shares the few it keeps.
        """
        names = asyncio.ensure_future(self._tenant_names(scope))
        use = self._uses["feature flags"]
        build = _FlagBuilder()
        waiting: list[Row] | None = []
        try:
            listed = self.client.paginate(
                use.path, use.listing, resource=use.label, decode=use.decode, share_text=False
            )
            async for row in listed:
                if waiting is None:
                    build.add(row)
                elif names.done():
                    build.names = names.result()
                    build.add_all(waiting)
                    build.add(row)
                    waiting = None
                else:
                    waiting.append(row)
            if waiting is not None:
                build.names = await names
                build.add_all(waiting)
        finally:
            if not names.done():
                names.cancel()
            elif not names.cancelled():
                names.exception()  # seen: the listing's own error, if any, is the one raised
        return build.found

    async def _read_operators(self, scope: ReadScope) -> list[Resource]:
        tenant_names, users = await asyncio.gather(
            self._tenant_names(scope), self._listing(scope, "users")
        )
        return [
            Resource(
                ResourceId(Kind.OPERATOR, str(u["email"]).lower()),
                {
                    "name": u.get("name"),
                    "role": primary_role(u.get("roles") or []),
                    "status": "active" if u.get("enabled", True) else "disabled",
                    "tenant": tenant_names.get(u.get("tenant_id")),
                },
                server={**server(u), "roles": list(u.get("roles") or [])},
            )
            for u in users
        ]

    # ---- writing -------------------------------------------------------------

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

    async def _create_subscription_plan(self, change: Change, ctx: ApplyContext) -> Resource | None:
        want = self._changed(change)
        created = await self._send("POST", _path("/plans"), change, {"name": change.id.key, **want})
        return Resource(change.id, want, server=server(created))

    async def _update_subscription_plan(self, change: Change, ctx: ApplyContext) -> Resource | None:
        path = _path("/plans/{}", self._live_id(change))
        await self._send("PUT", path, change, self._changed(change))
        return None

    async def _put_tiers(self, change: Change, ctx: ApplyContext) -> Resource | None:
        subscription_plan_id = ctx.server_id(ResourceId(Kind.SUBSCRIPTION_PLAN, change.id.key))
        tiers = dict(change.live.fields.get("tiers") or {}) if change.live else {}
        assert change.desired is not None
        for tier, limit in (change.desired.fields.get("tiers") or {}).items():
            if limit is None:
                tiers.pop(tier, None)
            else:
                tiers[tier] = limit
        rows = [{"tier": t, "slot_limit": n} for t, n in sorted(tiers.items())]
        path = _path("/plans/{}/tier-defaults", subscription_plan_id)
        await self._send("PUT", path, change, {"tier_defaults": rows})
        return None

    def _tenant_body(self, want: dict[str, Any], ctx: ApplyContext) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for field, value in want.items():
            if field == "plan":
                body["plan_id"] = (
                    ctx.server_id(ResourceId(Kind.SUBSCRIPTION_PLAN, value)) if value else None
                )
            elif field == "parent":
                body["parent_id"] = ctx.server_id(ResourceId(Kind.TENANT, value)) if value else None
            elif field != "status":
                body[field] = value
        return body

    async def _delete_tenant(self, change: Change, ctx: ApplyContext) -> Resource | None:
        await self.client.delete(
            _path("/tenants/{}", self._live_id(change)), resource=str(change.id)
        )
        return None

    async def _write_tenant(self, change: Change, ctx: ApplyContext) -> Resource | None:
        """Create, update, suspend or resume: the fields first, then the lifecycle call."""
        want = self._changed(change)
        body = self._tenant_body(want, ctx)
        result: Resource | None = None
        if change.action is C:
            body["name"] = change.id.key
            created = await self._send("POST", _path("/tenants"), change, body)
            tenant_id: str | int = created["id"]
            result = Resource(change.id, want, server=server(created))
        else:
            tenant_id = self._live_id(change)
            if body:
                await self._send("PATCH", _path("/tenants/{}", tenant_id), change, body)
        status = change.desired.fields.get("status") if change.desired else None
        if change.action is S or (change.action is C and status == "suspended"):
            path = _path("/tenants/{}/suspend", tenant_id)
            await self._send("POST", path, change, repeatable=True)
        elif change.action is R:
            path = _path("/tenants/{}/resume", tenant_id)
            await self._send("POST", path, change, repeatable=True)
        return result

    def _flag_paths(self, change: Change, ctx: ApplyContext) -> tuple[Resource, str]:
        resource = change.desired or change.live
        assert resource is not None
        return resource, ctx.server_id(ResourceId(Kind.TENANT, resource.fields["tenant"]))

    async def _create_flag(self, change: Change, ctx: ApplyContext) -> Resource | None:
        resource, tenant_id = self._flag_paths(change, ctx)
        body = {"key": resource.fields["flag"], "enabled": resource.fields["enabled"]}
        await self._send("POST", _path("/tenants/{}/feature-flags", tenant_id), change, body)
        return None

    async def _update_flag(self, change: Change, ctx: ApplyContext) -> Resource | None:
        resource, tenant_id = self._flag_paths(change, ctx)
        path = _path("/tenants/{}/feature-flags/{}", tenant_id, resource.fields["flag"])
        await self._send("PUT", path, change, {"enabled": resource.fields["enabled"]})
        return None

    async def _delete_flag(self, change: Change, ctx: ApplyContext) -> Resource | None:
        resource, tenant_id = self._flag_paths(change, ctx)
        path = _path("/tenants/{}/feature-flags/{}", tenant_id, resource.fields["flag"])
        await self.client.delete(path, resource=str(change.id))
        return None

    async def _delete_operator(self, change: Change, ctx: ApplyContext) -> Resource | None:
        await self.client.delete(_path("/users/{}", self._live_id(change)), resource=str(change.id))
        return None

    async def _write_operator(self, change: Change, ctx: ApplyContext) -> Resource | None:
        """Create, update, suspend or resume: one call per field the change moves."""
        want = self._changed(change)
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
            return Resource(change.id, want, server=server(created))
        assert change.live is not None
        user = self._live_id(change)
        if "name" in want:
            await self._send("PUT", _path("/users/{}", user), change, {"name": want["name"]})
        if "role" in want:
            path = _path("/users/{}/roles", user)
            await self._send("POST", path, change, {"role": want["role"]}, repeatable=True)
            for old in change.live.server.get("roles", []):
                if old != want["role"]:
                    await self.client.delete(
                        _path("/users/{}/roles/{}", user, old), resource=str(change.id)
                    )
        if "tenant" in want:
            tenant = want["tenant"]
            tenant_id = ctx.server_id(ResourceId(Kind.TENANT, tenant)) if tenant else None
            path = _path("/users/{}/tenant", user)
            await self._send("POST", path, change, {"tenant_id": tenant_id}, repeatable=True)
        if change.action is S:
            await self._send("POST", _path("/users/{}/disable", user), change, repeatable=True)
        elif change.action is R:
            await self._send("POST", _path("/users/{}/enable", user), change, repeatable=True)
        return None


class _FlagBuilder:
    """Live flags made from listed rows, once the tenants' names are known.

    The loop runs once per flag (100,000 at 10,000 tenants): plain statements, no
    comprehension or unpacking per flag. Of a row's texts a flag keeps its key,
    interned (as the specs' flag names are: the live and the desired flag share
    one string, and a key repeated in every tenant is one object), and its two
    timestamps, one object when they are equal (until a flag is changed).
    """

    def __init__(self) -> None:
        self.names: dict[Any, str] = {}
        self.found: list[Resource] = []

    def add_all(self, rows: list[Row]) -> None:
        add = self.add
        for row in rows:
            add(row)
        rows.clear()

    def add(self, f: Row) -> None:
        tenant = self.names.get(f.get("tenant_id"))
        if tenant is None:
            return  # a flag of a tenant that vanished between the two listings
        key = f["key"]
        if type(key) is str:  # text of a subclass cannot be interned: kept as it is
            key = intern(key)
        server = {"id": key}
        if "created_at" in f:
            server["created_at"] = created = f["created_at"]
            if "updated_at" in f:
                updated = f["updated_at"]
                server["updated_at"] = created if updated == created else updated
        elif "updated_at" in f:
            server["updated_at"] = f["updated_at"]
        fields = {"tenant": tenant, "flag": key, "enabled": f.get("enabled")}
        self.found.append(Resource(ResourceId(_FLAG, flag_key(tenant, key)), fields, server))


_FLAG = Kind.FEATURE_FLAG

PROVIDER = ReferenceProvider

"""The ``platform-admin`` API: tenants with plan overrides, users, bulk feature flags.

Document ``003``, under ``/api/v1/platform/admin``; every answer is wrapped as
``{"success": true, "data": ...}``; errors (not shown by the document) are read
as ``{"success": false, "error": {"code", "message"}}`` unless the target's
``errors.message`` names another key:

- tenants, known by their ``company_name``: ``GET /tenants?limit&offset``
  (``limit`` at most 100), ``GET /tenants/{id}``, ``PATCH /tenants/{id}
  {plan_override}``, and the only create, ``POST /tenants/test {company_name,
  owner_email, plan, auto_cleanup_days}`` (a *test* tenant); no delete, no suspend;
- subscription plans: the catalog of slugs tenants are on, read only;
- users (Operators here): ``GET /users``, ``POST /users/{id}/suspend {reason}``,
  ``DELETE /users/{id}?confirmation=<email>``; no create, no update, no resume;
- feature flags: ``GET /tenants/{id}/feature-flags`` and one bulk ``PATCH {flags,
  reason}`` per tenant: every flag change of a tenant in a run goes out in that
  one call, its ``reason`` saying where the change came from.

What the document leaves open (how users and flags page, where the tenant's
page shows the applied override, the cleanup days) is the target's options
(:class:`~reconciler.options.platform_admin.PlatformAdminOptions`).

Length: about 400 lines, kept whole so the module reads as the document does;
the bulk flag call and the envelope need the tenant code beside them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import ApiError
from reconciler.model import Action, Change, Kind, Resource, ResourceId
from reconciler.options import DialectOptions
from reconciler.options.common import maybe_at
from reconciler.options.platform_admin import PlatformAdminOptions
from reconciler.providers.base import (
    ApplyContext,
    Capabilities,
    KindHandlers,
    KindSupport,
    ListingUse,
    Provider,
    ReadScope,
)
from reconciler.providers.paging import InconsistentRead
from reconciler.providers.paths import segment_problem, url_path
from reconciler.providers.platform_admin_shapes import (
    Row,
    data,
    detail_of,
    flag,
    flag_row,
    merged_override,
    operator,
    slug,
    tenant_row,
    user_row,
    users_page,
)

BASE = "/api/v1/platform/admin"
FLAGS_AT = "/api/v1/platform/admin/tenants/{}/feature-flags"
"""A tenant's flags, ``{}`` its id (a :func:`url_path` template, the whole path)."""
CATALOG = ("free", "pro", "enterprise")
"""The subscription plan slugs the document names; slugs seen on tenants are added when read."""
TENANT_FIXED = frozenset({"owner", "plan"})
"""Tenant fields ``POST /tenants/test`` sets once and no call changes."""
C, U, S, R, D = Action.CREATE, Action.UPDATE, Action.SUSPEND, Action.RESUME, Action.DELETE
REFUSED: dict[tuple[Kind, Action | None], str] = {
    (Kind.TENANT, S): "the platform-admin API has no call to suspend a tenant",
    (Kind.TENANT, R): "the platform-admin API has no call to resume a tenant",
    (Kind.TENANT, D): "the platform-admin API has no call to delete a tenant (keep the prune "
    "policy for Tenant 'ignore')",
    (Kind.OPERATOR, C): "no user {key} on the platform, and the platform-admin API cannot "
    "create users (they sign up themselves); an Operator spec here names an existing user "
    "to keep active or to suspend",
    (Kind.OPERATOR, R): "the platform-admin API cannot lift a suspension (no resume call); "
    "re-activate the user on the platform, or write status: disabled",
    (Kind.FEATURE_FLAG, D): "the platform-admin API cannot delete a feature flag (prune policy "
    "'delete'); write the flag as false in the tenant's features and keep the prune policy "
    "for FeatureFlag 'ignore'",
    (Kind.SUBSCRIPTION_PLAN, None): "the platform-admin API does not {action} plans; a Plan "
    "spec here only names a plan the platform offers "
    f"({', '.join(CATALOG)}, or one a tenant is on)",
}
"""Changes this API cannot make, in its own terms; ``None``: any action on the kind."""


def _path(template: str, *values: str | int) -> str:
    """A path under ``BASE``, each value encoded as one segment."""
    return url_path(template, *values, base=BASE)


@dataclass
class _Batch:
    """One bulk flag PATCH of one tenant: the flags it carries and its outcome."""

    flags: frozenset[str]
    sent: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class PlatformAdminProvider(Provider):
    """Tenants (by company name), their plan overrides and flags; users as Operators."""

    capabilities = Capabilities(
        dialect="platform-admin",
        title="Platform admin API: tenants, plan overrides, users, bulk flags (document 003)",
        supports={
            Kind.SUBSCRIPTION_PLAN: KindSupport(
                frozenset(),
                frozenset(),
                notes="read only: the platform's plan slugs, for tenants' 'plan' to refer to",
            ),
            Kind.TENANT: KindSupport(
                frozenset({C, U}),
                frozenset({"owner", "plan", "plan_override"}),
                notes="created as test tenants (POST /tenants/test, cleaned up after "
                "cleanupDays, 30 by default); owner and plan are set at creation only; "
                "planOverride is patched; no delete, no suspend",
            ),
            Kind.FEATURE_FLAG: KindSupport(
                frozenset({C, U}),
                frozenset({"tenant", "flag", "enabled"}),
                notes="one bulk PATCH per tenant per run, its reason the change's origin; "
                "no flag delete: write false",
            ),
            Kind.OPERATOR: KindSupport(
                frozenset({S, D}),
                frozenset({"status"}),
                notes="a platform user by email; users sign up themselves: a spec can keep "
                "one active, suspend it (no resume) or let prune delete it",
            ),
        },
        options=PlatformAdminOptions,
    )

    def __init__(self, client: Any, options: DialectOptions | None = None) -> None:
        super().__init__(client, options)
        self._runs: dict[int, tuple[ApplyContext, dict[str, list[_Batch]]]] = {}
        """Per run (its ApplyContext, kept so its id stays unique), tenant → bulk calls."""

    @property
    def settings(self) -> PlatformAdminOptions:
        """The target's options, typed (the base class checked their model)."""
        assert isinstance(self.options, PlatformAdminOptions)
        return self.options

    def listings(self) -> list[ListingUse]:
        """``GET /tenants``, ``GET /users``, then a tenant's flags (its path holds ``{}``
        where the tenant's id goes, filled by ``reconciler probe``)."""
        lists = self.settings.lists
        return [
            ListingUse("tenants", _path("/tenants"), "lists.tenants", lists.tenants, tenant_row),
            ListingUse("users", _path("/users"), "lists.users", lists.users, user_row),
            ListingUse("flags", FLAGS_AT, "lists.flags", lists.flags, flag_row),
        ]

    def handlers(self) -> Mapping[Kind, KindHandlers]:
        tenant, flag = self._write_tenant, self._write_flag
        return {
            Kind.SUBSCRIPTION_PLAN: KindHandlers(self._read_subscription_plans),
            Kind.TENANT: KindHandlers(self._read_tenants, tenant, tenant),
            Kind.FEATURE_FLAG: KindHandlers(self._read_flags, flag, flag),
            Kind.OPERATOR: KindHandlers(
                self._read_users, lifecycle=self._suspend_user, delete=self._delete_user
            ),
        }

    @classmethod
    def change_problems(cls, change: Change) -> list[str]:
        rid, kind, action = change.id, change.id.kind, change.action
        if kind is Kind.TENANT and action is C:
            want = change.desired.fields if change.desired else {}
            missing = sorted(f for f in TENANT_FIXED if not want.get(f))
            if missing:
                return [
                    f"{rid}: the platform-admin API creates a tenant only with an owner and "
                    f"a plan (POST /tenants/test); the spec does not set {' or '.join(missing)}"
                ]
        if kind is Kind.TENANT and action is U:
            fixed = sorted({fc.path.split(".", 1)[0] for fc in change.fields} & TENANT_FIXED)
            if fixed:
                return [
                    f"{rid}: the platform-admin API cannot change the {' or '.join(fixed)} of "
                    "an existing tenant (POST /tenants/test sets them once); plans change "
                    "through planOverride"
                ]
        refused = REFUSED.get((kind, action)) or REFUSED.get((kind, None))
        return [f"{rid}: " + refused.format(key=rid.key, action=action.value)] if refused else []

    @classmethod
    def unaddressable(cls, resource: Resource) -> str | None:
        """Tenants and users are addressed by their server id; subscription plans never
        are (read only) and neither are flags: their names travel in the bulk PATCH's body,
        under the tenant's path (the tenant's own id is checked on the tenant)."""
        if resource.id.kind in (Kind.SUBSCRIPTION_PLAN, Kind.FEATURE_FLAG):
            return None
        return super().unaddressable(resource)

    @classmethod
    def path_parents(cls, change: Change) -> list[ResourceId]:
        """A flag's bulk PATCH goes to its tenant's path."""
        resource = change.desired or change.live
        if change.id.kind is Kind.FEATURE_FLAG and resource and resource.fields.get("tenant"):
            return [ResourceId(Kind.TENANT, str(resource.fields["tenant"]))]
        return []

    @classmethod
    def preview_answer(cls, method: str, path: str, body: Any, new_id: str) -> Any:
        """Writes are answered in the document's envelope (``tenant_id`` for a create)."""
        return {"success": True, "data": {"tenant_id": new_id, "user_id": new_id}}

    # ---- reading -------------------------------------------------------------

    def _tenants(self, scope: ReadScope) -> Awaitable[list[Row]]:
        path, listing = _path("/tenants"), self.settings.lists.tenants

        async def fetch() -> list[Row]:
            return [
                t
                async for t in self.client.paginate(
                    path, listing, resource="tenants", decode=tenant_row
                )
            ]

        return scope.once("/tenants", fetch)

    async def _read_subscription_plans(self, scope: ReadScope) -> list[Resource]:
        seen = [slug(t.get("plan")) for t in await self._tenants(scope)]
        slugs = dict.fromkeys([*CATALOG, *(s for s in seen if s)])
        return [
            Resource(ResourceId(Kind.SUBSCRIPTION_PLAN, s), {}, server={"id": s}) for s in slugs
        ]

    async def _per_tenant(
        self, scope: ReadScope, read: Callable[[Row], Awaitable[list[Resource]]]
    ) -> list[Resource]:
        """``read`` of every tenant, eight at a time at most (a tenant no path can name
        is listed, but neither its page nor its flags are read: it is unaddressable)."""
        gate = scope.gate("tenant pages", 8)

        async def one(t: Row) -> list[Resource]:
            async with gate:
                return await read(t)

        found = await asyncio.gather(*(one(t) for t in await self._tenants(scope)))
        return [resource for resources in found for resource in resources]

    async def _read_tenants(self, scope: ReadScope) -> list[Resource]:
        return await self._per_tenant(scope, self._tenant)

    async def _tenant(self, t: Row) -> list[Resource]:
        name, tid = str(t["company_name"]), str(t["id"])
        detail: Row = {}
        if segment_problem(tid) is None:
            # The list has no overrides: the tenant's own page shows what is applied.
            path = _path("/tenants/{}", tid)
            label = str(ResourceId(Kind.TENANT, name))
            detail = await self.client.call("GET", path, resource=label, decode=detail_of(path))
        fields = {
            "owner": t.get("owner_email", detail.get("owner_email")),
            "plan": slug(t.get("plan")) or slug(detail.get("plan")),
            "plan_override": maybe_at(detail, self.settings.override_key),
        }
        server = {"id": tid, "status": t.get("status"), "created_at": t.get("created_at")}
        return [Resource(ResourceId(Kind.TENANT, name), fields, server=server)]

    async def _read_flags(self, scope: ReadScope) -> list[Resource]:
        return await self._per_tenant(scope, self._flags)

    async def _flags(self, t: Row) -> list[Resource]:
        name, tid = str(t["company_name"]), str(t["id"])
        if segment_problem(tid) is not None:
            return []
        path, listing = url_path(FLAGS_AT, tid), self.settings.lists.flags
        return [
            f
            async for f in self.client.paginate(
                path,
                listing,
                resource=f"Tenant/{name} feature flags",
                decode=lambda item: flag(name, item),
            )
        ]

    async def _read_users(self, scope: ReadScope) -> list[Resource]:
        """Every user. The document shows ``GET /users`` answered with every user
        at once, so the first answer is asked for as shown; only when its total
        says there is more is the listing walked as ``lists.users`` says."""
        path, listing = _path("/users"), self.settings.lists.users
        if listing.paging in ("offset", "page"):
            users, total = await self.client.call(
                "GET", path, resource="users", decode=users_page(listing)
            )
            if total is None or len(users) >= total:
                ids = [str(u["id"]) for u in users]
                if len(set(ids)) < len(ids):
                    raise InconsistentRead(path, "the listing returned a user twice")
                return [operator(u) for u in users]
        walked = self.client.paginate(path, listing, resource="users", decode=user_row)
        return [operator(u) async for u in walked]

    # ---- writing -------------------------------------------------------------

    async def _write_tenant(self, change: Change, ctx: ApplyContext) -> Resource | None:
        assert change.desired is not None
        want, rid = change.desired.fields, str(change.id)
        if change.action is C:
            body = {
                "company_name": change.id.key,
                "owner_email": want["owner"],
                "plan": want["plan"],
                "auto_cleanup_days": self.settings.cleanup_days,
            }
            path = _path("/tenants/test")
            made = data(await self.client.call("POST", path, json_body=body, resource=rid), path)
            if not isinstance(made, dict) or made.get("tenant_id") is None:
                raise ApiError("POST", path, 201, "the answer names no tenant_id", rid)
            tid = str(made["tenant_id"])
            if want.get("plan_override"):
                await self._override(tid, merged_override(None, want["plan_override"]), rid)
            return Resource(change.id, {}, server={"id": tid, "expires_at": made.get("expires_at")})
        if any(fc.path.split(".", 1)[0] == "plan_override" for fc in change.fields):
            live = change.live.fields.get("plan_override") if change.live else None
            merged = merged_override(live, want.get("plan_override") or {})
            await self._override(ctx.server_id(change.id), merged, rid)
        return None

    async def _override(self, tid: str, override: dict[str, Any], rid: str) -> None:
        await self.client.call(
            "PATCH", _path("/tenants/{}", tid), json_body={"plan_override": override}, resource=rid
        )

    async def _suspend_user(self, change: Change, ctx: ApplyContext) -> Resource | None:
        """Suspend (the API has no resume: a change plan holding one is refused)."""
        if change.action is S:
            await self.client.call(
                "POST",
                _path("/users/{}/suspend", ctx.server_id(change.id)),
                json_body={"reason": ctx.origin},
                resource=str(change.id),
                idempotent=True,  # suspending a suspended user changes nothing
            )
        return None

    async def _delete_user(self, change: Change, ctx: ApplyContext) -> Resource | None:
        """404 is gone already, what a delete wants (a retry after a lost answer meets it)."""
        email = (change.live.server.get("email") if change.live else None) or change.id.key
        path = _path("/users/{}", ctx.server_id(change.id))
        await self.client.delete(path, params={"confirmation": email}, resource=str(change.id))
        return None

    async def _write_flag(self, change: Change, ctx: ApplyContext) -> Resource | None:
        """Send this flag in its tenant's one bulk PATCH, or wait for the sibling sending it.

        The first flag change of a tenant to run sends every flag change of that
        tenant in the change plan (``ctx.changes``); the others share that call's
        outcome, success or failure. Registering the batch happens before the
        first ``await``, so concurrent siblings always find it.
        """
        assert change.desired is not None
        tenant, flag = str(change.desired.fields["tenant"]), str(change.desired.fields["flag"])
        batches = self._runs.setdefault(id(ctx), (ctx, {}))[1].setdefault(tenant, [])
        for batch in batches:
            if flag in batch.flags:
                await asyncio.shield(batch.sent)
                return None
        wanted = {flag: bool(change.desired.fields["enabled"])}
        taken = {f for b in batches for f in b.flags}
        for sibling in ctx.changes:
            fields = sibling.desired.fields if sibling.desired else {}
            if (
                sibling.id.kind is Kind.FEATURE_FLAG
                and sibling.action in (C, U)
                and fields.get("tenant") == tenant
                and fields.get("flag") not in taken
            ):
                wanted.setdefault(str(fields["flag"]), bool(fields["enabled"]))
        batch = _Batch(frozenset(wanted))
        batches.append(batch)
        try:
            await self._send_flags(tenant, wanted, ctx)
        except asyncio.CancelledError:
            batch.sent.cancel()
            raise
        except Exception as exc:
            batch.sent.set_exception(exc)
            batch.sent.exception()  # retrieved: this change reports it, siblings re-raise it
            raise
        batch.sent.set_result(None)
        return None

    async def _send_flags(self, tenant: str, wanted: dict[str, bool], ctx: ApplyContext) -> None:
        tid = ctx.server_id(ResourceId(Kind.TENANT, tenant))
        flags = [{"flag_name": name, "enabled": wanted[name]} for name in sorted(wanted)]
        await self.client.call(
            "PATCH",
            _path("/tenants/{}/feature-flags", tid),
            json_body={"flags": flags, "reason": ctx.origin},
            resource=f"Tenant/{tenant} feature flags",
        )


PROVIDER = PlatformAdminProvider

"""The ``platform-admin`` API: tenants with plan overrides, users, bulk feature flags.

Document ``003``, under ``/api/v1/platform/admin``, every answer wrapped as
``{"success": true, "data": ...}``:

- tenants: ``GET /tenants?limit&offset`` (``limit`` at most 100), ``GET
  /tenants/{id}``, ``PATCH /tenants/{id} {plan_override}``, and the only create,
  ``POST /tenants/test {company_name, owner_email, plan}``; no delete;
- users: ``GET /users``, ``POST /users/{id}/suspend {reason}``, ``DELETE
  /users/{id}?confirmation=<email>``; no create, no update;
- feature flags: ``GET /tenants/{id}/feature-flags`` and one bulk ``PATCH
  {flags, reason}`` per tenant: every flag change of a tenant in a run goes out
  in that one call, its ``reason`` saying where the change came from.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Any, ClassVar

from reconciler.errors import PlanError
from reconciler.model import Action, Change, Kind, Resource, ResourceId, State, flag_key
from reconciler.providers.base import ApplyContext, KindSupport, Provider

BASE = "/api/v1/platform/admin"
PAGE = 100  # the document's maximum
C, U, S, D = Action.CREATE, Action.UPDATE, Action.SUSPEND, Action.DELETE


def _data(body: Any) -> Any:
    if not isinstance(body, dict) or "data" not in body:
        raise TypeError("expected the {'success': true, 'data': ...} envelope")
    return body["data"]


def _slug(plan: Any) -> str | None:
    if isinstance(plan, dict):
        return plan.get("slug") or plan.get("name")
    return plan if isinstance(plan, str) else None


class PlatformAdminProvider(Provider):
    """Tenants (by company name), their flags and overrides; users as Operators."""

    dialect = "platform-admin"
    title = "Platform admin API: tenants, plan overrides, users, bulk flags (document 003)"
    supports: ClassVar[dict[Kind, KindSupport]] = {
        Kind.TENANT: KindSupport(
            frozenset({C, U}),
            frozenset({"owner", "plan_override"}),
            notes="created as test tenants (POST /tenants/test); owner is set at creation "
            "only; plans change through planOverride; no delete",
        ),
        Kind.FEATURE_FLAG: KindSupport(
            frozenset({C, U}),
            frozenset({"tenant", "flag", "enabled"}),
            notes="one bulk PATCH per tenant with a reason; no flag delete",
        ),
        Kind.OPERATOR: KindSupport(
            frozenset({S, D}),
            frozenset({"status"}),
            notes="users exist on the platform already: they can be suspended or deleted",
        ),
    }

    @classmethod
    def preview_answer(cls, method: str, path: str, body: Any, new_id: str) -> Any:
        """Writes are answered in the document's envelope (``tenant_id`` for a create)."""
        return {"success": True, "data": {"tenant_id": new_id, "user_id": new_id}}

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self._batches: dict[str, asyncio.Future[None]] = {}

    # ---- reading -------------------------------------------------------------

    async def read(self, kinds: Collection[Kind]) -> State:
        state = State()
        tenants = [
            t
            async for t in self.client.paginate_offset(
                f"{BASE}/tenants",
                lambda body: _data(body)["tenants"],
                limit=PAGE,
                total=lambda body: (_data(body).get("pagination") or {}).get("total"),
                resource="tenants",
            )
        ]
        names = {str(t["id"]): str(t["company_name"]) for t in tenants}
        semaphore = asyncio.Semaphore(8)

        async def details(t: dict[str, Any]) -> list[Resource]:
            async with semaphore:
                return await self._tenant(t, set(kinds))

        for resources in await asyncio.gather(*(details(t) for t in tenants)):
            for resource in resources:
                state.add(resource)
        if Kind.OPERATOR in kinds:
            users = _data(await self.client.call("GET", f"{BASE}/users", resource="users"))
            for u in users:
                state.add(
                    Resource(
                        ResourceId(Kind.OPERATOR, str(u["email"]).lower()),
                        {"status": "disabled" if u.get("status") == "suspended" else "active"},
                        server={
                            "id": str(u["id"]),
                            "email": u["email"],
                            "tenant": names.get(str(u.get("tenant_id"))),
                        },
                    )
                )
        return state

    async def _tenant(self, t: dict[str, Any], kinds: set[Kind]) -> list[Resource]:
        name, tid = str(t["company_name"]), str(t["id"])
        out: list[Resource] = []
        if Kind.TENANT in kinds:
            # The list has no overrides; the tenant itself shows what was applied.
            one = _data(await self.client.call("GET", f"{BASE}/tenants/{tid}", resource=name))
            detail = one.get("tenant", one)
            out.append(
                Resource(
                    ResourceId(Kind.TENANT, name),
                    {
                        "owner": t.get("owner_email"),
                        "plan_override": detail.get("plan_override"),
                    },
                    server={"id": tid, "status": t.get("status"), "plan": _slug(t.get("plan"))},
                )
            )
        if Kind.FEATURE_FLAG in kinds:
            flags = _data(
                await self.client.call(
                    "GET", f"{BASE}/tenants/{tid}/feature-flags", resource=f"Tenant/{name}"
                )
            )
            for f in flags.get("flags", []):
                out.append(
                    Resource(
                        ResourceId(Kind.FEATURE_FLAG, flag_key(name, str(f["flag_name"]))),
                        {"tenant": name, "flag": str(f["flag_name"]), "enabled": f.get("enabled")},
                        server={"id": str(f["flag_name"]), "updated_at": f.get("updated_at")},
                    )
                )
        return out

    # ---- writing -------------------------------------------------------------

    async def apply(self, change: Change, ctx: ApplyContext) -> Resource | None:
        kind, rid = change.id.kind, str(change.id)
        if kind is Kind.TENANT:
            return await self._apply_tenant(change, ctx)
        if kind is Kind.FEATURE_FLAG:
            await self._flags_of(change.id.key.split("/", 1)[0], ctx)
            return None
        user_id = ctx.server_id(change.id)
        if change.action is S:
            await self.client.call(
                "POST",
                f"{BASE}/users/{user_id}/suspend",
                json_body={"reason": ctx.origin},
                resource=rid,
                idempotent=True,
            )
        elif change.action is D:
            email = (change.live.server.get("email") if change.live else None) or change.id.key
            await self.client.call(
                "DELETE",
                f"{BASE}/users/{user_id}",
                params={"confirmation": email},
                resource=rid,
            )
        return None

    async def _apply_tenant(self, change: Change, ctx: ApplyContext) -> Resource | None:
        assert change.desired is not None
        want, rid = change.desired.fields, str(change.id)
        if change.action is C:
            if not want.get("owner"):
                raise PlanError(f"{rid}: creating a tenant on this API needs its 'owner' email")
            body = {
                "company_name": change.id.key,
                "owner_email": want["owner"],
                "plan": "free",  # plans are not specs here: planOverride sets the real one
            }
            made = _data(
                await self.client.call("POST", f"{BASE}/tenants/test", json_body=body, resource=rid)
            )
            tid = str(made["tenant_id"])
            if want.get("plan_override"):
                await self._override(tid, want["plan_override"], rid)
            return Resource(change.id, {}, server={"id": tid})
        changed = {fc.path.split(".", 1)[0] for fc in change.fields}
        fixed = changed & {"owner"}
        if fixed:
            raise PlanError(
                f"{rid}: the platform-admin API cannot change {', '.join(sorted(fixed))} of an "
                "existing tenant (use planOverride for plan changes)"
            )
        if "plan_override" in changed:
            await self._override(ctx.server_id(change.id), want.get("plan_override") or {}, rid)
        return None

    async def _override(self, tid: str, override: dict[str, Any], rid: str) -> None:
        await self.client.call(
            "PATCH", f"{BASE}/tenants/{tid}", json_body={"plan_override": override}, resource=rid
        )

    async def _flags_of(self, tenant: str, ctx: ApplyContext) -> None:
        """Every flag change of ``tenant`` in this run, in one bulk PATCH, sent once.

        The first flag change of a tenant to run sends all of them; the others
        wait for that call and share its outcome, success or failure.
        """
        batch = self._batches.get(tenant)
        if batch is None:
            batch = asyncio.get_running_loop().create_future()
            self._batches[tenant] = batch
            try:
                await self._send_flags(tenant, ctx)
            except BaseException as exc:
                batch.set_exception(exc)
                batch.exception()  # retrieved: this change reports it; siblings re-raise it
                raise
            batch.set_result(None)
            return
        await asyncio.shield(batch)

    async def _send_flags(self, tenant: str, ctx: ApplyContext) -> None:
        flags = [
            {"flag_name": c.desired.fields["flag"], "enabled": c.desired.fields["enabled"]}
            for c in ctx.changes
            if c.id.kind is Kind.FEATURE_FLAG
            and c.desired is not None
            and c.desired.fields.get("tenant") == tenant
        ]
        tid = ctx.server_id(ResourceId(Kind.TENANT, tenant))
        await self.client.call(
            "PATCH",
            f"{BASE}/tenants/{tid}/feature-flags",
            json_body={"flags": flags, "reason": ctx.origin},
            resource=f"Tenant/{tenant} feature flags",
        )


PROVIDER = PlatformAdminProvider

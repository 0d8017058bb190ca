"""The ``operator-v1`` API: the IoT platform's cross-tenant operator endpoints.

Document ``000`` lists, under ``/api/v1/operator``: tenants (list, create, get,
``PATCH``, delete), users with the ``operator``/``operator-admin`` roles
(create, ``PUT``, delete, enable/disable, add/remove a role, assign a tenant),
plans (list, create, ``PUT``) with their tier defaults (``GET``/``PUT`` the
whole set), and device tiers (list, create, ``PUT``). It lists no feature flags
and no tenant suspend/resume, so neither can be managed here; no plan or device
tier delete either.

The ``reference`` dialect was built after this document, so the calls for
plans, tier defaults, tenants and users are the reference provider's; this
module declares the narrower support and adds device tiers.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, ClassVar

from reconciler.model import Action, Change, Kind, Resource, ResourceId, State
from reconciler.providers.base import ApplyContext, KindSupport
from reconciler.providers.reference import BASE, PAGE, ReferenceProvider, _items, _total

C, U, S, R, D = Action.CREATE, Action.UPDATE, Action.SUSPEND, Action.RESUME, Action.DELETE


class OperatorV1Provider(ReferenceProvider):
    """Plans, tier defaults, device tiers, tenants and operators of document 000."""

    dialect = "operator-v1"
    title = "IoT operator API (document 000)"
    admin_role = "operator-admin"
    supports: ClassVar[dict[Kind, KindSupport]] = {
        Kind.DEVICE_TIER: KindSupport(
            frozenset({C, U}),
            frozenset({"display_name", "description"}),
            notes="the document lists no device tier delete",
        ),
        Kind.PLAN: KindSupport(
            frozenset({C, U}),
            frozenset({"display_name", "description"}),
            notes="the document lists no plan delete",
        ),
        Kind.TIER_DEFAULTS: KindSupport(frozenset({C, U}), frozenset({"tiers"})),
        Kind.TENANT: KindSupport(
            frozenset({C, U, D}),
            frozenset({"display_name", "plan", "parent", "configuration"}),
            notes="the document lists no tenant suspend/resume: status cannot be managed",
        ),
        Kind.OPERATOR: KindSupport(
            frozenset({C, U, S, R, D}),
            frozenset({"name", "role", "status", "tenant"}),
            choices={"role": ("operator", "operator-admin")},
        ),
    }

    async def read(self, kinds: Collection[Kind]) -> State:
        state = await super().read([k for k in kinds if k is not Kind.DEVICE_TIER])
        if Kind.DEVICE_TIER in kinds:
            async for t in self.client.paginate_offset(
                f"{BASE}/device-tiers", _items, limit=PAGE, total=_total, resource="device tiers"
            ):
                state.add(
                    Resource(
                        ResourceId(Kind.DEVICE_TIER, str(t["name"])),
                        {
                            "display_name": t.get("display_name"),
                            "description": t.get("description"),
                        },
                        server={k: t[k] for k in ("id", "created_at", "updated_at") if k in t},
                    )
                )
        return state

    async def apply(self, change: Change, ctx: ApplyContext) -> Resource | None:
        if change.id.kind is not Kind.DEVICE_TIER:
            return await super().apply(change, ctx)
        want: dict[str, Any] = self._changed(change)
        if change.action is C:
            body = await self._send(
                "POST", "/device-tiers", change, {"name": change.id.key, **want}
            )
            return Resource(change.id, {}, server={"id": str(body["id"])})
        await self._send("PUT", f"/device-tiers/{ctx.server_id(change.id)}", change, want)
        return None


PROVIDER = OperatorV1Provider

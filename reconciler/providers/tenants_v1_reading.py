"""How the ``tenants-v1`` provider reads live state: tenants, then what lies under each.

``GET /v1/tenants`` is walked as the target's ``lists.tenants`` says; under each
tenant its configuration and its flags, roles and role assignments (each
listing as ``lists.<name>`` says), each fetched once per read however many
kinds need it, eight tenants at a time. Items are read through
:class:`~reconciler.providers.tenants_v1_shapes.Shapes`, so the names a target
configured are the provider's own names here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from reconciler.model import Kind, Resource, ResourceId, assignment_key, flag_key, role_key
from reconciler.options.common import Listing
from reconciler.options.tenants_v1 import TenantsV1Options
from reconciler.providers.base import ReadScope
from reconciler.providers.paging import Decode
from reconciler.providers.paths import segment_problem, url_path
from reconciler.providers.tenants_v1_shapes import Row, Shapes, label

if TYPE_CHECKING:  # annotations only: the client (httpx) loads when a run makes one
    from reconciler.providers.http import ApiClient

BASE = "/v1/tenants"
UNDER_TENANT = {
    "flags": "/v1/tenants/{}/feature-flags",
    "roles": "/v1/tenants/{}/roles",
    "roleAssignments": "/v1/tenants/{}/role-assignments",
    "configuration": "/v1/tenants/{}/configuration",
}
"""The paths under one tenant, ``{}`` its id (:func:`url_path` templates, whole paths:
``reconciler probe`` fills the id from the first tenant ``GET /v1/tenants`` lists)."""
T = TypeVar("T")


class TenantsV1Reader:
    """The provider's readers (``read_tenants``, ``read_flags``, ``read_roles``,
    ``read_grants``) over one client and one target's options."""

    def __init__(self, client: ApiClient, options: TenantsV1Options, shapes: Shapes) -> None:
        self.client, self.options, self.shapes = client, options, shapes

    def per_tenant(self) -> dict[str, tuple[str, Listing, Decode]]:
        """The listings under one tenant, by option name (``lists.<name>``): path
        template (:data:`UNDER_TENANT`), listing and item decoder."""
        lists, shapes = self.options.lists, self.shapes
        return {
            "flags": (UNDER_TENANT["flags"], lists.flags, shapes.flag),
            "roles": (UNDER_TENANT["roles"], lists.roles, shapes.role),
            "roleAssignments": (
                UNDER_TENANT["roleAssignments"],
                lists.role_assignments,
                shapes.grant,
            ),
        }

    def tenants(self, scope: ReadScope) -> Awaitable[list[Row]]:
        listing = self.options.lists.tenants

        async def fetch() -> list[Row]:
            return [
                t
                async for t in self.client.paginate(
                    BASE, listing, resource="tenants", decode=self.shapes.tenant
                )
            ]

        return scope.once("tenants", fetch)

    async def _addressable(self, scope: ReadScope) -> list[Row]:
        """The tenants a path can name: nothing is read under the others (unaddressable,
        never written)."""
        return [t for t in await self.tenants(scope) if segment_problem(str(t["id"])) is None]

    def _under(
        self, scope: ReadScope, t: Row, template: str, read: Callable[[str, str], Awaitable[T]]
    ) -> Awaitable[T]:
        """``read(path, label)`` at ``template`` with tenant ``t``'s id, made once
        per read; at most eight such reads at a time, whichever kinds need them."""
        tid, gate = str(t["id"]), scope.gate("per tenant", 8)

        async def fetch() -> T:
            async with gate:
                return await read(url_path(template, tid), label(t))

        return scope.once((template, tid), fetch)

    def _listed(self, scope: ReadScope, t: Row, name: str) -> Awaitable[list[Row]]:
        """Every item of one of the listings under tenant ``t`` (:meth:`per_tenant`)."""
        template, listing, decode = self.per_tenant()[name]

        async def read(path: str, what: str) -> list[Row]:
            return [
                row
                async for row in self.client.paginate(path, listing, resource=what, decode=decode)
            ]

        return self._under(scope, t, template, read)

    def _configuration_of(self, scope: ReadScope, t: Row) -> Awaitable[dict[str, Any]]:
        async def read(path: str, what: str) -> dict[str, Any]:
            found: dict[str, Any] = await self.client.call(
                "GET", path, resource=what, decode=self.shapes.configuration
            )
            return found

        return self._under(scope, t, UNDER_TENANT["configuration"], read)

    async def read_tenants(self, scope: ReadScope) -> list[Resource]:
        tenants = await self.tenants(scope)
        names = {t["id"]: str(t["name"]) for t in tenants}

        async def one(t: Row) -> Resource:
            tid = str(t["id"])
            config: dict[str, Any] = {}
            if segment_problem(tid) is None:
                config = await self._configuration_of(scope, t)
            return Resource(
                ResourceId(Kind.TENANT, str(t["name"])),
                {
                    "display_name": t.get("display_name"),
                    "status": t.get("status"),
                    "parent": names.get(t.get("parent_id") or ""),
                    "configuration": config,
                },
                server={"id": tid, "status": t.get("status")},
            )

        return list(await asyncio.gather(*(one(t) for t in tenants)))

    async def _each(
        self, scope: ReadScope, read: Callable[[Row], Awaitable[list[Resource]]]
    ) -> list[Resource]:
        found = await asyncio.gather(*(read(t) for t in await self._addressable(scope)))
        return [resource for resources in found for resource in resources]

    async def read_flags(self, scope: ReadScope) -> list[Resource]:
        async def of(t: Row) -> list[Resource]:
            name = str(t["name"])
            return [
                Resource(
                    ResourceId(Kind.FEATURE_FLAG, flag_key(name, str(f["key"]))),
                    {"tenant": name, "flag": str(f["key"]), "enabled": f.get("enabled")},
                    server={"id": str(f["key"])},
                )
                for f in await self._listed(scope, t, "flags")
            ]

        return await self._each(scope, of)

    async def read_roles(self, scope: ReadScope) -> list[Resource]:
        async def of(t: Row) -> list[Resource]:
            name = str(t["name"])
            return [
                Resource(
                    ResourceId(Kind.ROLE, role_key(name, str(role["name"]))),
                    {
                        "tenant": name,
                        "name": str(role["name"]),
                        "description": role.get("description"),
                        "permissions": list(role.get("permissions") or []),
                    },
                    server={"id": str(role["id"])},
                )
                for role in await self._listed(scope, t, "roles")
            ]

        return await self._each(scope, of)

    async def read_grants(self, scope: ReadScope) -> list[Resource]:
        async def of(t: Row) -> list[Resource]:
            name = str(t["name"])
            held, granted = await asyncio.gather(
                self._listed(scope, t, "roles"),
                self._listed(scope, t, "roleAssignments"),
            )
            role_names = {str(role["id"]): str(role["name"]) for role in held}
            found = []
            for grant in granted:
                if grant.get("status", "active") != "active":
                    continue  # a revoked grant is history, not state
                role_name = role_names.get(str(grant["role_id"]))
                if role_name is None:
                    continue
                user = str(grant["user_id"])
                found.append(
                    Resource(
                        ResourceId(Kind.ROLE_ASSIGNMENT, assignment_key(name, role_name, user)),
                        {"tenant": name, "role": role_name, "user": user},
                        server={"id": str(grant["id"])},
                    )
                )
            return found

        return await self._each(scope, of)


__all__ = ["BASE", "TenantsV1Reader"]

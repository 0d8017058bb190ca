"""The ``tenants-v1`` API: tenants behind a gateway, with lifecycle, hierarchy and roles.

Document ``004``. Under ``/v1/tenants``:

- tenants: ``GET ?page&limit``, ``POST``, ``PATCH /{id}``; **no delete**;
- lifecycle: ``POST /{id}/suspend|resume|activate|deactivate``, only with an
  elevated role (403 ``permission_denied`` otherwise), only along the states
  ``active ⇄ suspended`` and ``active ⇄ inactive``;
- ``GET``/``PATCH /{id}/configuration``;
- feature flags: list, ``POST``, ``DELETE /{id}/feature-flags/{key}``; **no
  update**, so a changed flag is deleted then created again;
- roles: list, ``POST``, ``PUT /{id}/roles/{role_id}``, ``DELETE``;
- role assignments: list, ``POST {role_id, user_id}``, ``POST …/{id}/revoke``.

Every id in a path is a UUID; a user id in a spec must be one too (checked
before any call).

Length: a little over 400 lines, kept whole so the module reads as document 004
does (lifecycle, hierarchy, configuration, flags, roles, assignments); answer
decoders live in ``tenants_v1_shapes.py``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from reconciler.errors import ApiError, SpecProblem
from reconciler.model import (
    Action,
    Change,
    Kind,
    Resource,
    ResourceId,
    State,
    assignment_key,
    flag_key,
    role_key,
)
from reconciler.options.tenants_v1 import TenantsV1Options
from reconciler.providers.base import (
    ApplyContext,
    Capabilities,
    KindHandlers,
    KindSupport,
    Provider,
    ReadScope,
    path_value_problem,
)
from reconciler.providers.http import segment_problem, url_path
from reconciler.providers.tenants_v1_shapes import (
    Row,
    configuration,
    data,
    flags,
    grants,
    label,
    roles,
    tenant_row,
    total,
)

BASE = "/v1/tenants"
PAGE = 100
T = TypeVar("T")
C, U, S, R, D = Action.CREATE, Action.UPDATE, Action.SUSPEND, Action.RESUME, Action.DELETE


def _path(template: str, *values: str | int) -> str:
    """A path under ``BASE``, each value encoded as one segment."""
    return url_path(template, *values, base=BASE)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


class TenantsV1Provider(Provider):
    """Tenants with status, parent and configuration; their flags, roles and grants."""

    capabilities = Capabilities(
        dialect="tenants-v1",
        title="Tenants API: lifecycle, hierarchy, configuration, flags, roles (document 004)",
        supports={
            Kind.TENANT: KindSupport(
                frozenset({C, U, S, R}),
                frozenset({"display_name", "status", "parent", "configuration"}),
                notes="no tenant delete in the API; lifecycle calls need an elevated role",
                choices={"status": ("active", "suspended", "inactive")},
            ),
            Kind.FEATURE_FLAG: KindSupport(
                frozenset({C, U, D}),
                frozenset({"tenant", "flag", "enabled"}),
                notes="no flag update: a change is a delete, then a create",
            ),
            Kind.ROLE: KindSupport(
                frozenset({C, U, D}), frozenset({"tenant", "name", "description", "permissions"})
            ),
            Kind.ROLE_ASSIGNMENT: KindSupport(
                frozenset({C, D}),
                frozenset({"tenant", "role", "user"}),
                notes="a delete is a revoke",
            ),
        },
        options=TenantsV1Options,
    )

    @property
    def settings(self) -> TenantsV1Options:
        """The target's options, typed (the base class checked their model)."""
        assert isinstance(self.options, TenantsV1Options)
        return self.options

    def _configuration_body(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The body of ``PATCH /{id}/configuration``: the keys, bare or under the wrapper."""
        wrapper = self.settings.configuration_request_wrapper
        return dict(config) if wrapper is None else {wrapper: dict(config)}

    def _configuration(self, body: Any) -> dict[str, Any]:
        """The configuration in the answer of ``GET /{id}/configuration``."""
        return configuration(body, self.settings.configuration_response_wrapper)

    def handlers(self) -> Mapping[Kind, KindHandlers]:
        tenant, flag, role, grant = self._tenant, self._flag, self._role, self._grant
        return {
            Kind.TENANT: KindHandlers(self._read_tenants, tenant, tenant, tenant),
            Kind.FEATURE_FLAG: KindHandlers(self._read_flags, flag, flag, None, flag),
            Kind.ROLE: KindHandlers(self._read_roles, role, role, None, role),
            Kind.ROLE_ASSIGNMENT: KindHandlers(self._read_grants, grant, None, None, grant),
        }

    @classmethod
    def support_problems(cls, desired: State) -> list[SpecProblem]:
        problems = super().support_problems(desired)
        for r in desired.of_kind(Kind.ROLE_ASSIGNMENT):
            if not _is_uuid(str(r.fields.get("user"))):
                problems.append(
                    SpecProblem(
                        r.field_sources.get("user", r.source),
                        f"{r.id}: the {cls.capabilities.dialect} API identifies users by UUID; "
                        f"'{r.fields.get('user')}' is not one",
                    )
                )
        return problems

    @classmethod
    def unaddressable(cls, resource: Resource) -> str | None:
        """Server ids (tenant, role, grant), and a flag's key: a flag is deleted by
        ``DELETE /{tenant}/feature-flags/{key}``. Role names go in bodies only."""
        problem = super().unaddressable(resource)
        if problem is None and resource.id.kind is Kind.FEATURE_FLAG:
            return path_value_problem(("flag key", resource.fields.get("flag")))
        return problem

    @classmethod
    def path_parents(cls, change: Change) -> list[ResourceId]:
        """Flags, roles and role assignments live under their tenant's path."""
        resource = change.desired or change.live
        if change.id.kind is Kind.TENANT or resource is None or not resource.fields.get("tenant"):
            return []
        return [ResourceId(Kind.TENANT, str(resource.fields["tenant"]))]

    # ---- reading -------------------------------------------------------------

    def _tenants(self, scope: ReadScope) -> Awaitable[list[Row]]:
        async def fetch() -> list[Row]:
            return [
                t
                async for t in self.client.paginate_pages(
                    BASE, data, limit=PAGE, total=total, resource="tenants", decode=tenant_row
                )
            ]

        return scope.once("tenants", fetch)

    async def _addressable(self, scope: ReadScope) -> list[Row]:
        """The tenants a path can name: nothing is read under the others (unaddressable,
        never written)."""
        return [t for t in await self._tenants(scope) if segment_problem(str(t["id"])) is None]

    def _under(
        self, scope: ReadScope, t: Row, template: str, decode: Callable[[Any], T]
    ) -> Awaitable[T]:
        """One ``GET`` under tenant ``t`` (``template`` after its id), made once per read;
        at most eight such calls at a time, whichever kinds need them."""
        tid, gate = str(t["id"]), scope.gate("per tenant", 8)

        async def fetch() -> T:
            async with gate:
                path = _path(template, tid)
                found: T = await self.client.call("GET", path, resource=label(t), decode=decode)
                return found

        return scope.once((template, tid), fetch)

    async def _read_tenants(self, scope: ReadScope) -> list[Resource]:
        tenants = await self._tenants(scope)
        names = {t["id"]: str(t["name"]) for t in tenants}

        async def one(t: Row) -> Resource:
            tid = str(t["id"])
            config: dict[str, Any] = {}
            if segment_problem(tid) is None:
                config = await self._under(scope, t, "/{}/configuration", self._configuration)
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

    async def _read_flags(self, scope: ReadScope) -> list[Resource]:
        async def of(t: Row) -> list[Resource]:
            name = str(t["name"])
            return [
                Resource(
                    ResourceId(Kind.FEATURE_FLAG, flag_key(name, str(f["key"]))),
                    {"tenant": name, "flag": str(f["key"]), "enabled": f.get("enabled")},
                    server={"id": str(f["key"])},
                )
                for f in await self._under(scope, t, "/{}/feature-flags", flags)
            ]

        return await self._each(scope, of)

    async def _read_roles(self, scope: ReadScope) -> list[Resource]:
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
                for role in await self._under(scope, t, "/{}/roles", roles)
            ]

        return await self._each(scope, of)

    async def _read_grants(self, scope: ReadScope) -> list[Resource]:
        async def of(t: Row) -> list[Resource]:
            name = str(t["name"])
            held, granted = await asyncio.gather(
                self._under(scope, t, "/{}/roles", roles),
                self._under(scope, t, "/{}/role-assignments", grants),
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

    # ---- writing -------------------------------------------------------------

    async def _send(self, method: str, path: str, change: Change, body: Any = None) -> Any:
        """One call for ``change``; ``path`` comes from :func:`_path`."""
        return await self.client.call(method, path, json_body=body, resource=str(change.id))

    @staticmethod
    def _tenant_id(change: Change, ctx: ApplyContext) -> str:
        """The server id of the tenant a flag, role or grant lives under."""
        resource = change.desired or change.live
        assert resource is not None
        # The tenant from the fields, not by splitting the key: a name may hold '/'.
        return ctx.server_id(ResourceId(Kind.TENANT, str(resource.fields["tenant"])))

    async def _tenant(self, change: Change, ctx: ApplyContext) -> Resource | None:
        want = change.desired.fields if change.desired else {}
        have = change.live.fields if change.live else {}
        if change.action is C:
            body: dict[str, Any] = {"name": change.id.key}
            if want.get("display_name") is not None:
                body["display_name"] = want["display_name"]
            if want.get("parent"):
                body["parent_id"] = ctx.server_id(ResourceId(Kind.TENANT, want["parent"]))
            made = await self._send("POST", _path(""), change, body)
            tid = str(made["id"])
            if want.get("configuration"):
                path = _path("/{}/configuration", tid)
                body = self._configuration_body(want["configuration"])
                await self._send("PATCH", path, change, body)
            if want.get("status") in ("suspended", "inactive"):
                await self._move(change, tid, "active", str(want["status"]))
            return Resource(change.id, {}, server={"id": tid})
        tid = ctx.server_id(change.id)
        changed = {fc.path.split(".", 1)[0] for fc in change.fields}
        patch: dict[str, Any] = {}
        if "display_name" in changed:
            patch["display_name"] = want.get("display_name")
        if "parent" in changed:
            parent = want.get("parent")
            patch["parent_id"] = ctx.server_id(ResourceId(Kind.TENANT, parent)) if parent else None
        if patch:
            await self._send("PATCH", _path("/{}", tid), change, patch)
        if "configuration" in changed:
            keys = {fc.path.split(".", 1)[1] for fc in change.fields if "." in fc.path}
            config = want.get("configuration") or {}
            path = _path("/{}/configuration", tid)
            body = self._configuration_body({k: config.get(k) for k in keys})
            await self._send("PATCH", path, change, body)
        if "status" in changed and want.get("status"):
            await self._move(change, tid, str(have.get("status")), str(want["status"]))
        return None

    async def _move(self, change: Change, tid: str, before: str, after: str) -> None:
        """Walk the lifecycle: active ⇄ suspended, active ⇄ inactive; between suspended
        and inactive by way of active (the API has no direct move)."""
        steps = {
            ("active", "suspended"): ["suspend"],
            ("suspended", "active"): ["resume"],
            ("active", "inactive"): ["deactivate"],
            ("inactive", "active"): ["activate"],
            ("inactive", "suspended"): ["activate", "suspend"],
            ("suspended", "inactive"): ["resume", "deactivate"],
        }.get((before, after))
        if steps is None:
            raise ApiError(
                "POST",
                _path("/{}", tid),
                0,
                f"no lifecycle path from {before} to {after}",
                str(change.id),
            )
        for step in steps:
            await self.client.call(
                "POST", _path("/{}/{}", tid, step), resource=str(change.id), idempotent=False
            )

    async def _flag(self, change: Change, ctx: ApplyContext) -> Resource | None:
        resource = change.desired or change.live
        assert resource is not None
        tenant_id, key = self._tenant_id(change, ctx), resource.fields["flag"]
        if change.action in (U, D):
            # No update in this API: an enabled flag changes by delete, then create.
            try:
                path = _path("/{}/feature-flags/{}", tenant_id, key)
                await self._send("DELETE", path, change)
            except ApiError as exc:
                if exc.status != 404:
                    raise
        if change.action in (C, U):
            assert change.desired is not None
            body = {"key": key, "enabled": change.desired.fields["enabled"]}
            await self._send("POST", _path("/{}/feature-flags", tenant_id), change, body)
        return None

    async def _role(self, change: Change, ctx: ApplyContext) -> Resource | None:
        tenant_id = self._tenant_id(change, ctx)
        if change.action is D:
            path = _path("/{}/roles/{}", tenant_id, ctx.server_id(change.id))
            await self._send("DELETE", path, change)
            return None
        assert change.desired is not None
        f = change.desired.fields
        live = change.live.fields if change.live else {}
        body: dict[str, Any] = {
            "name": f["name"],
            "permissions": f.get("permissions", live.get("permissions") or []),
        }
        description = f.get("description", live.get("description"))
        if description is not None:  # unset is left out, never sent as null
            body["description"] = description
        if change.action is C:
            made = await self._send("POST", _path("/{}/roles", tenant_id), change, body)
            return Resource(change.id, {}, server={"id": str(made["id"])})
        path = _path("/{}/roles/{}", tenant_id, ctx.server_id(change.id))
        await self._send("PUT", path, change, body)
        return None

    async def _grant(self, change: Change, ctx: ApplyContext) -> Resource | None:
        tenant_id = self._tenant_id(change, ctx)
        if change.action is D:
            path = _path("/{}/role-assignments/{}/revoke", tenant_id, ctx.server_id(change.id))
            await self._send("POST", path, change)
            return None
        assert change.desired is not None
        f = change.desired.fields
        role_id = ctx.server_id(ResourceId(Kind.ROLE, role_key(f["tenant"], f["role"])))
        made = await self._send(
            "POST",
            _path("/{}/role-assignments", tenant_id),
            change,
            {"role_id": role_id, "user_id": f["user"]},
        )
        return Resource(change.id, {}, server={"id": str(made["id"])})


PROVIDER = TenantsV1Provider

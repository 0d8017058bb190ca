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
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Collection
from typing import Any, ClassVar

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
from reconciler.providers.base import ApplyContext, KindSupport, Provider, path_value_problem
from reconciler.providers.http import segment_problem, url_path

BASE = "/v1/tenants"
PAGE = 100
C, U, S, R, D = Action.CREATE, Action.UPDATE, Action.SUSPEND, Action.RESUME, Action.DELETE


def _path(template: str, *values: str | int) -> str:
    """A path under ``BASE``, each value encoded as one segment."""
    return url_path(template, *values, base=BASE)


def _data(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        return list(body["data"])
    if isinstance(body, list):
        return body
    raise TypeError("expected {'data': [...]}")


def _total(body: Any) -> int | None:
    total = body.get("total") if isinstance(body, dict) else None
    return total if isinstance(total, int) else None


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


class TenantsV1Provider(Provider):
    """Tenants with status, parent and configuration; their flags, roles and grants."""

    dialect = "tenants-v1"
    title = "Tenants API: lifecycle, hierarchy, configuration, flags, roles (document 004)"
    supports: ClassVar[dict[Kind, KindSupport]] = {
        Kind.TENANT: KindSupport(
            frozenset({C, U, S, R}),
            frozenset({"display_name", "status", "parent", "configuration"}),
            notes="no tenant delete in the API; lifecycle calls need an elevated role",
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
    }

    @classmethod
    def check(cls, desired: State) -> list[SpecProblem]:
        problems = super().check(desired)
        for r in desired.of_kind(Kind.ROLE_ASSIGNMENT):
            if not _is_uuid(str(r.fields.get("user"))):
                problems.append(
                    SpecProblem(
                        r.field_sources.get("user", r.source),
                        f"{r.id}: the {cls.dialect} API identifies users by UUID; "
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

    async def _get(self, path: str, resource: str) -> Any:
        return await self.client.call("GET", path, resource=resource)

    async def read(self, kinds: Collection[Kind]) -> State:
        tenants = [
            t
            async for t in self.client.paginate_pages(
                BASE, _data, limit=PAGE, total=_total, resource="tenants"
            )
        ]
        names = {t["id"]: str(t["name"]) for t in tenants}
        state = State()
        semaphore = asyncio.Semaphore(8)

        async def details(t: dict[str, Any]) -> list[Resource]:
            async with semaphore:
                return await self._read_tenant(t, names, set(kinds))

        for resources in await asyncio.gather(*(details(t) for t in tenants)):
            for resource in resources:
                state.add(resource)
        return state

    async def _read_tenant(
        self, t: dict[str, Any], names: dict[str, str], kinds: set[Kind]
    ) -> list[Resource]:
        name, tid = str(t["name"]), str(t["id"])
        label = str(ResourceId(Kind.TENANT, name))
        # A tenant no path can name is listed, but nothing under it is read: it is
        # unaddressable (``unaddressable``) and never written.
        addressable = segment_problem(tid) is None
        out: list[Resource] = []
        if Kind.TENANT in kinds:
            config = None
            if addressable:
                config = await self._get(_path("/{}/configuration", tid), label)
            out.append(
                Resource(
                    ResourceId(Kind.TENANT, name),
                    {
                        "display_name": t.get("display_name"),
                        "status": t.get("status"),
                        "parent": names.get(t.get("parent_id") or ""),
                        "configuration": (config or {}).get("configuration") or {},
                    },
                    server={"id": tid, "status": t.get("status")},
                )
            )
        if not addressable:
            return out
        if Kind.FEATURE_FLAG in kinds:
            for f in _data(await self._get(_path("/{}/feature-flags", tid), label)):
                out.append(
                    Resource(
                        ResourceId(Kind.FEATURE_FLAG, flag_key(name, str(f["key"]))),
                        {"tenant": name, "flag": str(f["key"]), "enabled": f.get("enabled")},
                        server={"id": str(f["key"])},
                    )
                )
        roles: dict[str, str] = {}
        if kinds & {Kind.ROLE, Kind.ROLE_ASSIGNMENT}:
            for role in _data(await self._get(_path("/{}/roles", tid), label)):
                roles[str(role["id"])] = str(role["name"])
                if Kind.ROLE in kinds:
                    out.append(
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
                    )
        if Kind.ROLE_ASSIGNMENT in kinds:
            for grant in _data(await self._get(_path("/{}/role-assignments", tid), label)):
                if grant.get("status", "active") != "active" or str(grant["role_id"]) not in roles:
                    continue  # a revoked grant is history, not state
                role_name, user = roles[str(grant["role_id"])], str(grant["user_id"])
                out.append(
                    Resource(
                        ResourceId(Kind.ROLE_ASSIGNMENT, assignment_key(name, role_name, user)),
                        {"tenant": name, "role": role_name, "user": user},
                        server={"id": str(grant["id"])},
                    )
                )
        return out

    # ---- writing -------------------------------------------------------------

    async def _send(self, method: str, path: str, change: Change, body: Any = None) -> Any:
        """One call for ``change``; ``path`` comes from :func:`_path`."""
        return await self.client.call(method, path, json_body=body, resource=str(change.id))

    async def apply(self, change: Change, ctx: ApplyContext) -> Resource | None:
        kind = change.id.kind
        if kind is Kind.TENANT:
            return await self._tenant(change, ctx)
        resource = change.desired or change.live
        assert resource is not None
        # The tenant from the fields, not by splitting the key: a name may hold '/'.
        tenant_id = ctx.server_id(ResourceId(Kind.TENANT, str(resource.fields["tenant"])))
        if kind is Kind.FEATURE_FLAG:
            await self._flag(change, tenant_id, resource.fields["flag"])
            return None
        if kind is Kind.ROLE:
            return await self._role(change, ctx, tenant_id)
        return await self._grant(change, ctx, tenant_id)

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
                await self._send("PATCH", path, change, want["configuration"])
            if want.get("status") == "suspended":
                await self._move(change, tid, "active", "suspended")
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
            await self._send("PATCH", path, change, {k: config.get(k) for k in keys})
        if "status" in changed and want.get("status"):
            await self._move(change, tid, str(have.get("status")), str(want["status"]))
        return None

    async def _move(self, change: Change, tid: str, before: str, after: str) -> None:
        """Walk the lifecycle: active ⇄ suspended, active ⇄ inactive (via active)."""
        steps = {
            ("active", "suspended"): ["suspend"],
            ("suspended", "active"): ["resume"],
            ("inactive", "active"): ["activate"],
            ("inactive", "suspended"): ["activate", "suspend"],
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

    async def _flag(self, change: Change, tenant_id: str, key: str) -> None:
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

    async def _role(self, change: Change, ctx: ApplyContext, tenant_id: str) -> Resource | None:
        if change.action is D:
            path = _path("/{}/roles/{}", tenant_id, ctx.server_id(change.id))
            await self._send("DELETE", path, change)
            return None
        assert change.desired is not None
        f = change.desired.fields
        live = change.live.fields if change.live else {}
        body = {
            "name": f["name"],
            "description": f.get("description", live.get("description")),
            "permissions": f.get("permissions", live.get("permissions") or []),
        }
        if change.action is C:
            made = await self._send("POST", _path("/{}/roles", tenant_id), change, body)
            return Resource(change.id, {}, server={"id": str(made["id"])})
        path = _path("/{}/roles/{}", tenant_id, ctx.server_id(change.id))
        await self._send("PUT", path, change, body)
        return None

    async def _grant(self, change: Change, ctx: ApplyContext, tenant_id: str) -> Resource | None:
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

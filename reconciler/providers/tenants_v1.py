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
before any call). The document shows no body and no answer: their keys, the
listings' envelopes and the wrappers are the target's options
(:class:`~reconciler.options.tenants_v1.TenantsV1Options`), applied by
``tenants_v1_shapes.py``; reading lives in ``tenants_v1_reading.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from functools import cached_property
from typing import Any

from reconciler.errors import (
    ApiError,
    ConflictError,
    ReconcilerError,
    SpecProblem,
    TransportError,
)
from reconciler.model import (
    Action,
    Change,
    Kind,
    Resource,
    ResourceId,
    State,
    role_key,
)
from reconciler.options.tenants_v1 import TenantsV1Options
from reconciler.providers.base import (
    ApplyContext,
    Capabilities,
    KindHandlers,
    KindSupport,
    ListingUse,
    Provider,
    path_value_problem,
)
from reconciler.providers.paths import url_path
from reconciler.providers.tenants_v1_reading import BASE, TenantsV1Reader
from reconciler.providers.tenants_v1_shapes import Shapes

LANDS_IN = {
    "suspend": "suspended",
    "resume": "active",
    "deactivate": "inactive",
    "activate": "active",
}
"""The state each lifecycle call leaves a tenant in: sent again, it answers 409
``invalid_transition`` from there, and the step is done."""
STEPS = {
    ("active", "suspended"): ["suspend"],
    ("suspended", "active"): ["resume"],
    ("active", "inactive"): ["deactivate"],
    ("inactive", "active"): ["activate"],
    ("inactive", "suspended"): ["activate", "suspend"],
    ("suspended", "inactive"): ["resume", "deactivate"],
}
"""The lifecycle: active ⇄ suspended, active ⇄ inactive; between suspended and
inactive by way of active (the API has no direct move)."""
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

    @cached_property
    def shapes(self) -> Shapes:
        """Bodies and answers under the target's field names and wrappers."""
        return Shapes(self.settings)

    @cached_property
    def reader(self) -> TenantsV1Reader:
        """Reads live state under the target's options."""
        return TenantsV1Reader(self.client, self.settings, self.shapes)

    def listings(self) -> list[ListingUse]:
        """``GET /v1/tenants``, then the flags, roles and assignments under a tenant
        (their paths hold ``{}`` where the tenant's id goes, filled by ``reconciler probe``).

        A tenant's flags carry no server id (a flag is known by its key): not keyed.
        """
        tenants = self.settings.lists.tenants
        found = [ListingUse("tenants", BASE, "lists.tenants", tenants, self.shapes.tenant)]
        for name, (template, listing, decode) in self.reader.per_tenant().items():
            use = ListingUse(name, template, f"lists.{name}", listing, decode, name != "flags")
            found.append(use)
        return found

    def handlers(self) -> Mapping[Kind, KindHandlers]:
        tenant, flag, role, grant = self._tenant, self._flag, self._role, self._grant
        read = self.reader
        return {
            Kind.TENANT: KindHandlers(read.read_tenants, tenant, tenant, tenant),
            Kind.FEATURE_FLAG: KindHandlers(read.read_flags, flag, flag, None, flag),
            Kind.ROLE: KindHandlers(read.read_roles, role, role, None, role),
            Kind.ROLE_ASSIGNMENT: KindHandlers(read.read_grants, grant, None, None, grant),
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

    # ---- writing -------------------------------------------------------------

    async def _create(self, path: str, change: Change, body: dict[str, Any]) -> str:
        """``POST`` a new object; its server id, as the answer holds it."""
        made: str = await self.client.call(
            "POST", path, json_body=body, resource=str(change.id), decode=self.shapes.made_id
        )
        return made

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
            values: dict[str, Any] = {"name": change.id.key}
            if want.get("display_name") is not None:
                values["display_name"] = want["display_name"]
            if want.get("parent"):
                values["parent_id"] = ctx.server_id(ResourceId(Kind.TENANT, want["parent"]))
            tid = await self._create(_path(""), change, self.shapes.tenant_body(values))
            if want.get("configuration"):
                path = _path("/{}/configuration", tid)
                body = self.shapes.configuration_body(want["configuration"])
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
            await self._send("PATCH", _path("/{}", tid), change, self.shapes.tenant_body(patch))
        if "configuration" in changed:
            keys = {fc.path.split(".", 1)[1] for fc in change.fields if "." in fc.path}
            config = want.get("configuration") or {}
            path = _path("/{}/configuration", tid)
            body = self.shapes.configuration_body({k: config.get(k) for k in keys})
            await self._send("PATCH", path, change, body)
        if "status" in changed and want.get("status"):
            await self._move(change, tid, str(have.get("status")), str(want["status"]))
        return None

    async def _move(self, change: Change, tid: str, before: str, after: str) -> None:
        """Walk the lifecycle from ``before`` to ``after`` (:data:`STEPS`)."""
        steps = STEPS.get((before, after))
        if steps is None:
            raise ApiError(
                "POST",
                _path("/{}", tid),
                0,
                f"no lifecycle path from {before} to {after}",
                str(change.id),
            )
        for step in steps:
            await self._step(change, tid, step)

    async def _step(self, change: Change, tid: str, step: str) -> None:
        """One lifecycle call, repeated after an unknown outcome: it sets a state. A 409
        from a tenant already in that state (the first attempt landed, or someone else
        moved it) means the step is done; any other 409 is the API's refusal."""
        path, rid = _path("/{}/{}", tid, step), str(change.id)
        try:
            await self.client.call("POST", path, resource=rid, idempotent=True)
        except ConflictError as refused:
            try:
                now = await self.client.call(
                    "GET", _path("/{}", tid), resource=rid, decode=self.shapes.status_of
                )
            except ReconcilerError:
                raise refused from None  # cannot tell: the refusal is the news
            if now != LANDS_IN[step]:
                raise

    async def _flag(self, change: Change, ctx: ApplyContext) -> Resource | None:
        resource = change.desired or change.live
        assert resource is not None
        tenant_id, key = self._tenant_id(change, ctx), resource.fields["flag"]
        if change.action in (U, D):
            # No update in this API: an enabled flag changes by delete, then create.
            await self.client.delete(
                _path("/{}/feature-flags/{}", tenant_id, key), resource=str(change.id)
            )
        if change.action is C:
            assert change.desired is not None
            body = self.shapes.flag_body(key, change.desired.fields["enabled"])
            await self._send("POST", _path("/{}/feature-flags", tenant_id), change, body)
        elif change.action is U:
            assert change.desired is not None
            await self._recreate_flag(change, tenant_id, key, change.desired.fields["enabled"])
        return None

    async def _recreate_flag(self, change: Change, tenant_id: str, key: str, enabled: Any) -> None:
        """The create half of a flag's update, never repeated blindly.

        The engine re-reads what a *create* change left unknown; an update's create
        half re-reads here: after a 5xx or no answer the tenant's flags are read, the
        flag there as wanted is done, absent it is sent once more.
        """
        path, body = _path("/{}/feature-flags", tenant_id), self.shapes.flag_body(key, enabled)
        try:
            await self._send("POST", path, change, body)
        except (ApiError, TransportError) as exc:
            if isinstance(exc, ApiError) and exc.status < 500:
                raise  # refused: nothing was made
            try:
                found = await self._flags_of(tenant_id, change)
            except ReconcilerError:
                raise exc from None  # cannot tell whether it landed
            if key not in found:
                await self._send("POST", path, change, body)
            elif found[key] != enabled:
                raise

    async def _flags_of(self, tenant_id: str, change: Change) -> dict[str, Any]:
        """One tenant's flags as they are now: key → enabled."""
        template, listing, decode = self.reader.per_tenant()["flags"]
        walked = self.client.paginate(
            url_path(template, tenant_id), listing, resource=str(change.id), decode=decode
        )
        return {str(row["key"]): row.get("enabled") async for row in walked}

    async def _role(self, change: Change, ctx: ApplyContext) -> Resource | None:
        tenant_id = self._tenant_id(change, ctx)
        if change.action is D:
            await self.client.delete(
                _path("/{}/roles/{}", tenant_id, ctx.server_id(change.id)), resource=str(change.id)
            )
            return None
        assert change.desired is not None
        f = change.desired.fields
        live = change.live.fields if change.live else {}
        values: dict[str, Any] = {
            "name": f["name"],
            "permissions": f.get("permissions", live.get("permissions") or []),
        }
        description = f.get("description", live.get("description"))
        if description is not None:  # unset is left out, never sent as null
            values["description"] = description
        body = self.shapes.role_body(values)
        if change.action is C:
            made = await self._create(_path("/{}/roles", tenant_id), change, body)
            return Resource(change.id, {}, server={"id": made})
        path = _path("/{}/roles/{}", tenant_id, ctx.server_id(change.id))
        await self._send("PUT", path, change, body)
        return None

    async def _grant(self, change: Change, ctx: ApplyContext) -> Resource | None:
        tenant_id = self._tenant_id(change, ctx)
        if change.action is D:
            from reconciler.providers.http import done_or_gone  # the client's: loaded by now

            # Revoking sets a state: repeated, it lands the same; 404 (no active
            # assignment by that id: revoked already, or gone) is what it wants.
            path = _path("/{}/role-assignments/{}/revoke", tenant_id, ctx.server_id(change.id))
            await self.client.send(
                "POST",
                path,
                resource=str(change.id),
                idempotent=True,
                ok=done_or_gone,
            )
            return None
        assert change.desired is not None
        f = change.desired.fields
        role_id = ctx.server_id(ResourceId(Kind.ROLE, role_key(f["tenant"], f["role"])))
        body = self.shapes.grant_body(role_id, f["user"])
        made = await self._create(_path("/{}/role-assignments", tenant_id), change, body)
        return Resource(change.id, {}, server={"id": made})


PROVIDER = TenantsV1Provider

"""The ``workspaces-v1`` provider: tenants and their feature flags on the Workspaces API.

The API document is README.md. In its words a tenant is a *workspace* (``slug``,
``title``, ``parent_id``, ``state`` active or paused, ``settings``) and a feature
flag is a *flag* of a workspace (``key``, ``on``). Under ``/v1/workspaces``:

- workspaces: ``GET`` (paged), ``POST``, ``PATCH /{id}`` (``settings`` merged,
  ``null`` removes a key; ``state`` pauses and resumes), ``DELETE /{id}``;
- flags: ``GET /{id}/flags`` (paged), ``PUT /{id}/flags/{key}`` (creates or
  updates), ``DELETE /{id}/flags/{key}``.

Every change is one call: a workspace is created with its title, parent,
settings and state at once, and a flag is set by one ``PUT``. Listings are read
as the target's options say (:mod:`.options`); the client finds error messages
at ``options.errors.message`` by itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from typing import Any

from reconciler.errors import ApiError, PlanError
from reconciler.model import Action, Change, Kind, Resource, ResourceId, flag_key
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
from reconciler.providers.shapes import ShapeError, name, obj, optional_text, present, scalar

from .options import WorkspacesOptions

BASE = "/v1/workspaces"
C, U, S, R, D = Action.CREATE, Action.UPDATE, Action.SUSPEND, Action.RESUME, Action.DELETE
STATUS = {"active": "active", "paused": "suspended"}
"""The API's ``state`` → the spec's ``status``."""
STATE = {status: state for state, status in STATUS.items()}
"""The spec's ``status`` → the API's ``state``."""
FIELDS = {"display_name": "title", "parent": "parent_id", "configuration": "settings"}
"""Spec field → body key, for the fields sent as they are (``status`` is mapped)."""

Row = dict[str, Any]


def _path(template: str, *values: str | int) -> str:
    """A path under ``BASE``, each value encoded as one segment."""
    return url_path(template, *values, base=BASE)


# ---- answers, checked as they arrive (an error names the call it came from) ----------


def workspace_row(item: Any) -> Row:
    """One listed workspace: an id, a slug, a known state, settings as an object."""
    row = obj(item, "a workspace")
    scalar(row, "id")
    name(row, "slug")
    optional_text(row, "title")
    scalar(row, "parent_id", required=False)
    if present(row, "state") not in STATUS:
        raise ShapeError(f"state {row['state']!r} is not one of {', '.join(STATUS)}")
    obj(row.get("settings") or {}, "settings as an object")
    return row


def flag_row(item: Any) -> Row:
    """One listed flag: a key and whether it is on."""
    row = obj(item, "a flag")
    name(row, "key")
    if not isinstance(present(row, "on"), bool):
        raise ShapeError(f"flag {row['key']!r}: 'on' is not true or false")
    return row


def created(body: Any) -> Row:
    """The answer of ``POST /v1/workspaces``: the workspace, with its id."""
    row = obj(body, "the created workspace")
    scalar(row, "id")
    return row


_ABSENT = object()


def _moved_keys(want: Mapping[str, Any], have: Mapping[str, Any]) -> dict[str, Any]:
    """The settings keys to send: those set to another value, and ``null`` for those
    the spec wants gone that are there (keys the spec does not name stay as they are)."""
    return {
        key: value
        for key, value in want.items()
        if have.get(key, _ABSENT) != value and (value is not None or key in have)
    }


class WorkspacesProvider(Provider):
    """Workspaces as tenants (with lifecycle, hierarchy, settings) and their flags."""

    capabilities = Capabilities(
        dialect="workspaces-v1",
        title="Workspaces API: workspaces and their flags (examples/custom-dialect)",
        supports={
            Kind.TENANT: KindSupport(
                frozenset({C, U, S, R, D}),
                frozenset({"display_name", "status", "parent", "configuration"}),
                notes="a workspace with child workspaces cannot be deleted",
                choices={"status": ("active", "suspended")},
            ),
            Kind.FEATURE_FLAG: KindSupport(
                frozenset({C, U, D}), frozenset({"tenant", "flag", "enabled"})
            ),
        },
        options=WorkspacesOptions,
    )

    @property
    def settings(self) -> WorkspacesOptions:
        """The target's options, typed (the base class checked their model)."""
        assert isinstance(self.options, WorkspacesOptions)
        return self.options

    def handlers(self) -> Mapping[Kind, KindHandlers]:
        workspace, flag = self._write_workspace, self._write_flag
        return {
            Kind.TENANT: KindHandlers(
                self._read_workspaces, workspace, workspace, workspace, self._delete_workspace
            ),
            Kind.FEATURE_FLAG: KindHandlers(self._read_flags, flag, flag, None, flag),
        }

    def listings(self) -> list[ListingUse]:
        """The workspaces listing; a flags listing needs a workspace's id, so it is not here."""
        listing = self.settings.lists.workspaces
        return [ListingUse("workspaces", _path(""), "lists.workspaces", listing, workspace_row)]

    @classmethod
    def unaddressable(cls, resource: Resource) -> str | None:
        """The server id, and a flag's key: it is a segment of the flag's paths."""
        problem = super().unaddressable(resource)
        if problem is None and resource.id.kind is Kind.FEATURE_FLAG:
            return path_value_problem(("flag key", resource.fields.get("flag")))
        return problem

    @classmethod
    def path_parents(cls, change: Change) -> list[ResourceId]:
        """A flag's paths go through its workspace."""
        resource = change.desired or change.live
        if change.id.kind is not Kind.FEATURE_FLAG or resource is None:
            return []
        return [ResourceId(Kind.TENANT, str(resource.fields["tenant"]))]

    # ---- reading -------------------------------------------------------------

    def _workspaces(self, scope: ReadScope) -> Awaitable[list[Row]]:
        """Every workspace, listed once per read however many kinds need them."""

        async def fetch() -> list[Row]:
            listing = self.settings.lists.workspaces
            pages = self.client.paginate(
                _path(""), listing, resource="workspaces", decode=workspace_row
            )
            return [row async for row in pages]

        return scope.once("workspaces", fetch)

    async def _read_workspaces(self, scope: ReadScope) -> list[Resource]:
        rows = await self._workspaces(scope)
        slugs = {row["id"]: row["slug"] for row in rows}
        return [
            Resource(
                ResourceId(Kind.TENANT, row["slug"]),
                {
                    "display_name": row.get("title"),
                    "status": STATUS[row["state"]],
                    "parent": slugs.get(row.get("parent_id")),
                    "configuration": dict(row.get("settings") or {}),
                },
                server={k: row[k] for k in ("id", "created_at", "updated_at") if k in row},
            )
            for row in rows
        ]

    async def _read_flags(self, scope: ReadScope) -> list[Resource]:
        # A workspace whose id no path can carry is unaddressable: nothing is read under it.
        rows = [w for w in await self._workspaces(scope) if segment_problem(w["id"]) is None]
        found = await asyncio.gather(*(self._flags_of(scope, w) for w in rows))
        return [flag for flags in found for flag in flags]

    async def _flags_of(self, scope: ReadScope, workspace: Row) -> list[Resource]:
        slug = str(workspace["slug"])
        async with scope.gate("per workspace", 8):  # at most eight listings at a time
            pages = self.client.paginate(
                _path("/{}/flags", workspace["id"]),
                self.settings.lists.flags,
                resource=str(ResourceId(Kind.TENANT, slug)),
                decode=flag_row,
            )
            rows = [row async for row in pages]
        return [
            Resource(
                ResourceId(Kind.FEATURE_FLAG, flag_key(slug, row["key"])),
                {"tenant": slug, "flag": row["key"], "enabled": row["on"]},
                server={"id": row["key"]},
            )
            for row in rows
        ]

    # ---- writing -------------------------------------------------------------

    async def _send(self, method: str, path: str, change: Change, body: Any = None) -> Any:
        """One call for ``change``; ``path`` comes from :func:`_path`."""
        return await self.client.call(method, path, json_body=body, resource=str(change.id))

    @staticmethod
    def _live_id(change: Change) -> str:
        if change.live is None or change.live.server_id is None:
            raise PlanError(f"{change.id} has no server id to address it by")
        return change.live.server_id

    def _body(self, change: Change, fields: Mapping[str, Any], ctx: ApplyContext) -> Row:
        """The body keys for ``fields`` (spec names): only those given, never a null
        for a field the spec does not set."""
        body: Row = {}
        for field, value in fields.items():
            if field == "status":
                body["state"] = STATE[value]
            elif field == "parent":
                parent = ResourceId(Kind.TENANT, value) if value else None
                body["parent_id"] = ctx.server_id(parent) if parent else None
            elif field in FIELDS:
                body[FIELDS[field]] = value
        return body

    async def _write_workspace(self, change: Change, ctx: ApplyContext) -> Resource | None:
        """Create with everything the spec sets in one ``POST``; else one ``PATCH`` of
        what changed (a suspend or resume is a change of ``state``)."""
        assert change.desired is not None
        want = change.desired.fields
        if change.action is C:
            given = {k: v for k, v in want.items() if v is not None}
            if "configuration" in given:  # a key written null means "not there"
                given["configuration"] = {
                    k: v for k, v in given["configuration"].items() if v is not None
                }
            body = {"slug": change.id.key, **self._body(change, given, ctx)}
            made = await self.client.call(
                "POST", _path(""), json_body=body, resource=str(change.id), decode=created
            )
            return Resource(change.id, {}, server={"id": made["id"]})
        have = change.live.fields if change.live else {}
        changed: dict[str, Any] = {}
        for top in {fc.path.partition(".")[0] for fc in change.fields}:
            if top == "configuration":  # only the keys that differ: the API merges them
                changed[top] = _moved_keys(want.get(top) or {}, have.get(top) or {})
            else:
                changed[top] = want.get(top)
        body = self._body(change, changed, ctx)
        if body:
            await self._send("PATCH", _path("/{}", self._live_id(change)), change, body)
        return None

    async def _delete(self, path: str, change: Change) -> None:
        """A ``DELETE``; one that finds nothing is done (a retry after an answer lost
        on the way, or someone was quicker)."""
        try:
            await self._send("DELETE", path, change)
        except ApiError as exc:
            if exc.status != 404:
                raise

    async def _delete_workspace(self, change: Change, ctx: ApplyContext) -> Resource | None:
        await self._delete(_path("/{}", self._live_id(change)), change)
        return None

    async def _write_flag(self, change: Change, ctx: ApplyContext) -> Resource | None:
        """``PUT`` sets a flag whether or not it exists; ``DELETE`` removes it."""
        resource = change.desired or change.live
        assert resource is not None
        workspace = ctx.server_id(ResourceId(Kind.TENANT, str(resource.fields["tenant"])))
        path = _path("/{}/flags/{}", workspace, resource.fields["flag"])
        if change.action is D:
            await self._delete(path, change)
        else:
            await self._send("PUT", path, change, {"on": resource.fields["enabled"]})
        return None


PROVIDER = WorkspacesProvider

__all__ = ["PROVIDER", "WorkspacesProvider", "flag_row", "workspace_row"]

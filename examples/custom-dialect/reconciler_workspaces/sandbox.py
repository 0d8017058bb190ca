"""The ``workspaces-v1`` sandbox: the Workspaces API (README.md) over reconciler's store.

Served by ``reconciler sandbox serve --api workspaces-v1`` and by the embedded
sandbox of ``reconciler plan --api workspaces-v1``, as any built-in dialect is.
It is built from reconciler's sandbox pieces: the :class:`Store` (one SQLite
table per collection, each row the object as the API shows it), routes made
with :func:`api_router` (each path parameter one decoded segment), bearer
auth, errors in the dialect's shape, and listings answered the way the seeded
options say (:mod:`reconciler.sandbox.listing`), so a target configured with
the same options reads them.

Seed: ``{"options": {...}}``, the target options of :mod:`.options` (camelCase),
makes it answer as a server that made those choices would.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRouter
from starlette.responses import Response

from reconciler.sandbox.common import (
    api_router,
    bearer_auth,
    conflict,
    install_error_handlers,
    invalid,
    json_response,
    not_found,
    raw_json_response,
)
from reconciler.sandbox.dialect import Dialect
from reconciler.sandbox.listing import Window, answer, asked
from reconciler.sandbox.store import Collection, Conflict, Obj, Store, dumps

from .options import WorkspacesListing, WorkspacesOptions

BASE = "/v1/workspaces"
WORKSPACES, FLAGS, SETTINGS = "workspaces", "flags", "settings"
MAX_PAGE = 100
"""The document's cap on ``limit``: more is served as 100."""
UNPAGED = 1_000_000
"""Served at once to a listing configured with ``paging: none``."""
STATES = ("active", "paused")


def _text(body: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise invalid(f"{key}: a non-empty string of at most 200 characters is required")
    return value


class Workspaces:
    """The API's behaviour over one store; each method is one documented call."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def options(self) -> WorkspacesOptions:
        """The options this sandbox was seeded with (``options:``), else the defaults."""
        found = self.store.find(SETTINGS, "options")
        return WorkspacesOptions.model_validate(found["options"] if found else {})

    def error_body(self, status: int, code: str, message: str) -> Any:
        """``{"error": {"code", "message"}}``, or the message where ``errors.message`` says."""
        where = self.options().errors.message or "error.message"
        *parents, last = where.split(".")
        body: dict[str, Any] = {}
        inner = body
        for part in parents:
            inner = inner.setdefault(part, {})
        inner.update({"code": code, last: message})
        return body

    @staticmethod
    def window(request: Request, listing: WorkspacesListing) -> Window:
        """The rows a listing request asks for, under the parameter names ``listing`` says."""
        cap = UNPAGED if listing.paging == "none" else MAX_PAGE
        return asked(request.query_params, listing, max_page=cap, default_limit=50)

    @staticmethod
    def page(
        request: Request, listing: WorkspacesListing, window: Window, rows: list[str], total: int
    ) -> Response:
        """One page (``rows``, JSON text each) in the envelope ``listing`` says."""
        return raw_json_response(answer(listing, window, rows, total, path=request.url.path))

    def workspace(self, workspace_id: str) -> Obj:
        found = self.store.get(WORKSPACES, workspace_id)
        if found is None:
            raise not_found(f"workspace '{workspace_id}'")
        return found

    def _parent(self, body: Mapping[str, Any], child: str | None) -> str | None:
        """A parent that exists and is not the workspace itself or below it."""
        parent = body.get("parent_id")
        if parent is None:
            return None
        if not isinstance(parent, str) or not self.store.exists(WORKSPACES, parent):
            raise invalid(f"parent_id: no workspace with id {json.dumps(parent)}")
        above: str | None = parent
        while above is not None:
            if above == child:
                raise invalid("parent_id: a workspace cannot be below itself")
            above = self.workspace(above)["parent_id"]
        return parent

    @staticmethod
    def _state(body: Mapping[str, Any], default: str | None) -> str | None:
        state = body.get("state", default)
        if state is None:
            return None
        if state not in STATES:
            raise invalid(f"state: one of {', '.join(STATES)}")
        return str(state)

    @staticmethod
    def _settings(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise invalid("settings: an object is required")
        return value

    def create(self, body: Mapping[str, Any]) -> Response:
        slug = _text(body, "slug", required=True)
        fields = {
            "slug": slug,
            "title": _text(body, "title"),
            "parent_id": self._parent(body, None),
            "state": self._state(body, "active"),
            "settings": {
                k: v for k, v in self._settings(body.get("settings", {})).items() if v is not None
            },
        }
        try:
            made = self.store.insert(WORKSPACES, fields, key=slug)
        except Conflict:
            raise conflict(f"a workspace with slug '{slug}' exists") from None
        return json_response(made, 201)

    def patch(self, workspace_id: str, body: Mapping[str, Any]) -> Response:
        found = self.workspace(workspace_id)
        changed: dict[str, Any] = {}
        if "title" in body:
            changed["title"] = _text(body, "title")
        if "parent_id" in body:
            changed["parent_id"] = self._parent(body, workspace_id)
        if "state" in body:
            changed["state"] = self._state(body, None) or found["state"]
        if "settings" in body:  # merged: a key sent as null is removed
            settings = dict(found.get("settings") or {})
            for key, value in self._settings(body["settings"]).items():
                if value is None:
                    settings.pop(key, None)
                else:
                    settings[key] = value
            changed["settings"] = settings
        return json_response(self.store.update(WORKSPACES, {**found, **changed}))

    def delete(self, workspace_id: str) -> Response:
        found = self.workspace(workspace_id)
        if self.store.any_with(WORKSPACES, "parent_id", found["id"]):
            raise conflict(f"workspace '{found['slug']}' has child workspaces")
        with self.store.transaction():
            self.store.delete_scope(FLAGS, found["id"])
            self.store.delete(WORKSPACES, found["id"])
        return Response(status_code=204)

    def flags(self, workspace_id: str) -> list[str]:
        rows = self.store.in_scope(FLAGS, self.workspace(workspace_id)["id"])
        return [dumps({"key": f["key"], "on": f["on"]}) for f in map(json.loads, rows)]

    def put_flag(self, workspace_id: str, key: str, body: Mapping[str, Any]) -> Response:
        workspace = self.workspace(workspace_id)["id"]
        if not key or len(key) > 100:
            raise invalid("key: between 1 and 100 characters")
        on = body.get("on")
        if not isinstance(on, bool):
            raise invalid("on: true or false is required")
        found = self.store.find(FLAGS, key, scope=workspace)
        if found is None:
            self.store.insert(FLAGS, {"key": key, "on": on}, key=key, scope=workspace)
            return json_response({"key": key, "on": on}, 201)
        self.store.update(FLAGS, {**found, "on": on})
        return json_response({"key": key, "on": on})

    def delete_flag(self, workspace_id: str, key: str) -> Response:
        workspace = self.workspace(workspace_id)["id"]
        found = self.store.find(FLAGS, key, scope=workspace)
        if found is None:
            raise not_found(f"flag '{key}'")
        self.store.delete(FLAGS, found["id"])
        return Response(status_code=204)


async def _body(request: Request) -> dict[str, Any]:
    """The request's JSON object (a missing body is an empty one)."""
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        raise invalid("the request body is not JSON") from None
    if not isinstance(body, dict):
        raise invalid("the request body must be a JSON object")
    return body


def router(api: Workspaces, token: str) -> APIRouter:
    r = api_router(BASE, dependencies=[Depends(bearer_auth(token))])

    @r.get("", tags=["workspaces"])
    async def list_workspaces(request: Request) -> Response:
        listing = api.options().lists.workspaces
        window = api.window(request, listing)
        rows, total = api.store.page(WORKSPACES, window.limit, window.offset)
        return api.page(request, listing, window, rows, total)

    @r.post("", status_code=201, tags=["workspaces"])
    async def create_workspace(request: Request) -> Response:
        return api.create(await _body(request))

    @r.get("/{workspace_id}", tags=["workspaces"])
    async def get_workspace(workspace_id: str) -> Response:
        return json_response(api.workspace(workspace_id))

    @r.patch("/{workspace_id}", tags=["workspaces"])
    async def patch_workspace(workspace_id: str, request: Request) -> Response:
        return api.patch(workspace_id, await _body(request))

    @r.delete("/{workspace_id}", status_code=204, tags=["workspaces"])
    async def delete_workspace(workspace_id: str) -> Response:
        return api.delete(workspace_id)

    @r.get("/{workspace_id}/flags", tags=["flags"])
    async def list_flags(workspace_id: str, request: Request) -> Response:
        listing = api.options().lists.flags
        window = api.window(request, listing)
        rows = api.flags(workspace_id)
        shown = rows[window.offset : window.offset + window.limit]
        return api.page(request, listing, window, shown, len(rows))

    @r.put("/{workspace_id}/flags/{key}", tags=["flags"])
    async def put_flag(workspace_id: str, key: str, request: Request) -> Response:
        return api.put_flag(workspace_id, key, await _body(request))

    @r.delete("/{workspace_id}/flags/{key}", status_code=204, tags=["flags"])
    async def delete_flag(workspace_id: str, key: str) -> Response:
        return api.delete_flag(workspace_id, key)

    return r


def install(app: FastAPI, store: Store, token: str) -> None:
    """Mount the API on ``app``: its routes, and every error in the API's shape."""
    api = Workspaces(store)
    install_error_handlers(app, api.error_body)
    app.include_router(router(api, token))


def seed(store: Store, data: Mapping[str, Any]) -> None:
    """``{"options": {...}}``: answer as a server with those choices would (seeding again
    replaces them). A bad option is a ValueError before the server starts."""
    unknown = set(data) - {"options"}
    if unknown:
        raise ValueError(f"the workspaces-v1 sandbox seeds only 'options', not {sorted(unknown)}")
    options = WorkspacesOptions.model_validate(dict(data.get("options") or {}))
    found = store.find(SETTINGS, "options")
    if found is not None:
        store.delete(SETTINGS, found["id"])
    store.insert(SETTINGS, {"options": options.as_data()}, key="options")


SANDBOX = Dialect(
    name="workspaces-v1",
    title="Workspaces API (examples/custom-dialect)",
    collections=(
        Collection(WORKSPACES, indexed=("parent_id",)),
        Collection(FLAGS),  # scope: the workspace's id; key: the flag's key
        Collection(SETTINGS),  # the seeded options
    ),
    install=install,
    seed=seed,
)
"""What ``reconciler.sandbox.app.create_app`` serves for ``workspaces-v1``."""

__all__ = ["SANDBOX", "Workspaces"]

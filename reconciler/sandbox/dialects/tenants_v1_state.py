"""What the ``tenants-v1`` sandbox stores, and how it shows it under its options.

Rows are stored under the emulation's own names (``id``, ``name``,
``display_name``, ``parent_id``, ``status``, ``key``, ``enabled``,
``description``, ``permissions``, ``role_id``, ``user_id``); the options it was
seeded with (:class:`~reconciler.options.tenants_v1.TenantsV1Options`, the
same a target takes) say under which names they travel, where a listing puts
its items, how it pages, how a single object is wrapped and where an error's
words are. The routes live in :mod:`tenants_v1`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import Request
from starlette.responses import Response

from reconciler.options.common import Listing
from reconciler.options.tenants_v1 import TenantsV1Options
from reconciler.sandbox import listing as served
from reconciler.sandbox.common import ErrorAnswer, json_response, raw_json_response
from reconciler.sandbox.store import Obj, Store, dumps

TENANTS, FLAGS, ROLES, GRANTS, SETTINGS = "tenants", "flags", "roles", "grants", "settings"
MAX_LIMIT, DEFAULT_LIMIT = 100, 20
"""``GET /v1/tenants``: at most 100 a page (more is served as 100), 20 when not asked."""
KINDS = ("tenant", "flag", "role", "role_assignment")
QUIRKS = frozenset({"max_page"})


def check_uuid(value: str, name: str) -> str:
    try:
        uuid.UUID(value)
    except ValueError:
        raise ErrorAnswer(400, "validation_error", f"{name} must be a valid UUID") from None
    return value


def positive(value: str | None, name: str, default: int) -> int:
    if value is None:
        return default
    if not value.isdigit() or int(value) < 1:
        raise ErrorAnswer(400, "validation_error", f"{name} must be a positive integer")
    return int(value)


class Tenants:
    """The Rust platform service behind the gateway, over one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def all(self, collection: str) -> list[Obj]:
        rows, _ = self.store.page(collection, 10_000_000, 0)
        return [json.loads(r) for r in rows]

    def scoped(self, collection: str, tenant_id: str) -> list[Obj]:
        return [json.loads(r) for r in self.store.in_scope(collection, tenant_id)]

    def options(self) -> TenantsV1Options:
        """The options this sandbox was seeded with (``options:``), else the defaults."""
        found = self.store.find(SETTINGS, "options", scope="options")
        data = {} if found is None else found.get("options", {})
        return TenantsV1Options.model_validate(data)

    def max_page(self) -> int | None:
        found = self.store.find(SETTINGS, "quirks", scope="quirks")
        cap = found.get("max_page") if found else None
        return int(cap) if cap else None

    def tenant(self, tenant_id: str) -> Obj:
        found = self.store.get(TENANTS, check_uuid(tenant_id, "tenant_id"))
        if found is None:
            raise ErrorAnswer(404, "not_found", f"tenant {tenant_id} not found")
        return found

    def level(self, tenant: Obj) -> int:
        depth, parent = 1, tenant.get("parent_id")
        while parent:
            depth += 1
            found = self.store.get(TENANTS, parent)
            parent = found.get("parent_id") if found else None
        return depth

    def show(self, tenant: Obj) -> dict[str, Any]:
        shown = {k: tenant.get(k) for k in ("id", "name", "display_name", "parent_id", "status")}
        return shown | {"tenant_level": self.level(tenant), "created_at": tenant["created_at"]}


class Shapes:
    """The emulation's names ⇄ the names its options give, for one request."""

    def __init__(self, options: TenantsV1Options) -> None:
        self.options = options
        f = options.fields
        self.names: dict[str, dict[str, str]] = {
            "tenant": {
                "name": f.tenant.name,
                "display_name": f.tenant.display_name,
                "parent_id": f.tenant.parent,
                "status": f.tenant.status,
            },
            "flag": {"key": f.flag.key, "enabled": f.flag.enabled},
            "role": {
                "name": f.role.name,
                "description": f.role.description,
                "permissions": f.role.permissions,
            },
            "role_assignment": {
                "role_id": f.role_assignment.role,
                "user_id": f.role_assignment.user,
                "status": f.role_assignment.status,
            },
        }

    def name(self, kind: str, field: str) -> str:
        """The name ``field`` of a ``kind`` travels under (for error messages)."""
        return self.names[kind][field]

    def shown(self, kind: str, row: Mapping[str, Any]) -> dict[str, Any]:
        """``row`` under the configured names (its id under ``idField``)."""
        names = {**self.names[kind], "id": self.options.id_field}
        plain = {k: v for k, v in row.items() if k not in names}
        return plain | {names[k]: v for k, v in row.items() if k in names}

    def taken(self, kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """A request body under the emulation's names (keys it does not know are dropped)."""
        return {own: body[sent] for own, sent in self.names[kind].items() if sent in body}

    def one(self, kind: str, row: Mapping[str, Any], status: int = 200) -> Response:
        """A single object's answer, under ``objectWrapper`` when set."""
        shown = self.shown(kind, row)
        wrapper = self.options.object_wrapper
        return json_response(shown if wrapper is None else {wrapper: shown}, status)

    def listed(
        self,
        kind: str,
        listing: Listing,
        rows: list[Obj],
        request: Request,
        *,
        max_page: int | None,
        default_limit: int = MAX_LIMIT,
        extra: Mapping[str, Any] | None = None,
    ) -> Response:
        """A listing's answer as ``listing`` says, at most ``max_page`` items a page
        when it pages (a listing that does not page answers everything at once)."""
        cap = (max_page or MAX_LIMIT) if listing.paging != "none" else max(len(rows), 1)
        query = request.query_params
        window = served.asked(query, listing, max_page=cap, default_limit=default_limit)
        chunk = rows[window.offset : window.offset + window.limit]
        text = served.answer(
            listing,
            window,
            [dumps(self.shown(kind, r)) for r in chunk],
            len(rows),
            path=request.url.path,
            extra=extra,
        )
        return raw_json_response(text)

    def error(self, status: int, code: str, message: str) -> dict[str, Any]:
        """``{"error": code, "message": text}`` as documented; the words elsewhere when
        the options say an error holds them at another key."""
        key = self.options.errors.message or "message"
        body: dict[str, Any] = {"error": code}
        served.put_at(body, key, message)
        return body


def seed(store: Store, data: Mapping[str, Any]) -> None:
    """``{tokens: [{token, roles: [...]}], options: {...}, quirks: {max_page: N}}``.

    ``tokens`` are more callers, with the roles they hold. ``options`` (the
    target options of docs/apis/tenants-v1.md, camelCase) make the sandbox answer
    the way a target configured with them expects; a bad one is a ValueError
    before the server starts; seeding again replaces them. ``quirks.max_page``
    serves at most that many items a page, whatever the client asks for.
    """
    if "options" in data:
        options = TenantsV1Options.model_validate(dict(data["options"] or {}))
        _replace(store, "options", {"options": options.model_dump(by_alias=True)})
    quirks = dict(data.get("quirks") or {})
    if set(quirks) - QUIRKS:
        raise ValueError(f"unknown quirks: {', '.join(sorted(set(quirks) - QUIRKS))}")
    if quirks:
        cap = quirks.get("max_page")
        if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap < 1):
            raise ValueError("quirks.max_page must be a whole number, at least 1")
        _replace(store, "quirks", quirks)
    for entry in data.get("tokens", []):
        store.insert(
            SETTINGS,
            {"token": entry["token"], "roles": list(entry.get("roles", []))},
            scope="tokens",
        )


def _replace(store: Store, name: str, row: Obj) -> None:
    """The one settings row called ``name``, written anew."""
    found = store.find(SETTINGS, name, scope=name)
    if found is not None:
        store.delete(SETTINGS, str(found["id"]))
    store.insert(SETTINGS, row, key=name, scope=name)


__all__ = ["FLAGS", "GRANTS", "ROLES", "SETTINGS", "TENANTS", "Shapes", "Tenants", "seed"]

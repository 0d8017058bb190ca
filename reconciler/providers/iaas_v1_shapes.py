"""How ``iaas-v1`` answers are read: document 001 shows none, so the options say.

Listed users and tenants carry their server id at the target's ``idField``
(kept here as ``id``); a tenant lists its members under one of
``tenantMembers``, each an object with its user's id under one of
``memberUserId`` (and its ``pubkey``) or a bare user id. A listing left at the
defaults is a bare array, an envelope tolerated (:func:`items`, :func:`total`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from reconciler.options.common import maybe_at
from reconciler.options.iaas_v1 import IaasV1Options
from reconciler.providers.shapes import ShapeError, obj, optional_text, present

Row = dict[str, Any]
"""A listed user or tenant, its server id under ``id`` whatever key the server used."""
ENVELOPES = ("items", "data", "results", "users", "tenants")
"""Where a bare-array listing (the default) is also found, should a server wrap it."""


def items(body: Any) -> list[Any]:
    """A plain array, as the document's examples imply; an envelope is tolerated."""
    if isinstance(body, dict):
        for key in ENVELOPES:
            if isinstance(body.get(key), list):
                return list(body[key])
    if not isinstance(body, list):
        raise TypeError(f"expected a list, got {type(body).__name__}")
    return body


def total(body: Any, key: str | None) -> int | None:
    """The count an envelope may report (at ``key``, else ``total`` or ``count``);
    a plain array reports none."""
    if isinstance(body, dict):
        for where in (key,) if key else ("total", "count"):
            found = maybe_at(body, where)
            if isinstance(found, int) and not isinstance(found, bool):
                return found
    return None


def obj_of(body: Any, id_field: str = "id") -> dict[str, Any]:
    """An answer's object, bare or wrapped in ``data`` (no object: empty)."""
    if isinstance(body, dict) and id_field not in body and isinstance(body.get("data"), dict):
        return dict(body["data"])
    return body if isinstance(body, dict) else {}


def _first(row: Mapping[str, Any], keys: list[str]) -> Any:
    """The value under the first of ``keys`` that ``row`` holds a value for, else None."""
    return next((row[key] for key in keys if row.get(key) is not None), None)


class Shapes:
    """The answers' shapes under one target's options."""

    def __init__(self, options: IaasV1Options) -> None:
        self.options = options

    def identified(self, item: Any) -> Row:
        """A listed object, with its server id (at ``idField``) as ``id``."""
        row = dict(obj(item))
        row["id"] = present(row, self.options.id_field)
        return row

    def tenant_row(self, item: Any) -> Row:
        row = self.identified(item)
        present(row, "name")
        members = _first(row, self.options.tenant_members) or []
        if not isinstance(members, list):
            raise ShapeError(f"a tenant's members are a {type(members).__name__}, not a list")
        return row

    def user_row(self, item: Any) -> Row:
        row = self.identified(item)
        present(row, "email")
        optional_text(row, "role")
        return row

    def members(self, tenant: Row) -> Iterator[tuple[str, str | None]]:
        """A tenant's members as (user id, pubkey): objects or bare ids, as servers differ."""
        for entry in _first(tenant, self.options.tenant_members) or []:
            if isinstance(entry, dict):
                user_id = _first(entry, self.options.member_user_id)
                if user_id is not None:
                    yield str(user_id), entry.get("pubkey")
            else:
                yield str(entry), None

    def answered(self, body: Any) -> dict[str, Any]:
        """The object an answer holds, bare or wrapped in ``data`` (no object: empty)."""
        return obj_of(body, self.options.id_field)

    def created_id(self, body: Any) -> Any:
        """The id in a create's answer (None without one: the caller finds it by name)."""
        return self.answered(body).get(self.options.id_field)


__all__ = ["ENVELOPES", "Row", "Shapes", "items", "obj_of", "total"]

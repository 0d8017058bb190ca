"""How ``reference`` answers look: listed objects and tier defaults, checked as they arrive.

Where a listing's items and total are is a target option (``lists``), read by
the client's paging. The ``*_row`` decoders run on each listed item as its
page arrives (and :func:`tiers` on a subscription plan's tier defaults), so an
answer in another shape is reported naming its own call; :mod:`.reference`
joins the rows afterwards.

A read of 10,000 tenants lists 100,000 flags, so the row decoders first try a
check of exact types that every well-formed item passes (a plain ``dict``,
``str`` keys, ids of a JSON scalar type) and return the item itself, no copy;
anything else takes the full checks of :mod:`.shapes`, which accept what they
always did and refuse the rest with the same words.
"""

from __future__ import annotations

from typing import Any

from reconciler.providers.paging import JSON
from reconciler.providers.shapes import (
    ShapeError,
    name,
    obj,
    optional_text,
    present,
    scalar,
    text,
)

SERVER_FIELDS = ("id", "created_at", "updated_at", "suspended_at")
Row = dict[str, Any]

_ID_TYPES = frozenset({str, int, float, bool, type(None)})
"""Exact types of a JSON scalar: a value of one is an id :func:`~.shapes.scalar` accepts."""


def server(row: Row) -> Row:
    """What the server manages about an object: never compared."""
    return {k: row[k] for k in SERVER_FIELDS if k in row}


def named_row(item: JSON) -> Row:
    """An object with an id and a name: a subscription plan, and the start of a tenant."""
    if type(item) is dict and _named(item):
        return item
    row = obj(item)
    scalar(row, "id")
    name(row, "name")
    return row


def _named(item: Row) -> bool:
    """Whether ``item`` (a plain dict) has an id and a non-empty text name, by exact type."""
    found = item.get("name")
    return type(found) is str and found != "" and "id" in item and type(item["id"]) in _ID_TYPES


def tenant_row(item: JSON) -> Row:
    if (
        type(item) is dict
        and _named(item)
        and type(item.get("plan_id")) in _ID_TYPES
        and type(item.get("parent_id")) in _ID_TYPES
    ):
        return item
    row = named_row(item)
    scalar(row, "plan_id", required=False)
    scalar(row, "parent_id", required=False)
    return row


def flag_row(item: JSON) -> Row:
    if (
        type(item) is dict
        and type(item.get("tenant_id")) in _ID_TYPES
        and type(item.get("key")) is str
    ):
        return item
    row = obj(item)
    scalar(row, "tenant_id", required=False)
    text(row, "key")
    return row


def user_row(item: JSON) -> Row:
    row = obj(item)
    present(row, "email")
    optional_text(row, "name")
    roles = row.get("roles") or []
    if not isinstance(roles, list):
        raise ShapeError(f"'roles' is a {type(roles).__name__}, not a list")
    # The role the operator is read with must be text; the others are only ever
    # path values, which ``unaddressable`` checks.
    role = primary_role(roles)
    if role is not None and not isinstance(role, str):
        raise ShapeError(f"the role {role!r} is not text")
    scalar(row, "tenant_id", required=False)
    return row


def tiers(body: JSON) -> dict[str, Any]:
    rows = body.get("tier_defaults", []) if isinstance(body, dict) else []
    return {str(present(obj(row), "tier")): row.get("slot_limit") for row in rows}


def primary_role(roles: list[Any]) -> Any:
    """One role per operator in specs: the highest the user holds."""
    for role in ("operator-admin", "operator"):
        if role in roles:
            return role
    return roles[0] if roles else None

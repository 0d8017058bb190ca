"""How ``tenants-v1`` answers look: lists as ``{"data": [...]}``, checked as they arrive.

The decoders run on one call's answer (``client.call(..., decode=...)``, the
paging helper's ``decode``), so an answer in another shape is reported naming
its own call; :mod:`.tenants_v1` joins what they return afterwards.
"""

from __future__ import annotations

from typing import Any

from reconciler.model import Kind, ResourceId
from reconciler.providers.shapes import ShapeError, obj, present, scalar

Row = dict[str, Any]


def data(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        return list(body["data"])
    if isinstance(body, list):
        return body
    raise TypeError("expected {'data': [...]}")


def tenant_row(item: Any) -> Row:
    row = obj(item)
    scalar(row, "id")
    present(row, "name")
    scalar(row, "parent_id", required=False)
    return row


def configuration(body: Any, wrapper: str | None = "configuration") -> dict[str, Any]:
    """``GET /{id}/configuration``: ``{<wrapper>: {...}}``, or the bare object when
    ``wrapper`` is None (the option ``configurationResponseWrapper``)."""
    found = obj(body or {}) if wrapper is None else obj(body or {}).get(wrapper) or {}
    return obj(found, "the configuration as an object")


def flags(body: Any) -> list[Row]:
    return [_has(item, "key") for item in data(body)]


def roles(body: Any) -> list[Row]:
    roles = [_has(item, "id", "name") for item in data(body)]
    for role in roles:
        if not isinstance(role.get("permissions") or [], list):
            raise ShapeError("a role's 'permissions' is not a list")
    return roles


def grants(body: Any) -> list[Row]:
    """Role assignments; a revoked one is history (skipped when read), the others are checked."""
    grants = [obj(item) for item in data(body)]
    for grant in grants:
        if grant.get("status", "active") == "active":
            _has(grant, "id", "role_id", "user_id")
    return grants


def _has(item: Any, *keys: str) -> Row:
    row = obj(item)
    for key in keys:
        present(row, key)
    return row


def label(tenant: Row) -> str:
    return str(ResourceId(Kind.TENANT, str(tenant["name"])))


def total(body: Any) -> int | None:
    found = body.get("total") if isinstance(body, dict) else None
    return found if isinstance(found, int) else None

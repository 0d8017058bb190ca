"""How ``operator-v1`` answers look, and how :mod:`.operator_v1` reads them.

Document ``000`` says nothing of bodies, envelopes or paging, so the reads
accept the likely variants (``items`` or a named list, numeric ids, upper-case
status, write answers that are only a message); docs/apis/operator-v1.md writes
down the choices. The ``*_row`` decoders run on each listed item as its page
arrives, so a listing in another shape is reported naming its own call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.model import Kind, Resource, ResourceId
from reconciler.providers.http import JSON
from reconciler.providers.shapes import ShapeError, optional_text, present

OPERATOR_ROLES = ("operator-admin", "operator")
"""The roles that make a user an operator, highest first."""
Row = dict[str, Any]


def items_of(collection: str) -> Callable[[JSON], list[Any]]:
    """A page's items: under ``items``, under the collection's own name, or a bare list."""

    def items(body: JSON) -> list[Any]:
        if isinstance(body, list):
            return body
        if isinstance(body, dict):
            for key in ("items", collection):
                if isinstance(body.get(key), list):
                    return list(body[key])
        raise TypeError(f"expected {{'items': [...]}} or a list, got {type(body).__name__}")

    return items


def total(body: JSON) -> int | None:
    found = body.get("total") if isinstance(body, dict) else None
    return found if isinstance(found, int) and not isinstance(found, bool) else None


def server(obj: Row, *extra: str) -> Row:
    """What the server manages about an object: never compared."""
    kept = {k: obj[k] for k in ("created_at", "updated_at", *extra) if k in obj}
    if obj.get("id") is not None:
        kept["id"] = str(obj["id"])
    return kept


def tenant_status(tenant: Row) -> str:
    """``active``/``suspended`` whatever the case; a tenant shown without one is in use."""
    status = tenant.get("status")
    return status.lower() if isinstance(status, str) and status else "active"


def roles(user: Row) -> list[str]:
    held = user.get("roles")
    if isinstance(held, list):
        return [str(r) for r in held]
    role = user.get("role")
    return [role] if isinstance(role, str) else []


def tier_rows(body: JSON) -> list[Row]:
    rows = body.get("tier_defaults", body.get("items")) if isinstance(body, dict) else body
    return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []


def tiers(body: JSON) -> dict[str, Any]:
    """A subscription plan's tier defaults as ``{tier: slot limit}`` (their ``GET``'s decoder)."""
    return {str(present(row, "tier")): row.get("slot_limit") for row in tier_rows(body)}


# ---- listed items: None for an entry that is not an object (skipped, as before) ------


def named_row(item: JSON) -> Row | None:
    """A device tier or a subscription plan: it needs a name."""
    if not isinstance(item, dict):
        return None
    present(item, "name")
    return item


def tenant_row(item: JSON) -> Row | None:
    """A tenant: a name, unless the server keeps it as deleted (skipped when read)."""
    if not isinstance(item, dict):
        return None
    if tenant_status(item) != "deleted":
        present(item, "name")
    configuration = item.get("configuration")
    if configuration is not None and not isinstance(configuration, dict):
        raise ShapeError(f"'configuration' is a {type(configuration).__name__}, not an object")
    return item


def user_row(item: JSON) -> Row | None:
    if not isinstance(item, dict):
        return None
    present(item, "email")
    optional_text(item, "name")
    return item


# ---- rows into resources --------------------------------------------------------------


def named_resource(kind: Kind, obj: Row) -> Resource:
    """A device tier or a subscription plan: a name, a display name and a description."""
    return Resource(
        ResourceId(kind, str(obj["name"])),
        {"display_name": obj.get("display_name"), "description": obj.get("description")},
        server=server(obj),
    )


def tenant_resource(
    t: Row, subscription_plan_names: dict[str, str], tenant_names: dict[str, str]
) -> Resource:
    return Resource(
        ResourceId(Kind.TENANT, str(t["name"])),
        {
            "display_name": t.get("display_name"),
            "plan": subscription_plan_names.get(str(t.get("plan_id"))),
            "status": tenant_status(t),
            "parent": tenant_names.get(str(t.get("parent_id"))),
            "configuration": dict(t.get("configuration") or {}),
        },
        server=server(t, "suspended_at"),
    )


def operator_resource(u: Row, tenant_names: dict[str, str]) -> Resource | None:
    """A user as an operator, or None when it holds no operator role (a customer)."""
    held_roles = roles(u)
    held = [role for role in OPERATOR_ROLES if role in held_roles]
    if not held:
        return None
    return Resource(
        ResourceId(Kind.OPERATOR, str(u["email"]).lower()),
        {
            "name": u.get("name"),
            "role": held[0],
            "status": "active" if u.get("enabled", True) else "disabled",
            "tenant": tenant_names.get(str(u.get("tenant_id"))),
        },
        server={**server(u), "email": u["email"], "roles": held_roles},
    )

"""How ``platform-admin`` answers look, and how :mod:`.platform_admin` reads them.

Every answer is wrapped as ``{"success": true, "data": ...}``. The decoders
here run on one call's answer (or one listed item) as it arrives
(``client.call(..., decode=...)``, the paging helper's ``decode``), so an
answer in another shape is reported naming its own call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.model import Kind, Resource, ResourceId, flag_key
from reconciler.options.common import Listing, at, maybe_at
from reconciler.providers.paging import InconsistentRead
from reconciler.providers.shapes import ShapeError, obj, present

Row = dict[str, Any]


def data(body: Any, path: str) -> Any:
    """What the envelope wraps; anything else is an answer the document does not describe."""
    if not isinstance(body, dict) or "data" not in body or body.get("success") is False:
        raise InconsistentRead(path, "the answer is not in the {'success': true, 'data'} envelope")
    return body["data"]


def slug(plan: Any) -> str | None:
    """The list shows ``plan`` as ``{name, slug}``, the detail as the slug itself."""
    if isinstance(plan, dict):
        value = plan.get("slug")
        return str(value) if value is not None else None
    return plan if isinstance(plan, str) else None


def tenant_row(item: Any) -> Row:
    row = obj(item)
    present(row, "company_name")
    present(row, "id")
    return row


def detail_of(path: str) -> Callable[[Any], Row]:
    """``GET /tenants/{id}``: the tenant's own page (its ``plan_override`` is only here)."""

    def detail(body: Any) -> Row:
        one = data(body, path)
        found = one.get("tenant", one) if isinstance(one, dict) else {}
        return obj(found, "the tenant as an object")

    return detail


def flag_row(item: Any) -> Row:
    """One flag of ``GET /tenants/{id}/feature-flags``: a ``flag_name`` at least."""
    f = obj(item)
    present(f, "flag_name")
    return f


def flag(tenant: str, item: Any) -> Resource:
    """One flag of ``GET /tenants/{id}/feature-flags`` as a resource of ``tenant``."""
    f = flag_row(item)
    name = str(f["flag_name"])
    return Resource(
        ResourceId(Kind.FEATURE_FLAG, flag_key(tenant, name)),
        {"tenant": tenant, "flag": name, "enabled": f.get("enabled")},
        server={"id": name, "updated_at": f.get("updated_at")},
    )


def user_row(item: Any) -> Row:
    """One user of ``GET /users``: an id and an email at least."""
    u = obj(item)
    present(u, "id")
    present(u, "email")
    return u


def users_page(listing: Listing) -> Callable[[Any], tuple[list[Row], int | None]]:
    """One answer of ``GET /users``: its users, and the total it reports (if any),
    where ``listing`` (the target's ``lists.users``) says they are."""

    def page(body: Any) -> tuple[list[Row], int | None]:
        found = at(body, listing.items)
        if not isinstance(found, list):
            raise ShapeError(f"expected a list of users at '{listing.items}'")
        total = maybe_at(body, listing.total) if listing.total else None
        counted = total if isinstance(total, int) and not isinstance(total, bool) else None
        return [user_row(u) for u in found], counted

    return page


def merged_override(live: Any, want: dict[str, Any]) -> dict[str, Any]:
    """The override to send: live keys kept, the spec's keys set, its ``null`` keys removed.

    The PATCH replaces ``plan_override`` as a whole, so keys the spec does not
    name (set by hand) are sent back as they are.
    """
    merged = dict(live) if isinstance(live, dict) else {}
    for key, value in want.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def operator(u: Row) -> Resource:
    """A user as an Operator: ``suspended`` is ``disabled``; nothing else is compared."""
    suspended = u.get("status") == "suspended" or (
        "status" not in u and bool(u.get("suspended_at"))
    )
    return Resource(
        ResourceId(Kind.OPERATOR, str(u["email"]).lower()),
        {"status": "disabled" if suspended else "active"},
        server={
            "id": str(u["id"]),
            "email": u["email"],
            "role": u.get("role"),
            "tenant_id": u.get("tenant_id"),
            "suspended_at": u.get("suspended_at"),
        },
    )

"""How ``platform-admin`` answers look, and how :mod:`.platform_admin` reads them.

Every answer is wrapped as ``{"success": true, "data": ...}``. The decoders
here run on one call's answer as it arrives (``client.call(..., decode=...)``),
so an answer in another shape is reported naming its own call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.model import Kind, Resource, ResourceId, flag_key
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


def tenants_of(path: str) -> Callable[[Any], list[Any]]:
    """The tenants of one page of ``GET /tenants``."""
    return lambda body: data(body, path)["tenants"]


def total_of(path: str) -> Callable[[Any], Any]:
    """The total a page of ``GET /tenants`` reports."""
    return lambda body: (data(body, path).get("pagination") or {}).get("total")


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


def flags_of(path: str, tenant: str) -> Callable[[Any], list[Resource]]:
    """``GET /tenants/{id}/feature-flags``: the tenant's flags as resources."""

    def flags(body: Any) -> list[Resource]:
        found = []
        for f in data(body, path)["flags"]:
            flag = str(present(obj(f), "flag_name"))
            found.append(
                Resource(
                    ResourceId(Kind.FEATURE_FLAG, flag_key(tenant, flag)),
                    {"tenant": tenant, "flag": flag, "enabled": f.get("enabled")},
                    server={"id": flag, "updated_at": f.get("updated_at")},
                )
            )
        return found

    return flags


def users_of(path: str) -> Callable[[Any], tuple[list[Row], Any]]:
    """One page of ``GET /users``: the users, and the ``pagination`` it reports (if any)."""

    def users(body: Any) -> tuple[list[Row], Any]:
        inner = data(body, path)
        page = inner.get("users") if isinstance(inner, dict) else inner
        paging = (inner.get("pagination") if isinstance(inner, dict) else None) or body.get(
            "pagination"
        )
        if not isinstance(page, list):
            raise ShapeError("expected a list of users in 'data'")
        for u in page:
            present(obj(u), "id")
            present(u, "email")
        return page, paging

    return users


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

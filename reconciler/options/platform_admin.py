"""The ``platform-admin`` dialect's options: the choices document 003 leaves open
(docs/apis/platform-admin.md, "Options").

Document 003 is explicit about much: the ``{"success": true, "data": ...}``
envelope, the body of every write, and ``GET /tenants`` in full (items under
``data.tenants``, the total at ``data.pagination.total``, ``limit`` at most 100
and ``offset``). Those stay as documented: the parts of a listing the document
fixes are typed as that one value, so ``reconciler apis`` shows them and a
target that sets another is refused with the value it must be. What it leaves
open is a setting: how users and a tenant's flags page (it shows neither
paged), where an error's words are (it shows no error), where a tenant's own
page shows the applied override, and the ``auto_cleanup_days`` of a created
tenant (its example says 30).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from reconciler.options import DialectOptions
from reconciler.options.common import Errors, Key, Listing, PagingStyle

DOCUMENTED = "documented by 003; cannot change"


class TenantsListing(Listing):
    """``GET /tenants``: everything but the page size is as document 003 shows it."""

    items: Literal["data.tenants"] = Field(default="data.tenants", description=DOCUMENTED)
    total: Literal["data.pagination.total"] = Field(
        default="data.pagination.total", description=DOCUMENTED
    )
    paging: Literal["offset"] = Field(default="offset", description=DOCUMENTED)
    limit_param: Literal["limit"] = Field(default="limit", description=DOCUMENTED)
    offset_param: Literal["offset"] = Field(default="offset", description=DOCUMENTED)
    page_size: int = Field(
        default=100, ge=1, le=100, description="tenants asked for per page (the document's most)"
    )


class UsersListing(Listing):
    """``GET /users``: the users are the list at ``data`` (documented); how it pages is not.

    The first answer is asked for without paging parameters, as the document
    shows the call; only when its total says there is more is the listing
    walked the way these options say (from the start).
    """

    items: Literal["data"] = Field(default="data", description=DOCUMENTED)
    total: Key | None = Field(
        default="pagination.total",
        description="the key of the total count (the audit trail's place); null: none",
    )
    page_size: int = Field(default=100, ge=1, le=10_000, description="users asked per page")


class FlagsListing(Listing):
    """``GET /tenants/{id}/feature-flags``: the flags are under ``data.flags`` (documented);
    the document shows them unpaged."""

    items: Literal["data.flags"] = Field(default="data.flags", description=DOCUMENTED)
    total: Key | None = Field(default=None, description="the key of the total count; null: none")
    paging: PagingStyle = Field(
        default="none", description="how further pages are asked for (none: one answer)"
    )


class Lists(DialectOptions):
    """How each listing the provider reads answers and pages."""

    tenants: TenantsListing = Field(default=TenantsListing(), description="GET /tenants")
    users: UsersListing = Field(default=UsersListing(), description="GET /users")
    flags: FlagsListing = Field(
        default=FlagsListing(), description="GET /tenants/{id}/feature-flags"
    )


class PlatformAdminOptions(DialectOptions):
    """Every choice the ``platform-admin`` provider makes where its document is silent."""

    lists: Lists = Field(default=Lists(), description="how each listing answers and pages")
    errors: Errors = Field(
        default=Errors(),
        description="where error bodies hold the message (null: error.message, as the default)",
    )
    override_key: Key = Field(
        default="plan_override",
        description=(
            "where the tenant of GET /tenants/{id} shows the applied plan override "
            "(the document's example shows none)"
        ),
    )
    cleanup_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="auto_cleanup_days of a tenant created by POST /tenants/test",
    )


__all__ = ["FlagsListing", "Lists", "PlatformAdminOptions", "TenantsListing", "UsersListing"]

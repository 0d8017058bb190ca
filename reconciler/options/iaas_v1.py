"""The ``iaas-v1`` dialect's options: choices document 001 (docs/apis/iaas-v1.md) leaves open.

The document shows requests only: no answer, no paging, no error body. How
lists are paged and wrapped, the key of an object's id and how a listed
tenant shows its members are therefore settings. The defaults read what the
provider always read, tolerances included (an envelope where a bare array is
expected, members under ``users`` or ``members``, as objects or bare ids).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from reconciler.options import DialectOptions
from reconciler.options.common import Errors, Key, Listing
from reconciler.options.reference import ListingsSection

Keys = Annotated[list[Key], Field(min_length=1, max_length=10)]
"""Keys tried in order; the first one present is read."""

BARE_ARRAY = Listing.model_validate(
    {"items": None, "total": None, "paging": "offset", "offsetParam": "skip", "pageSize": 100}
)
"""A listing as the document's bare ``GET`` implies, paged by FastAPI's ``skip``/``limit``."""


class IaasV1Lists(ListingsSection):
    """The two listings the provider reads.

    With ``items: null`` and offset paging (the defaults) an envelope under
    ``items``, ``data``, ``results``, ``users`` or ``tenants`` (with ``total`` or
    ``count``) is read too, and a server that ignores the paging parameters (the
    whole array again) is read once; any other setting is read exactly as set.
    """

    users: Listing = Field(default=BARE_ARRAY, description="GET /users")
    tenants: Listing = Field(default=BARE_ARRAY, description="GET /tenants")


class IaasV1Options(DialectOptions):
    """Every choice the ``iaas-v1`` provider makes where its document is silent."""

    lists: IaasV1Lists = Field(
        default=IaasV1Lists(), description="how each listing answers and is paged"
    )
    errors: Errors = Field(default=Errors(), description="where error bodies hold the message")
    id_field: Key = Field(
        default="id",
        description=(
            "the key of a user's or tenant's server id in listings and create answers "
            "(the id that goes into paths and into a tenant's users[].user_id)"
        ),
    )
    tenant_members: Keys = Field(
        default=["users", "members"],
        description=(
            "the keys a listed tenant may hold its members under, tried in order "
            "(the create body's key is users)"
        ),
    )
    member_user_id: Keys = Field(
        default=["user_id", "id"],
        description=(
            "the keys a listed member may hold its user's id under, tried in order "
            "(a member may also be a bare user id)"
        ),
    )


__all__ = ["BARE_ARRAY", "IaasV1Lists", "IaasV1Options"]

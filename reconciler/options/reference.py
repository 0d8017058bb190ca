"""The ``reference`` dialect's options: the choices
the reference API (docs/apis/reference.md) leaves open.

The page is this dialect's own contract and spells out every body, so what a
target may set is how listings are paged and where errors hold their words:
a server that otherwise follows the page may still page its lists another way.

:class:`ListingsSection` is the base of this dialect's ``lists`` section and
of those of ``iaas-v1`` and ``admin-operators``: what a target writes for one
listing is laid over that dialect's defaults for it, not over
:class:`~reconciler.options.common.Listing`'s own.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from reconciler.options import DialectOptions
from reconciler.options.common import Errors, Listing


class ListingsSection(DialectOptions):
    """One :class:`Listing` per listing a provider reads, each with its dialect's defaults.

    ``lists: {users: {pageSize: 50}}`` changes the page size of ``users`` and
    keeps everything else its dialect chose for it (its items key, its paging).
    """

    @model_validator(mode="before")
    @classmethod
    def _over_the_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        merged = dict(data)
        for name, info in cls.model_fields.items():
            key = info.alias or name
            given, default = data.get(key), info.get_default(call_default_factory=True)
            if isinstance(given, dict) and isinstance(default, Listing):
                merged[key] = {**default.as_data(), **given}
        return merged


class ReferenceLists(ListingsSection):
    """The listings the reference provider reads: ``{items, total}`` paged by offset."""

    plans: Listing = Field(default=Listing(), description="GET /plans")
    tenants: Listing = Field(default=Listing(), description="GET /tenants")
    feature_flags: Listing = Field(
        default=Listing(), description="GET /feature-flags (every tenant's flags)"
    )
    users: Listing = Field(default=Listing(), description="GET /users")


class ReferenceOptions(DialectOptions):
    """Every choice the ``reference`` provider makes where its document is silent."""

    lists: ReferenceLists = Field(
        default=ReferenceLists(), description="how each listing answers and is paged"
    )
    errors: Errors = Field(default=Errors(), description="where error bodies hold the message")


__all__ = ["ListingsSection", "ReferenceLists", "ReferenceOptions"]

"""The ``workspaces-v1`` options: every choice its document (README.md) leaves open.

The document shows lists as ``{"data": [...], "meta": {"total": N}}`` paged by
``offset``/``limit`` and errors as ``{"error": {"code", "message"}}``; a server
that answers otherwise is met by setting these, not by editing the provider.
The defaults are the document's reading. The sandbox takes the same options
(``reconciler sandbox serve --api workspaces-v1 --option 'lists={workspaces: {items: items}}'``).
"""

from __future__ import annotations

from pydantic import Field

from reconciler.options import DialectOptions
from reconciler.options.common import Errors, Key, Listing


class WorkspacesListing(Listing):
    """A listing with the document's defaults, so a section written in part
    (``{paging: page}``) keeps them for the keys it leaves out."""

    items: Key | None = Field(
        default="data", description="the key the items come under; null: the answer is the list"
    )
    total: Key | None = Field(
        default="meta.total", description="the key of the total count; null: the answer has none"
    )
    page_size: int = Field(default=100, ge=1, le=10_000, description="items asked for per page")


class WorkspacesLists(DialectOptions):
    """How each listing the provider reads answers."""

    workspaces: WorkspacesListing = Field(
        default=WorkspacesListing(), description="GET /v1/workspaces"
    )
    flags: WorkspacesListing = Field(
        default=WorkspacesListing(), description="GET /v1/workspaces/{id}/flags"
    )


class WorkspacesErrors(Errors):
    """Where an error answer holds its message: ``error.message`` in the document."""

    message: Key | None = Field(
        default="error.message",
        description="the key of the message in an error body; null tries the usual ones",
    )


class WorkspacesOptions(DialectOptions):
    """The target options of ``workspaces-v1`` (``api: {dialect: workspaces-v1, options: …}``)."""

    lists: WorkspacesLists = Field(
        default=WorkspacesLists(), description="how each listing answers and is paged"
    )
    errors: WorkspacesErrors = Field(
        default=WorkspacesErrors(), description="where error bodies hold the message"
    )


__all__ = ["WorkspacesErrors", "WorkspacesListing", "WorkspacesLists", "WorkspacesOptions"]

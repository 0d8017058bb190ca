"""Option sections every dialect can use: how a listing answers, where an error's words are.

An API document that shows a listing rarely says everything a client must know
to walk it: the key the items come under, where the total is, how the next page
is asked for. :class:`Listing` makes each of those a setting; :class:`Errors`
does the same for the error body. A dialect's options model holds them as
fields (``lists: {tenants: {...}}``, ``errors: {...}``) with its own defaults.

Keys may be dotted (``data.items``) to reach into nested objects.
A leaf: it imports only the options base.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from reconciler.options import DialectOptions

Key = Annotated[str, StringConstraints(min_length=1, max_length=200)]
"""A key of a JSON object, or a dotted path of keys (``meta.total``)."""
Param = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.\-\[\]]+$")
]
"""A query parameter's name."""
PagingStyle = Literal["offset", "page", "cursor", "link", "none"]


class Listing(DialectOptions):
    """How one listing answers and is paged.

    ``offset`` sends ``offsetParam``/``limitParam`` (``skip``/``limit`` is
    ``offsetParam: skip``); ``page`` sends ``pageParam``/``limitParam`` from
    ``firstPage`` (``page``/``per_page`` is ``limitParam: per_page``);
    ``cursor`` sends ``cursorParam`` with the value found at ``next`` in the
    previous answer; ``link`` follows the URL found at ``next`` (on the same
    server and under the target's URL only); ``none`` reads one answer.
    """

    items: Key | None = Field(
        default="items", description="the key the items come under; null: the answer is the list"
    )
    total: Key | None = Field(
        default="total", description="the key of the total count; null: the answer has none"
    )
    paging: PagingStyle = Field(
        default="offset",
        description="how further pages are asked for: offset, page, cursor, link or none",
    )
    limit_param: Param = Field(default="limit", description="the page-size query parameter")
    offset_param: Param = Field(default="offset", description="offset paging: how many to skip")
    page_param: Param = Field(default="page", description="page paging: the page number")
    first_page: int = Field(
        default=1, ge=0, le=1, description="page paging: the first page's number"
    )
    cursor_param: Param = Field(default="cursor", description="cursor paging: the cursor parameter")
    next: Key = Field(
        default="next",
        description="cursor and link paging: the key of the next cursor or next page's URL",
    )
    page_size: int = Field(default=500, ge=1, le=10_000, description="items asked for per page")

    @model_validator(mode="after")
    def _onward_needs_an_object(self) -> Listing:
        if self.paging in ("cursor", "link") and self.items is None:
            raise ValueError(
                f"{self.paging} paging needs the answer to be an object: set 'items' to "
                "the key the items come under"
            )
        return self


class Errors(DialectOptions):
    """Where an error answer holds the server's own words."""

    message: Key | None = Field(
        default=None,
        description=(
            "the key of the message in an error body (FastAPI: detail); null tries "
            "message, error, detail and errors"
        ),
    )


def at(body: Any, key: str | None) -> Any:
    """The value at dotted ``key`` in ``body`` (``body`` itself for None).

    A missing key or a step into something that is not an object raises
    :class:`KeyError`, which callers report as an answer in another shape.
    """
    if key is None:
        return body
    found = body
    for part in key.split("."):
        if not isinstance(found, dict) or part not in found:
            raise KeyError(key)
        found = found[part]
    return found


def maybe_at(body: Any, key: str | None) -> Any:
    """:func:`at`, or None where there is nothing at ``key``."""
    try:
        return at(body, key)
    except KeyError:
        return None


__all__ = ["Errors", "Key", "Listing", "PagingStyle", "at", "maybe_at"]

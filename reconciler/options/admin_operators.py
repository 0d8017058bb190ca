"""The ``admin-operators`` dialect's options: the choices
document 002 (docs/apis/admin-operators.md) leaves open.

The document shows every body: the operators come under ``operators`` beside
``current_admin``, ids are numbers, errors are ``{"error": …}``. It says
nothing of paging, so the list is read as one answer; a server that pages it
is a setting, as is the error key of one that answers otherwise.
"""

from __future__ import annotations

from pydantic import Field

from reconciler.options import DialectOptions
from reconciler.options.common import Errors, Listing
from reconciler.options.reference import ListingsSection

ONE_ANSWER = Listing.model_validate({"items": "operators", "total": None, "paging": "none"})
"""``GET /admin/operators`` as the document shows it: every operator in one answer."""


class AdminOperatorsLists(ListingsSection):
    """The one listing the provider reads (``current_admin`` is read from its first page)."""

    operators: Listing = Field(default=ONE_ANSWER, description="GET /admin/operators")


class AdminOperatorsOptions(DialectOptions):
    """Every choice the ``admin-operators`` provider makes where its document is silent."""

    lists: AdminOperatorsLists = Field(
        default=AdminOperatorsLists(), description="how the listing answers and is paged"
    )
    errors: Errors = Field(default=Errors(), description="where error bodies hold the message")


__all__ = ["AdminOperatorsLists", "AdminOperatorsOptions"]

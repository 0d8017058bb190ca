"""The ``admin-operators`` dialect's options: the choices
document 002 (docs/apis/admin-operators.md) leaves open."""

from __future__ import annotations

from pydantic import Field

from reconciler.options import DialectOptions
from reconciler.options.common import Errors


class AdminOperatorsOptions(DialectOptions):
    """Every choice the ``admin-operators`` provider makes where its document is silent."""

    errors: Errors = Field(default=Errors(), description="where error bodies hold the message")


__all__ = ["AdminOperatorsOptions"]

"""The ``reference`` dialect's options: the choices
the reference API (docs/apis/reference.md) leaves open."""

from __future__ import annotations

from pydantic import Field

from reconciler.options import DialectOptions
from reconciler.options.common import Errors


class ReferenceOptions(DialectOptions):
    """Every choice the ``reference`` provider makes where its document is silent."""

    errors: Errors = Field(default=Errors(), description="where error bodies hold the message")


__all__ = ["ReferenceOptions"]

"""The ``operator-v1`` dialect's options: the choices
document 000 (docs/apis/operator-v1.md) leaves open."""

from __future__ import annotations

from pydantic import Field

from reconciler.options import DialectOptions
from reconciler.options.common import Errors


class OperatorV1Options(DialectOptions):
    """Every choice the ``operator-v1`` provider makes where its document is silent."""

    errors: Errors = Field(default=Errors(), description="where error bodies hold the message")


__all__ = ["OperatorV1Options"]

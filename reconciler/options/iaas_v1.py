"""The ``iaas-v1`` dialect's options: choices document 001 (docs/apis/iaas-v1.md) leaves open."""

from __future__ import annotations

from pydantic import Field

from reconciler.options import DialectOptions
from reconciler.options.common import Errors


class IaasV1Options(DialectOptions):
    """Every choice the ``iaas-v1`` provider makes where its document is silent."""

    errors: Errors = Field(default=Errors(), description="where error bodies hold the message")


__all__ = ["IaasV1Options"]

"""The ``platform-admin`` dialect's options: the choices
document 003 (docs/apis/platform-admin.md) leaves open."""

from __future__ import annotations

from pydantic import Field

from reconciler.options import DialectOptions
from reconciler.options.common import Errors


class PlatformAdminOptions(DialectOptions):
    """Every choice the ``platform-admin`` provider makes where its document is silent."""

    errors: Errors = Field(default=Errors(), description="where error bodies hold the message")


__all__ = ["PlatformAdminOptions"]

"""The ``tenants-v1`` dialect's options (docs/apis/tenants-v1.md, "Options")."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from reconciler.options import DialectOptions
from reconciler.options.common import Errors

WrapperKey = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class TenantsV1Options(DialectOptions):
    """Document 004 says configuration bodies are "forwarded to the Rust Platform
    service" and shows none: how they are wrapped is a setting."""

    configuration_request_wrapper: WrapperKey | None = Field(
        default=None,
        description=(
            "the key the body of PATCH /{id}/configuration holds the changed keys "
            "under; null sends them as the bare object"
        ),
    )
    errors: Errors = Field(default=Errors(), description="where error bodies hold the message")
    configuration_response_wrapper: WrapperKey | None = Field(
        default="configuration",
        description=(
            "the key the answer of GET /{id}/configuration holds the configuration "
            "under; null reads the bare object"
        ),
    )


__all__ = ["TenantsV1Options"]

"""The ``tenants-v1`` dialect's options (docs/apis/tenants-v1.md, "Options").

Document 004 lists paths, methods and query parameters and shows the error body
of the gateway; every request body is "forwarded to the Rust Platform service"
and no answer is shown. So what the document fixes stays fixed (``GET
/v1/tenants`` pages by ``page`` and ``limit``, both positive: typed here as that
one value), and everything a body or an answer holds is a setting: where a
listing's items and total are, how the per-tenant listings page, the key of an
object's id, the names of the fields of each body, the wrappers of nested and
single-object bodies, and where an error from the platform service has its words.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from reconciler.options import DialectOptions
from reconciler.options.common import Errors, Key, Listing, PagingStyle

WrapperKey = Annotated[str, StringConstraints(min_length=1, max_length=100)]
FieldName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
"""A key of a body or an answer, as sent and read (not a dotted path)."""
DOCUMENTED = "documented by 004 (page and limit, positive); cannot change"


class TenantsListing(Listing):
    """``GET /v1/tenants``: paged by ``page`` and ``limit`` as documented; the answer's
    keys are not shown, so where the items and the total are is a setting."""

    items: Key | None = Field(default="data", description="the key the tenants come under")
    total: Key | None = Field(default="total", description="the key of the total count")
    paging: Literal["page"] = Field(default="page", description=DOCUMENTED)
    page_param: Literal["page"] = Field(default="page", description=DOCUMENTED)
    limit_param: Literal["limit"] = Field(default="limit", description=DOCUMENTED)
    first_page: Literal[1] = Field(default=1, description=DOCUMENTED)
    page_size: int = Field(default=100, ge=1, le=10_000, description="tenants asked per page")


class TenantListing(Listing):
    """A listing under one tenant (flags, roles, assignments): the document shows no
    paging parameter, so by default it is one answer, its items under ``data``."""

    items: Key | None = Field(default="data", description="the key the items come under")
    total: Key | None = Field(default=None, description="the key of the total count; null: none")
    paging: PagingStyle = Field(
        default="none", description="how further pages are asked for (none: one answer)"
    )


class Lists(DialectOptions):
    """How each listing the provider reads answers and pages."""

    tenants: TenantsListing = Field(default=TenantsListing(), description="GET /v1/tenants")
    flags: TenantListing = Field(default=TenantListing(), description="GET /{id}/feature-flags")
    roles: TenantListing = Field(default=TenantListing(), description="GET /{id}/roles")
    role_assignments: TenantListing = Field(
        default=TenantListing(), description="GET /{id}/role-assignments"
    )


class _Names(DialectOptions):
    """Field names of one object: each a distinct key."""

    @model_validator(mode="after")
    def _distinct(self) -> _Names:
        names = list(self.model_dump().values())
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"two fields cannot share the name {', '.join(map(repr, twice))}")
        return self


class TenantFields(_Names):
    """A tenant in ``POST``/``PATCH /v1/tenants`` and in the list."""

    name: FieldName = Field(default="name", description="the tenant's unique name")
    display_name: FieldName = Field(default="display_name", description="its display name")
    parent: FieldName = Field(
        default="parent_id", description="its parent, sent as the parent's server id"
    )
    status: FieldName = Field(default="status", description="its lifecycle state (read only)")


class FlagFields(_Names):
    """A flag in ``POST /{id}/feature-flags`` and in its list."""

    key: FieldName = Field(default="key", description="the flag's key")
    enabled: FieldName = Field(default="enabled", description="whether it is on")


class RoleFields(_Names):
    """A role in ``POST /{id}/roles``, ``PUT /{id}/roles/{role_id}`` and in its list."""

    name: FieldName = Field(default="name", description="the role's name")
    description: FieldName = Field(default="description", description="its description")
    permissions: FieldName = Field(default="permissions", description="its permissions (a list)")


class RoleAssignmentFields(_Names):
    """An assignment in ``POST /{id}/role-assignments`` and in its list."""

    role: FieldName = Field(default="role_id", description="the role, sent as its server id")
    user: FieldName = Field(default="user_id", description="the user's UUID")
    status: FieldName = Field(
        default="status", description="its state (read only; revoked ones are history)"
    )


class Fields(DialectOptions):
    """The field names of each body, the same in answers."""

    tenant: TenantFields = Field(default=TenantFields(), description="a tenant's fields")
    flag: FlagFields = Field(default=FlagFields(), description="a flag's fields")
    role: RoleFields = Field(default=RoleFields(), description="a role's fields")
    role_assignment: RoleAssignmentFields = Field(
        default=RoleAssignmentFields(), description="an assignment's fields"
    )


class TenantsV1Options(DialectOptions):
    """Document 004 says bodies are "forwarded to the Rust Platform service" and shows
    none: their keys, wrappers and the shape of every answer are settings."""

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
    lists: Lists = Field(default=Lists(), description="how each listing answers and pages")
    id_field: FieldName = Field(
        default="id", description="the key of an object's server id (a UUID) in answers"
    )
    object_wrapper: WrapperKey | None = Field(
        default=None,
        description=(
            "the key a single object's answer (a create's) holds the object under; "
            "null reads the bare object"
        ),
    )
    fields: Fields = Field(default=Fields(), description="the field names of each body")

    @model_validator(mode="after")
    def _id_is_its_own_field(self) -> TenantsV1Options:
        for kind, names in self.fields.model_dump().items():
            if self.id_field in names.values():
                raise ValueError(
                    f"idField '{self.id_field}' is also a field of a {kind}: they must differ"
                )
        return self


__all__ = [
    "FlagFields",
    "Lists",
    "RoleAssignmentFields",
    "RoleFields",
    "TenantFields",
    "TenantListing",
    "TenantsListing",
    "TenantsV1Options",
]

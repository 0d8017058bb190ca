"""The ``operator-v1`` dialect's options: the choices document 000 leaves open.

Document 000 lists paths and methods, never a body (docs/apis/operator-v1.md,
"Choices where the document is silent", and its "Options" table). Each default
is the choice the dialect always made; a server that filled the silences another
way (lists under the resource's name, integer ids, tier defaults naming the
device tier's id, FastAPI's ``{"detail": ...}`` errors) is met with options only.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from reconciler.options import DialectOptions
from reconciler.options.common import Errors, Listing

ApiKey = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")
]
"""A top-level key of a request body or of an answered object."""
IdType = Literal["string", "integer"]


class OperatorV1Lists(DialectOptions):
    """One listing per collection the provider reads."""

    device_tiers: Listing = Field(default=Listing(), description="GET /device-tiers")
    plans: Listing = Field(default=Listing(), description="GET /plans")
    tenants: Listing = Field(default=Listing(), description="GET /tenants")
    users: Listing = Field(default=Listing(), description="GET /users")


class OperatorV1TierDefaults(DialectOptions):
    """How ``GET``/``PUT /plans/{plan_id}/tier-defaults`` hold a plan's tier defaults."""

    wrapper: ApiKey | None = Field(
        default="tier_defaults",
        description="the key the rows come under, in the body and the answer; null: a bare list",
    )
    tier_field: ApiKey = Field(default="tier", description="the key of a row's device tier")
    tier_reference: Literal["name", "id"] = Field(
        default="name",
        description="how a row names its device tier: by name, or by the tier's server id",
    )
    limit_field: ApiKey = Field(default="slot_limit", description="the key of a row's slot limit")

    @model_validator(mode="after")
    def _two_keys(self) -> OperatorV1TierDefaults:
        if self.tier_field == self.limit_field:
            raise ValueError("tierField and limitField must be different keys")
        return self


class OperatorV1Fields(DialectOptions):
    """Spec field → the key bodies and answers carry it under (ids sent per ``idType``)."""

    name: ApiKey = Field(
        default="name", description="a device tier's, plan's or tenant's name; a user's name"
    )
    email: ApiKey = Field(default="email", description="a user's email")
    display_name: ApiKey = Field(
        default="display_name", description="a tier's, plan's or tenant's displayName"
    )
    description: ApiKey = Field(default="description", description="a tier's or plan's description")
    configuration: ApiKey = Field(default="configuration", description="a tenant's configuration")
    status: ApiKey = Field(default="status", description="a tenant's status (in PATCH)")
    role: ApiKey = Field(default="role", description="the role given in POST /users and …/roles")
    plan: ApiKey = Field(default="plan_id", description="a tenant's plan, as its server id")
    parent: ApiKey = Field(default="parent_id", description="a tenant's parent, as its server id")
    tenant: ApiKey = Field(default="tenant_id", description="a user's tenant, as its server id")


class OperatorV1Options(DialectOptions):
    """Every choice the ``operator-v1`` provider makes where its document is silent."""

    lists: OperatorV1Lists = Field(
        default=OperatorV1Lists(), description="how each listing answers and is paged"
    )
    id_field: ApiKey = Field(default="id", description="the key holding an object's server id")
    id_type: IdType = Field(
        default="string",
        description=(
            'how a server id is sent in bodies (plan_id: 7 or "7"); ids read are kept as text'
        ),
    )
    tier_defaults: OperatorV1TierDefaults = Field(
        default=OperatorV1TierDefaults(), description="the shape of a plan's tier defaults"
    )
    fields: OperatorV1Fields = Field(
        default=OperatorV1Fields(), description="the key of each spec field in bodies and answers"
    )
    errors: Errors = Field(default=Errors(), description="where error bodies hold the message")

    @model_validator(mode="after")
    def _keys_apart(self) -> OperatorV1Options:
        """Two spec fields under one key (or under the id's) could not be told apart."""
        taken: dict[str, str] = {self.id_field: "idField"}
        for name, key in self.fields.as_data().items():
            if key in taken:
                raise ValueError(f"fields.{name} and {taken[key]} are both '{key}'")
            taken[key] = f"fields.{name}"
        return self


__all__ = [
    "IdType",
    "OperatorV1Fields",
    "OperatorV1Lists",
    "OperatorV1Options",
    "OperatorV1TierDefaults",
]

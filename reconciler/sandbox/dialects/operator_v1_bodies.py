"""Request bodies of the ``operator-v1`` sandbox, as docs/apis/operator-v1.md fixes them.

The document lists routes only; these shapes are the choices written on that
page. Unknown fields are ignored (pydantic's default); strings, booleans and
integers are strict, as a real server does not read ``"5"`` as a number.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictInt, StrictStr

Text = Annotated[StrictStr, Field(min_length=1)]
Email = Annotated[StrictStr, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class NamedCreate(BaseModel):
    """``POST /device-tiers`` and ``POST /plans``."""

    name: Text
    display_name: StrictStr | None = None
    description: StrictStr | None = None


class NamedReplace(BaseModel):
    """``PUT /device-tiers/{id}`` and ``PUT /plans/{id}``: the whole object.

    A field left out becomes null, as a PUT replaces; ``name`` may be repeated
    but not changed (it is what tenants and tier defaults refer to).
    """

    name: Text | None = None
    display_name: StrictStr | None = None
    description: StrictStr | None = None


class TierDefault(BaseModel):
    tier: Text
    slot_limit: Annotated[StrictInt, Field(ge=0)]


class TierDefaults(BaseModel):
    tier_defaults: list[TierDefault]


class TenantCreate(BaseModel):
    name: Text
    display_name: StrictStr | None = None
    plan_id: StrictStr | None = None
    parent_id: StrictStr | None = None
    configuration: dict[str, Any] | None = None


class TenantPatch(BaseModel):
    """Only the fields given change; ``configuration`` is a JSON merge patch."""

    display_name: StrictStr | None = None
    plan_id: StrictStr | None = None
    parent_id: StrictStr | None = None
    configuration: dict[str, Any] | None = None
    status: Literal["active", "suspended"] | None = None


class UserCreate(BaseModel):
    email: Email
    name: StrictStr | None = None
    role: StrictStr | None = None
    tenant_id: StrictStr | None = None


class UserReplace(BaseModel):
    """``PUT /users/{id}``: the whole profile; ``name`` left out becomes null."""

    email: Email
    name: StrictStr | None = None


class RoleBody(BaseModel):
    role: Text


class TenantAssignment(BaseModel):
    tenant_id: StrictStr | None  # required, null to unassign

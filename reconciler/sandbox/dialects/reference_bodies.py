"""Request bodies and JSON merge patch for the ``reference`` dialect.

Unknown fields are ignored (pydantic's default), as the API page says. Booleans
and integers are strict: a real server does not read ``"yes"`` as true.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictBool, StrictInt, StrictStr

Text = Annotated[StrictStr, Field(min_length=1)]
Name = Annotated[StrictStr, Field(min_length=1, max_length=100)]  # the tenants' server rule


class PlanCreate(BaseModel):
    name: Text
    display_name: StrictStr | None = None
    description: StrictStr | None = None


class PlanUpdate(BaseModel):
    display_name: StrictStr | None = None
    description: StrictStr | None = None


class TierDefault(BaseModel):
    tier: Text
    slot_limit: Annotated[StrictInt, Field(ge=0)]


class TierDefaults(BaseModel):
    tier_defaults: list[TierDefault]


class TenantCreate(BaseModel):
    name: Name
    display_name: Name | None = None
    plan_id: StrictStr | None = None
    parent_id: StrictStr | None = None
    configuration: dict[str, Any] | None = None


class TenantPatch(BaseModel):
    display_name: Name | None = None
    plan_id: StrictStr | None = None
    parent_id: StrictStr | None = None
    configuration: dict[str, Any] | None = None


class FlagCreate(BaseModel):
    key: Text
    enabled: StrictBool


class FlagUpdate(BaseModel):
    enabled: StrictBool


class UserCreate(BaseModel):
    email: Text
    name: StrictStr | None = None
    roles: list[StrictStr] = []
    tenant_id: StrictStr | None = None
    enabled: StrictBool = True


class UserUpdate(BaseModel):
    email: Text | None = None
    name: StrictStr | None = None


class RoleBody(BaseModel):
    role: Text


class TenantAssignment(BaseModel):
    tenant_id: StrictStr | None  # required, but may be null to unassign


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge key by key, ``null`` removes a key."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result

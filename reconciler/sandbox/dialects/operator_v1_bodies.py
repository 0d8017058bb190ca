"""Request bodies and answer shapes of the ``operator-v1`` sandbox, as its options say.

The document lists routes only; docs/apis/operator-v1.md fixes the shapes, and
the target options (:class:`~reconciler.options.operator_v1.OperatorV1Options`,
given to the sandbox as ``options:`` in its seed) change them the way another
server would have filled the same silences: other keys, integer ids, tier
defaults naming the tier's id. The sandbox stores objects one way (ids as text,
the keys below); :class:`View` turns them into answers and :func:`body_models`
reads bodies under the configured keys. Unknown fields are ignored (pydantic's
default); strings, booleans and integers are strict, as a real server does not
read ``"5"`` as a number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, Literal

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, StrictInt, StrictStr, TypeAdapter, ValidationError
from pydantic import create_model as model

from reconciler.options.operator_v1 import (
    IdType,
    OperatorV1Fields,
    OperatorV1Options,
    OperatorV1TierDefaults,
)
from reconciler.sandbox.store import Obj

Text = Annotated[StrictStr, Field(min_length=1)]
Email = Annotated[StrictStr, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
SlotLimit = Annotated[StrictInt, Field(ge=0)]
REFERENCES = ("id", "plan_id", "parent_id", "tenant_id")
"""Stored keys holding a server id (text in the store, a number under ``idType: integer``)."""


@dataclass(frozen=True)
class Parsed:
    """A body read: its values by stored name, and which of them the client gave."""

    values: dict[str, Any]
    given: frozenset[str]


@dataclass(frozen=True)
class BodyModels:
    """One model per body the document's routes take, keyed as the options say."""

    named_create: type[BaseModel]
    named_replace: type[BaseModel]
    tenant_create: type[BaseModel]
    tenant_patch: type[BaseModel]
    user_create: type[BaseModel]
    user_replace: type[BaseModel]
    role: type[BaseModel]
    tenant_assignment: type[BaseModel]
    tier_defaults: TypeAdapter[Any]


@lru_cache(maxsize=32)
def body_models(
    fields: OperatorV1Fields, id_type: IdType, tiers: OperatorV1TierDefaults
) -> BodyModels:
    """The bodies under ``fields``' keys, ids as ``id_type``, tier defaults as ``tiers``.

    Stored names are the field names; the keys a client sends are their aliases,
    so a refused body names the client's own keys.
    """
    ref: Any = StrictInt if id_type == "integer" else StrictStr
    f = fields

    def opt(kind: Any, key: str) -> Any:
        return (kind | None, Field(None, alias=key))

    def req(kind: Any, key: str) -> Any:
        return (kind, Field(alias=key))

    tier = req(ref if tiers.tier_reference == "id" else Text, tiers.tier_field)
    row = model("TierDefault", tier=tier, slot_limit=req(SlotLimit, tiers.limit_field))
    rows: Any = list[row]  # type: ignore[valid-type]
    if tiers.wrapper is not None:
        rows = model("TierDefaults", tier_defaults=req(rows, tiers.wrapper))
    status: Any = Literal["active", "suspended"]
    return BodyModels(
        named_create=model(
            "NamedCreate",
            name=req(Text, f.name),
            display_name=opt(StrictStr, f.display_name),
            description=opt(StrictStr, f.description),
        ),
        # PUT: a field left out becomes null; ``name`` may be repeated, never changed.
        named_replace=model(
            "NamedReplace",
            name=opt(Text, f.name),
            display_name=opt(StrictStr, f.display_name),
            description=opt(StrictStr, f.description),
        ),
        tenant_create=model(
            "TenantCreate",
            name=req(Text, f.name),
            display_name=opt(StrictStr, f.display_name),
            plan_id=opt(ref, f.plan),
            parent_id=opt(ref, f.parent),
            configuration=opt(dict[str, Any], f.configuration),
        ),
        # Only the fields given change; ``configuration`` is a JSON merge patch.
        tenant_patch=model(
            "TenantPatch",
            display_name=opt(StrictStr, f.display_name),
            plan_id=opt(ref, f.plan),
            parent_id=opt(ref, f.parent),
            configuration=opt(dict[str, Any], f.configuration),
            status=opt(status, f.status),
        ),
        user_create=model(
            "UserCreate",
            email=req(Email, f.email),
            name=opt(StrictStr, f.name),
            role=opt(StrictStr, f.role),
            tenant_id=opt(ref, f.tenant),
        ),
        user_replace=model("UserReplace", email=req(Email, f.email), name=opt(StrictStr, f.name)),
        role=model("RoleBody", role=req(Text, f.role)),
        # required, null to unassign
        tenant_assignment=model("TenantAssignment", tenant_id=req(ref | None, f.tenant)),
        tier_defaults=TypeAdapter(rows),
    )


def refused(exc: ValidationError) -> RequestValidationError:
    """A body pydantic refused, as FastAPI reports one (locations under ``body``)."""
    found = exc.errors(include_url=False, include_context=False, include_input=False)
    return RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in found])


def parse(body_model: type[BaseModel], data: Any) -> Parsed:
    """``data`` read as ``body_model``; a refusal is FastAPI's validation error."""
    try:
        found = body_model.model_validate(data)
    except ValidationError as exc:
        raise refused(exc) from None
    given = frozenset(found.model_fields_set)
    return Parsed({k: _stored(k, v) for k, v in found.model_dump().items()}, given)


def tier_rows(models: BodyModels, data: Any) -> list[tuple[str, int]]:
    """A tier-defaults body as ``(tier, slot limit)`` rows, tiers as sent (as text)."""
    try:
        found = models.tier_defaults.validate_python(data)
    except ValidationError as exc:
        raise refused(exc) from None
    rows = found if isinstance(found, list) else found.tier_defaults
    return [(str(row.tier), int(row.slot_limit)) for row in rows]


def _stored(key: str, value: Any) -> Any:
    """Ids are kept as text, whichever way they travel."""
    return str(value) if key in REFERENCES and value is not None else value


class View:
    """Stored objects as the configured server answers them."""

    def __init__(self, options: OperatorV1Options) -> None:
        f = options.fields
        self.options = options
        self.keys = {
            "id": options.id_field,
            "name": f.name,
            "email": f.email,
            "display_name": f.display_name,
            "description": f.description,
            "configuration": f.configuration,
            "status": f.status,
            "plan_id": f.plan,
            "parent_id": f.parent,
            "tenant_id": f.tenant,
            "role": f.role,
        }
        self.numbers = options.id_type == "integer"
        self.plain = self.keys == {k: k for k in self.keys} and not self.numbers
        """Answers are the stored objects as they are (the defaults): no copy needed."""

    def sent_id(self, value: str | None) -> Any:
        """A stored id as answered: a number under ``idType: integer``."""
        if isinstance(value, str) and self.numbers and value.isdigit():
            return int(value)
        return value

    def show(self, obj: Mapping[str, Any]) -> Obj:
        """One object under the configured keys, ids typed as configured."""
        if self.plain:
            return dict(obj)
        shown: Obj = {}
        for key, value in obj.items():
            shown[self.keys.get(key, key)] = self.sent_id(value) if key in REFERENCES else value
        return shown


__all__ = ["BodyModels", "Parsed", "View", "body_models", "parse", "refused", "tier_rows"]

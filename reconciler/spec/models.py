"""The spec document kinds as pydantic models, and their JSON Schema.

Strict: no coercion (``"5"`` is not a number, ``"yes"`` is not a boolean) and
unknown fields are errors, so a typo never silently does nothing. Optional
fields default to ``None`` meaning "not managed"; writing ``null`` explicitly
is refused where it would be ambiguous (``displayName:`` with no value is
almost always a mistake), allowed where it says "none" (``parent``, an
operator's ``tenant``) or "remove this key" (``configuration``, ``tierDefaults``).
Every name and key (``Name``, ``Key``, ``Ref``, ``FlagKey``, ``Email``) follows
:mod:`reconciler.spec.names` and is stored in Unicode NFC.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel

from reconciler.spec import names

API_VERSION = "reconciler.dev/v1"

URL_PATTERN = r"^https?://[^\s/]+\S*$"
ENV_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"

PUBKEY_PATTERN = r"^[A-Za-z0-9+/]{42,43}=?$"

PATTERN_HINTS: dict[str, str] = {
    PUBKEY_PATTERN: "must be a WireGuard public key (44 characters of base64)",
    URL_PATTERN: "must be an http:// or https:// URL",
    ENV_PATTERN: "must be an environment variable name (letters, digits, '_')",
}
"""What each pattern means, for error messages a person can act on."""

_T = TypeVar("_T")


def _not_null(value: _T | None) -> _T:
    # Runs only on values the spec wrote: absent fields keep their default.
    if value is None:
        raise ValueError("must not be null (leave the field out to keep it unmanaged)")
    return value


# Names and keys: checked by reconciler.spec.names (precise messages, the NFC
# form stored); the JSON Schema says the same for editors, once, in $defs.
_COMMON = (
    "no control, bidirectional-control or invisible characters, no whitespace at either end, "
    "not '.' or '..'; compared in Unicode NFC"
)
NAME_SCHEMAS: dict[str, dict[str, Any]] = {
    "Name": names.json_schema(
        names.NAME_PATTERN, names.NAME_MAX, f"1-{names.NAME_MAX} characters, no '/', {_COMMON}"
    ),
    "Key": names.json_schema(
        names.KEY_PATTERN, names.NAME_MAX, f"1-{names.NAME_MAX} characters, {_COMMON}"
    ),
    "Ref": names.json_schema(
        names.KEY_PATTERN, names.REF_MAX, f"1-{names.REF_MAX} characters, {_COMMON}"
    ),
    "FlagKey": names.json_schema(
        names.FLAG_PATTERN,
        names.FLAG_MAX,
        f"1-{names.FLAG_MAX} of A-Z a-z 0-9 _ . : -, not '.' or '..'",
    ),
    "Email": names.json_schema(
        names.EMAIL_PATTERN,
        names.EMAIL_MAX,
        f"name@domain.tld, at most {names.EMAIL_MAX} characters, {_COMMON} and case",
    ),
}
"""The schema of each kind of name, by its name in the schema's ``$defs``."""


def _named(kind: str) -> WithJsonSchema:
    return WithJsonSchema(dict(NAME_SCHEMAS[kind]))


Name = Annotated[
    str, AfterValidator(names.validator(names.NAME_MAX, names.no_slash)), _named("Name")
]
"""Plan, tenant, device tier, tier, role and target names, and references to them."""
Key = Annotated[str, AfterValidator(names.validator(names.NAME_MAX)), _named("Key")]
"""Configuration keys, roles, permissions, dialect names: may hold ``/``."""
Ref = Annotated[str, AfterValidator(names.validator(names.REF_MAX)), _named("Ref")]
"""A field path or an object reference: ``configuration.region``, ``Tenant/acme``."""
FlagKey = Annotated[
    str, AfterValidator(names.validator(names.FLAG_MAX, names.flag_alphabet)), _named("FlagKey")
]
TierName = Name
Email = Annotated[
    str, AfterValidator(names.validator(names.EMAIL_MAX, names.email_shape)), _named("Email")
]
SlotLimit = Annotated[int, Field(ge=0)]


def _schema_without_null(schema: dict[str, Any]) -> None:
    # The field is typed "X | None" so that leaving it out means unmanaged; but
    # writing null is refused, so editors should see plain X.
    options = schema.pop("anyOf", None)
    if options:
        schema.update(next(o for o in options if o.get("type") != "null"))
    schema.pop("default", None)


# Optional, but not nullable: absent means unmanaged, null is an error.
_Set = (AfterValidator(_not_null), Field(json_schema_extra=_schema_without_null))
OptText = Annotated[str | None, *_Set]
OptName = Annotated[Name | None, *_Set]
OptRole = Annotated[Key | None, *_Set]
OptTiers = Annotated[dict[TierName, SlotLimit | None] | None, *_Set]
OptConfiguration = Annotated[dict[Key, Any] | None, *_Set]
OptFeatures = Annotated[dict[FlagKey, bool] | None, *_Set]
OptEmail = Annotated[Email | None, *_Set]
OptOverride = Annotated[dict[str, Any] | None, *_Set]
OptPermissions = Annotated[list[Key] | None, *_Set]


def _unique(values: list[str] | None) -> list[str] | None:
    seen: set[str] = set()
    for value in values or []:
        if value in seen:
            raise ValueError(f"'{value}' is listed twice")
        seen.add(value)
    return values


OptMembers = Annotated[list[Name] | None, *_Set, AfterValidator(_unique)]
OptPubkey = Annotated[Annotated[str, StringConstraints(pattern=PUBKEY_PATTERN)] | None, *_Set]
TenantStatus = Annotated[Literal["active", "suspended", "inactive"] | None, *_Set]
OperatorStatus = Annotated[Literal["active", "disabled"] | None, *_Set]


class _Spec(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=False,
        field_title_generator=lambda name, _info: to_camel(name),
    )

    KEY_FIELD: ClassVar[str] = "name"
    api_version: Literal["reconciler.dev/v1"]
    protect: Annotated[bool | None, *_Set] = None
    ignore_fields: Annotated[list[Ref] | None, *_Set] = None

    @classmethod
    def field_aliases(cls) -> list[str]:
        """The field names as written in YAML, the kind's own before the shared extras."""
        names = [info.alias or name for name, info in cls.model_fields.items()]
        extras = ["protect", "ignoreFields"]
        return [n for n in names if n not in extras] + extras


# Docstrings of the document models are the JSON Schema's descriptions, shown in
# editors: they speak the spec's language, where ``kind: Plan`` is "a plan".


class DeviceTierSpec(_Spec):
    """A device tier that plans give slots of (``operator-v1``)."""

    kind: Literal["DeviceTier"]
    name: Name
    display_name: OptText = None
    description: OptText = None


class RoleSpec(BaseModel):
    """A tenant-scoped role and the users assigned to it (``tenants-v1``)."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=False,
        field_title_generator=lambda name, _info: to_camel(name),
    )

    description: OptText = None
    permissions: OptPermissions = None
    members: OptMembers = None


class SubscriptionPlanSpec(_Spec):
    """A plan, and the default slot limit of each device tier on it."""

    kind: Literal["Plan"]
    name: Name
    display_name: OptText = None
    description: OptText = None
    tier_defaults: OptTiers = None


class TenantSpec(_Spec):
    """A tenant: its plan, status, place in the hierarchy, configuration and flags."""

    kind: Literal["Tenant"]
    name: Name
    display_name: OptText = None
    plan: OptName = None
    status: TenantStatus = None
    parent: Name | None = None
    configuration: OptConfiguration = None
    features: OptFeatures = None
    owner: OptEmail = None
    plan_override: OptOverride = None
    roles: Annotated[dict[Name, RoleSpec] | None, *_Set] = None


class OperatorSpec(_Spec):
    """A person who operates the platform, optionally scoped to one tenant."""

    KEY_FIELD: ClassVar[str] = "email"
    kind: Literal["Operator"]
    email: Email
    name: OptText = None
    role: OptRole = None
    status: OperatorStatus = None
    tenant: Name | None = None
    wireguard_pubkey: OptPubkey = None


class ExternalSpec(BaseModel):
    """A live object the specs refer to but do not manage: ``managed: false``, the key only.

    Not one of the document kinds of :data:`SPEC_MODELS`: the loader reads a
    document with ``managed: false`` as this, whatever its kind.
    """

    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, alias_generator=to_camel, populate_by_name=False
    )

    api_version: Literal["reconciler.dev/v1"]
    kind: Literal["DeviceTier", "Plan", "Tenant"]
    name: Name
    managed: Literal[False]


EXTERNAL_KINDS: tuple[str, ...] = ("DeviceTier", "Plan", "Tenant")
"""The kinds other objects refer to, so the only ones that can be declared external."""
EXTERNAL_FIELDS: tuple[str, ...] = ("apiVersion", "kind", "name", "managed")
"""All a ``managed: false`` document may hold."""


AnySpec = DeviceTierSpec | SubscriptionPlanSpec | TenantSpec | OperatorSpec
SpecModel = (
    type[DeviceTierSpec] | type[SubscriptionPlanSpec] | type[TenantSpec] | type[OperatorSpec]
)

SPEC_MODELS: dict[str, SpecModel] = {
    "DeviceTier": DeviceTierSpec,
    "Plan": SubscriptionPlanSpec,
    "Tenant": TenantSpec,
    "Operator": OperatorSpec,
}
"""Document kind → model; also the list of kinds a document may have."""


def spec_json_schema() -> dict[str, Any]:
    """JSON Schema of a spec document: one of the kinds, chosen by ``kind``."""
    adapter: TypeAdapter[AnySpec] = TypeAdapter(Annotated[AnySpec, Field(discriminator="kind")])
    schema = adapter.json_schema(by_alias=True)
    _defs_named_by_kind(schema)
    _keys_as_property_names(schema)
    _names_by_reference(schema)
    schema["$defs"].update({kind: dict(s) for kind, s in NAME_SCHEMAS.items()})
    _external_documents(schema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"reconciler spec document ({API_VERSION})"
    return schema


def _external_documents(schema: dict[str, Any]) -> None:
    """A kind others refer to may be written ``managed: false`` (:class:`ExternalSpec`):
    then its key alone. Said inside each kind's definition, so an editor that picks the
    definition by ``kind`` (the discriminator) accepts it, and one that does not, too."""
    for kind in EXTERNAL_KINDS:
        definition = schema["$defs"][f"{kind}Spec"]
        definition["properties"]["managed"] = {
            "const": False,
            "title": "managed",
            "description": "false: a live object the specs refer to but never change; "
            "the document then holds its key alone",
        }
        definition["if"] = {"required": ["managed"]}
        definition["then"] = {"propertyNames": {"enum": list(EXTERNAL_FIELDS)}}


def _defs_named_by_kind(schema: dict[str, Any]) -> None:
    """Each document model's definition is named ``<kind>Spec`` after the ``kind`` users write.

    The class behind ``kind: Plan`` is :class:`SubscriptionPlanSpec` (in code "plan"
    means the change plan); the schema speaks the spec's language and calls it
    ``PlanSpec``, as it always has.
    """
    renamed = {
        model.__name__: f"{kind}Spec"
        for kind, model in SPEC_MODELS.items()
        if model.__name__ != f"{kind}Spec"
    }
    defs = schema["$defs"]
    for old, new in renamed.items():
        defs[new] = defs.pop(old)
        defs[new]["title"] = new
    schema["$defs"] = dict(sorted(defs.items()))
    refs = {f"#/$defs/{old}": f"#/$defs/{new}" for old, new in renamed.items()}

    def rename(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                rename(item)
        elif isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, str) and value in refs:
                    node[key] = refs[value]
                else:
                    rename(value)

    rename(schema)


def _keys_as_property_names(node: Any) -> None:
    """Mapping keys are checked with ``propertyNames``, not ``patternProperties``.

    pydantic writes a key pattern as ``patternProperties``, which lets a key
    that does not match through as an unchecked extra; ``propertyNames``
    holds every key to the name's rules, and ``additionalProperties`` gives
    the value's schema.
    """
    if isinstance(node, list):
        for item in node:
            _keys_as_property_names(item)
        return
    if not isinstance(node, dict):
        return
    patterns = node.get("patternProperties")
    if isinstance(patterns, dict) and len(patterns) == 1:
        [(pattern, value)] = patterns.items()
        del node["patternProperties"]
        node["propertyNames"] = {**node.get("propertyNames", {}), "pattern": pattern}
        node["additionalProperties"] = value
    for child in node.values():
        _keys_as_property_names(child)


def _names_by_reference(node: Any) -> None:
    """Each kind of name's schema written once in ``$defs``, referred to everywhere else."""
    if isinstance(node, list):
        for item in node:
            _names_by_reference(item)
        return
    if not isinstance(node, dict):
        return
    bare = {k: v for k, v in node.items() if k not in ("title", "type")}
    for kind, schema in NAME_SCHEMAS.items():
        if bare == {k: v for k, v in schema.items() if k != "type"}:
            title = {"title": node["title"]} if "title" in node else {}
            node.clear()
            node.update({"$ref": f"#/$defs/{kind}", **title})
            return
    for child in node.values():
        _names_by_reference(child)

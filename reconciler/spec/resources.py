"""Validated spec documents → the flat resources of :mod:`reconciler.model`.

A document nests what belongs to its owner (tier defaults in a subscription
plan, flags in a tenant) because that reads well; the engine wants one object
per thing it can change, so each flag and each subscription plan's tier defaults
become their own resource. Only fields the spec set are included: the engine compares nothing else.

A run holds every desired resource at once, so they are built small: field
sources as one compact :class:`~reconciler.sources.FieldSources` each, and the
names repeated in every tenant (flag and role names) interned.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Mapping
from typing import Any

from reconciler.errors import SourceLocation, SpecProblem
from reconciler.model import (
    Kind,
    Resource,
    ResourceId,
    assignment_key,
    flag_key,
    role_key,
)
from reconciler.rules import RuleError, rule_field
from reconciler.sources import FieldSources
from reconciler.spec.models import (
    AnySpec,
    DeviceTierSpec,
    OperatorSpec,
    RoleSpec,
    SubscriptionPlanSpec,
    TenantSpec,
)
from reconciler.spec.yamlload import Document

_FIELDS: dict[type, tuple[str, ...]] = {
    DeviceTierSpec: ("display_name", "description"),
    SubscriptionPlanSpec: ("display_name", "description"),
    TenantSpec: (
        "display_name",
        "plan",
        "status",
        "parent",
        "configuration",
        "owner",
        "plan_override",
    ),
    OperatorSpec: ("name", "role", "status", "tenant", "wireguard_pubkey"),
}
"""Per model, its attributes that are fields of the main resource (same names)."""


def to_resources(spec: AnySpec, doc: Document) -> list[Resource]:
    """The resources one document declares, with where each was written.

    ``protect`` and ``ignoreFields`` belong to the document's main resource.
    """
    resources = _declared(spec, doc)
    main = resources[0]
    main.protect = bool(spec.protect)
    if spec.ignore_fields:  # else the shared default: an empty frozenset is 216 bytes
        kind = main.id.kind
        main.ignore_fields = frozenset(rule_field(kind, p) for p in spec.ignore_fields)
    return resources


def ignore_field_problems(spec: AnySpec, doc: Document) -> list[SpecProblem]:
    """``ignoreFields`` entries that name no field of the document's kind, each where written.

    The same front end as ``ignoreFields`` in reconciler.yaml (:func:`reconciler.rules.rule_field`).
    """
    problems = []
    for i, path in enumerate(spec.ignore_fields or []):
        try:
            rule_field(Kind(spec.kind), path)
        except RuleError as exc:
            where = doc.locate(("ignoreFields", i))
            problems.append(SpecProblem(where, f"'ignoreFields' entry {exc}"))
    return problems


def _declared(spec: AnySpec, doc: Document) -> list[Resource]:
    model = type(spec)
    values = {n: getattr(spec, n) for n in _FIELDS[model] if n in spec.model_fields_set}
    sources = {n: doc.locate((model.model_fields[n].alias or n,)) for n in values}
    if isinstance(spec, OperatorSpec):
        rid = ResourceId(Kind.OPERATOR, spec.email.lower())
        return [Resource(rid, values, source=doc.start, field_sources=FieldSources.of(sources))]
    if isinstance(spec, DeviceTierSpec):
        rid = ResourceId(Kind.DEVICE_TIER, spec.name)
        return [Resource(rid, values, source=doc.start, field_sources=FieldSources.of(sources))]
    if isinstance(spec, SubscriptionPlanSpec):
        subscription_plan = Resource(
            ResourceId(Kind.SUBSCRIPTION_PLAN, spec.name),
            values,
            source=doc.start,
            field_sources=FieldSources.of(sources),
        )
        if spec.tier_defaults is None:
            return [subscription_plan]
        return [subscription_plan, _tier_defaults(spec.name, spec.tier_defaults, doc)]
    for key in spec.configuration or {}:
        sources[f"configuration.{key}"] = doc.locate(("configuration", key), key=True)
    tenant = Resource(
        ResourceId(Kind.TENANT, spec.name),
        values,
        source=doc.start,
        field_sources=FieldSources.of(sources),
    )
    flags = [_flag(spec.name, flag, on, doc) for flag, on in (spec.features or {}).items()]
    roles = [
        resource
        for name, role in (spec.roles or {}).items()
        for resource in _role(spec.name, name, role, doc)
    ]
    return [tenant, *flags, *roles]


def _role(tenant: str, name: str, role: RoleSpec, doc: Document) -> list[Resource]:
    """A role, then one assignment per member (each is granted and revoked on its own)."""
    entry = doc.locate(("roles", name), key=True)
    short = sys.intern(name)
    values: dict[str, Any] = {"tenant": tenant, "name": short}
    sources = {"tenant": entry, "name": entry}
    for attr in ("description", "permissions"):
        if attr in role.model_fields_set:
            values[attr] = getattr(role, attr)
            sources[attr] = doc.locate(("roles", name, attr))
    result = [
        Resource(
            ResourceId(Kind.ROLE, role_key(tenant, name)),
            values,
            source=entry,
            field_sources=FieldSources.of(sources),
        )
    ]
    for i, user in enumerate(role.members or []):
        where = doc.locate(("roles", name, "members", i))
        result.append(
            Resource(
                ResourceId(Kind.ROLE_ASSIGNMENT, assignment_key(tenant, name, user)),
                {"tenant": tenant, "role": short, "user": user},
                source=where,
                field_sources=FieldSources.of({"tenant": where, "role": where, "user": where}),
            )
        )
    return result


def _tier_defaults(subscription_plan: str, tiers: dict[str, Any], doc: Document) -> Resource:
    sources = {"tiers": doc.locate(("tierDefaults",))}
    for tier in tiers:
        sources[f"tiers.{tier}"] = doc.locate(("tierDefaults", tier), key=True)
    return Resource(
        ResourceId(Kind.TIER_DEFAULTS, subscription_plan),
        {"tiers": dict(tiers)},
        source=doc.locate(("tierDefaults",), key=True),
        field_sources=FieldSources.of(sources),
    )


_FLAG_SOURCES = ("tenant", "flag", "enabled")
_FLAG_POSITIONS = struct.Struct("=6I")


def _flag(tenant: str, flag: str, enabled: bool, doc: Document) -> Resource:
    """A feature flag, its sources packed straight into a :class:`FieldSources`: a tenant
    tree holds ten of these per tenant, so the general packing's loop is skipped."""
    entry = doc.locate(("features", flag), key=True)
    value = doc.locate(("features", flag))
    line, column = entry.line, entry.column
    try:
        packed = _FLAG_POSITIONS.pack(line, column, line, column, value.line, value.column)
        sources: Mapping[str, SourceLocation] = FieldSources(doc.file, _FLAG_SOURCES, packed)
    except struct.error:  # a position no spec file has: the general way decides
        sources = FieldSources.of({"tenant": entry, "flag": entry, "enabled": value})
    return Resource(
        ResourceId(Kind.FEATURE_FLAG, flag_key(tenant, flag)),
        {"tenant": tenant, "flag": sys.intern(flag), "enabled": enabled},
        source=entry,
        field_sources=sources,
    )

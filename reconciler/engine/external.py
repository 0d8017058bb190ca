"""External references: live objects the specs refer to but do not manage.

A spec tree that manages one team's tenants on a shared platform refers to
plans and parent tenants someone else manages. It declares them (a document
with ``managed: false``, or ``external:`` in ``reconciler.yaml``); the diff then
checks each against the live state instead of planning a change for it. An
external object is never created, updated, suspended, deleted nor pruned, and
so never has a change that another could wait for: a dependent change gets no
edge to it. One missing live is an error naming where it was declared and
every spec that refers to it, before anything is applied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from reconciler.errors import PlanError, SourceLocation
from reconciler.model import Kind, Resource, ResourceId, State

REFERENCE_FIELDS: Mapping[Kind, tuple[tuple[str, Kind], ...]] = {
    Kind.TIER_DEFAULTS: (("tiers", Kind.DEVICE_TIER),),
    Kind.TENANT: (("plan", Kind.SUBSCRIPTION_PLAN), ("parent", Kind.TENANT)),
    Kind.FEATURE_FLAG: (("tenant", Kind.TENANT),),
    Kind.ROLE: (("tenant", Kind.TENANT),),
    Kind.OPERATOR: (("tenant", Kind.TENANT),),
    Kind.ROLE_ASSIGNMENT: (("tenant", Kind.TENANT),),
}
"""Per kind, the fields that name another object by its key (a mapping: by its keys)."""


@dataclass(frozen=True)
class Referrer:
    """A managed object that refers to an external one, and where it does."""

    id: ResourceId
    field: str
    location: SourceLocation | None

    def __str__(self) -> str:
        where = f" at {self.location}" if self.location is not None else ""
        return f"{self.id} ('{self.field}'{where})"


@dataclass(frozen=True)
class ExternalRef:
    """One declared external object, as the live state was found."""

    id: ResourceId
    declared: SourceLocation | None
    """The ``managed: false`` document, or the ``external:`` entry in reconciler.yaml."""
    exists: bool
    referrers: tuple[Referrer, ...] = ()

    @property
    def status(self) -> str:
        """One word for reports: ``exists`` or ``missing``."""
        return "exists" if self.exists else "missing"


def declared_external(
    desired: State, external: Mapping[ResourceId, SourceLocation | None]
) -> dict[ResourceId, SourceLocation | None]:
    """Every external object: ``managed: false`` documents, then reconciler.yaml's entries.

    An object the specs manage is never external (the spec language refuses
    both at once; a managed one wins here, for a plan made from other input).
    """
    found: dict[ResourceId, SourceLocation | None] = {
        r.id: r.source for r in desired if not r.managed
    }
    for rid, where in external.items():
        have = desired.get(rid)
        if have is None:
            found.setdefault(rid, where)
    return found


def check_external(
    desired: State, live: State, external: Mapping[ResourceId, SourceLocation | None]
) -> dict[ResourceId, ExternalRef]:
    """Each external object, whether it exists in ``live``, and who refers to it; sorted.

    ``live`` may be another spec tree (the base specs of ``--base``): a
    declaration there (``managed: false``) counts as the object.
    """
    declared = declared_external(desired, external)
    if not declared:
        return {}
    referrers: dict[ResourceId, list[Referrer]] = {rid: [] for rid in declared}
    for resource in desired:
        if resource.managed:
            for name, target in _references(resource):
                if target in referrers:
                    referrers[target].append(_referrer(resource, name))
    return {
        rid: ExternalRef(rid, declared[rid], rid in live, tuple(referrers[rid]))
        for rid in sorted(declared)
    }


def _references(resource: Resource) -> Iterable[tuple[str, ResourceId]]:
    """(field, object it names) for every reference ``resource`` makes."""
    for name, kind in REFERENCE_FIELDS.get(resource.id.kind, ()):
        value = resource.fields.get(name)
        keys = list(value) if isinstance(value, dict) else [value] if value else []
        for key in keys:
            yield name, ResourceId(kind, str(key))


def _referrer(resource: Resource, name: str) -> Referrer:
    return Referrer(resource.id, name, resource.field_sources.get(name, resource.source))


def missing_problems(external: Mapping[ResourceId, ExternalRef]) -> list[str]:
    """One message per external object missing live: where declared, who refers to it."""
    problems = []
    for ref in external.values():
        if ref.exists:
            continue
        where = f" at {ref.declared}" if ref.declared is not None else ""
        message = (
            f"{ref.id} is declared external{where} but does not exist on the target; "
            "reconciler never creates an external object"
        )
        if ref.referrers:
            message += "; referred to by " + ", ".join(str(r) for r in ref.referrers)
        problems.append(message)
    return problems


RESOLVED_FIELDS = frozenset({"plan", "parent", "tenant"})
"""The references the spec language resolves (a tier name in ``tierDefaults`` is not one)."""


def undeclared_problems(
    desired: State, external: Mapping[ResourceId, ExternalRef], live: State | None = None
) -> list[str]:
    """References that resolve to nothing on this target: not in the specs, not declared
    external for it, and (when ``live`` is given) not live either.

    The spec language resolves a reference to an object any target declares
    external; a plan is for one target, and holds it to that target's list. A
    library caller planning a part of the specs (an object "made by hand") may
    refer to objects that are live: those resolve.
    """
    problems = []
    for resource in desired:
        if not resource.managed:
            continue
        for name, target in _references(resource):
            if name not in RESOLVED_FIELDS or target in desired or target in external:
                continue
            if live is not None and target in live:
                continue
            problems.append(
                f"{_referrer(resource, name)} refers to {target}, which is neither in the "
                "specs nor declared external for this target (reconciler.yaml: add it to "
                "the top-level 'external:' or to this target's)"
            )
    return problems


def require_external(
    external: Mapping[ResourceId, ExternalRef], desired: State, live: State | None = None
) -> None:
    """Raise :class:`PlanError` if any external object is missing live, or a reference of
    ``desired`` resolves to nothing on this target (all named at once)."""
    problems = missing_problems(external) + undeclared_problems(desired, external, live)
    if problems:
        raise PlanError("\n".join(problems))

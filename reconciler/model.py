"""The one model that desired state (from specs) and live state (from an API) share.

Specs are nested for readability (tier defaults inside their subscription plan,
feature flags inside their tenant); here every object is a flat :class:`Resource`
with a natural key, so the engine can diff, order and apply them one by one.

Canonical fields per kind (snake_case; a desired resource holds only the fields
its spec set, a live resource holds every field the provider could read):

=============  ==================  ==============================================
kind           key                 fields
=============  ==================  ==============================================
DeviceTier     tier name           display_name, description
Plan           plan name           display_name, description   (a subscription plan)
TierDefaults   plan name           tiers: {tier name: slot limit}
Tenant         tenant name         display_name, plan, status, parent, configuration,
                                   owner, plan_override
FeatureFlag    "tenant/flag"       tenant, flag, enabled
Role           "tenant/role"       tenant, name, description, permissions
Operator       email               name, role, status, tenant, wireguard_pubkey
RoleAssignment "tenant/role/user"  tenant, role, user
=============  ==================  ==============================================

References (a tenant's ``plan``, ``parent``, ``tenant``) are natural keys, never
server ids; server ids and timestamps live in ``Resource.server`` and are never diffed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.errors import SourceLocation


class Kind(StrEnum):
    """The kinds of object reconciler manages, in dependency order.

    The value is the document ``kind`` users write. ``SUBSCRIPTION_PLAN`` is the
    kind written ``Plan``: in code "plan" means only the change plan
    (:class:`reconciler.engine.plan.Plan`).
    """

    DEVICE_TIER = "DeviceTier"
    SUBSCRIPTION_PLAN = "Plan"
    TIER_DEFAULTS = "TierDefaults"
    TENANT = "Tenant"
    FEATURE_FLAG = "FeatureFlag"
    ROLE = "Role"
    OPERATOR = "Operator"
    ROLE_ASSIGNMENT = "RoleAssignment"


KIND_ORDER: tuple[Kind, ...] = tuple(Kind)
"""Kinds in the order a create must follow (removals go the other way)."""


@dataclass(frozen=True)
class Lifecycle:
    """A kind whose ``status`` field is changed by dedicated calls, not a patch."""

    field: str
    active: str
    inactive: str
    """The inactive state a prune or a plain suspend moves to."""
    also_inactive: frozenset[str] = frozenset()
    """Other states that take the object out of service (a tenant ``inactive``,
    deactivated): moving there from ``active`` is a suspension too, destructive,
    guarded and listed first, never a harmless-looking update."""

    def is_inactive(self, state: object) -> bool:
        return state == self.inactive or state in self.also_inactive


LIFECYCLE: Mapping[Kind, Lifecycle] = {
    Kind.TENANT: Lifecycle("status", "active", "suspended", frozenset({"inactive"})),
    Kind.OPERATOR: Lifecycle("status", "active", "disabled"),
}


@dataclass(frozen=True, order=True)
class ResourceId:
    """A kind and a natural key: how specs, plans and reports name an object."""

    kind: Kind
    key: str

    def __str__(self) -> str:
        return f"{self.kind.value}/{self.key}"

    @classmethod
    def parse(cls, text: str) -> ResourceId:
        """Inverse of ``str()``: ``"Tenant/acme"`` → ``ResourceId(Kind.TENANT, "acme")``."""
        kind, _, key = text.partition("/")
        return cls(Kind(kind), key)


def flag_key(tenant: str, flag: str) -> str:
    """Natural key of a feature flag: unique per tenant."""
    return f"{tenant}/{flag}"


def role_key(tenant: str, role: str) -> str:
    """Natural key of a tenant-scoped role."""
    return f"{tenant}/{role}"


def assignment_key(tenant: str, role: str, user: str) -> str:
    """Natural key of one user's assignment to a tenant's role."""
    return f"{tenant}/{role}/{user}"


@dataclass
class Resource:
    """One object, desired or live.

    ``fields`` are compared; ``server`` holds what the server manages (its id,
    timestamps, anything else it returned) and is never compared.
    ``source`` and ``field_sources`` say where in the specs a desired object
    and each of its fields were written.
    """

    id: ResourceId
    fields: dict[str, Any]
    server: dict[str, Any] = field(default_factory=dict)
    source: SourceLocation | None = None
    field_sources: dict[str, SourceLocation] = field(default_factory=dict)
    protect: bool = False
    """Set by ``protect: true`` in a spec: never suspended nor deleted."""
    ignore_fields: frozenset[str] = frozenset()
    """Fields (``name`` or ``name.key``) set on create, then left to the server or to hand."""
    managed: bool = True
    """False for an external reference (``managed: false``): a live object the specs
    refer to but do not manage; it must exist, and is never created, changed or removed."""

    @property
    def server_id(self) -> str | None:
        value = self.server.get("id")
        return None if value is None else str(value)


def references(resource: Resource) -> set[ResourceId]:
    """The objects this one points at by natural key (what must exist first)."""
    f = resource.fields
    kind = resource.id.kind
    refs: set[ResourceId] = set()
    if kind is Kind.TIER_DEFAULTS:
        refs.add(ResourceId(Kind.SUBSCRIPTION_PLAN, resource.id.key))
        refs.update(ResourceId(Kind.DEVICE_TIER, tier) for tier in f.get("tiers") or {})
    elif kind is Kind.TENANT:
        if f.get("plan"):
            refs.add(ResourceId(Kind.SUBSCRIPTION_PLAN, f["plan"]))
            refs.add(ResourceId(Kind.TIER_DEFAULTS, f["plan"]))
        if f.get("parent"):
            refs.add(ResourceId(Kind.TENANT, f["parent"]))
    elif kind in (Kind.FEATURE_FLAG, Kind.OPERATOR, Kind.ROLE) and f.get("tenant"):
        refs.add(ResourceId(Kind.TENANT, f["tenant"]))
    elif kind is Kind.ROLE_ASSIGNMENT:
        refs.add(ResourceId(Kind.TENANT, f["tenant"]))
        refs.add(ResourceId(Kind.ROLE, role_key(f["tenant"], f["role"])))
    return refs


class State:
    """A set of resources keyed by id: the desired state or the live state."""

    def __init__(self, resources: Iterable[Resource] = ()) -> None:
        self._by_id: dict[ResourceId, Resource] = {}
        self.duplicates: list[tuple[Resource, Resource]] = []
        """Pairs that share a natural key (the later one replaced the earlier): a live
        platform holding two objects under one name is ambiguous, and reads refuse it."""
        for r in resources:
            self.add(r)

    def add(self, resource: Resource) -> None:
        earlier = self._by_id.get(resource.id)
        if earlier is not None and earlier is not resource:
            self.duplicates.append((earlier, resource))
        self._by_id[resource.id] = resource

    def get(self, rid: ResourceId) -> Resource | None:
        return self._by_id.get(rid)

    def __contains__(self, rid: object) -> bool:
        return rid in self._by_id

    def __iter__(self) -> Iterator[Resource]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def ids(self) -> set[ResourceId]:
        return set(self._by_id)

    def of_kind(self, kind: Kind) -> list[Resource]:
        return [r for r in self._by_id.values() if r.id.kind is kind]

    def kinds(self) -> set[Kind]:
        return {rid.kind for rid in self._by_id}


class Action(StrEnum):
    """What a change does. Suspend/resume are lifecycle calls, not patches."""

    CREATE = "create"
    UPDATE = "update"
    SUSPEND = "suspend"
    RESUME = "resume"
    DELETE = "delete"
    NOOP = "no-op"


DESTRUCTIVE: frozenset[Action] = frozenset({Action.DELETE, Action.SUSPEND})
"""Removals: ordered in reverse dependency order, guarded, reported first."""


def is_demotion(old: object, new: object, role_order: tuple[str, ...]) -> bool:
    """Whether a role moving ``old`` → ``new`` goes down ``role_order`` (lowest first).

    A role the order does not know is below every role it knows: giving it in
    place of a known role takes something away; taking it away is not a demotion.
    """
    if old not in role_order or old == new:
        return False
    below = role_order.index(new) if new in role_order else -1
    return below < role_order.index(old)


@dataclass(frozen=True)
class FieldChange:
    """One field's move: ``path`` is dotted (``configuration.region``)."""

    path: str
    old: Any
    new: Any


@dataclass
class Change:
    """What the engine will do to one resource, and why."""

    action: Action
    id: ResourceId
    desired: Resource | None = None
    live: Resource | None = None
    fields: list[FieldChange] = field(default_factory=list)
    reason: str = ""
    waits_for: frozenset[ResourceId] = frozenset()
    """Changes that must succeed before this one runs although this one does not
    refer to them (a guard's order: disable the old admin only once the new one
    exists); a failure among them skips this change."""
    demotion: bool = False
    """A role moved down the dialect's order (a promotion is not one). Set by the
    planner, the one that knows the order (:func:`is_demotion`)."""

    @property
    def is_destructive(self) -> bool:
        """Takes the object out of service: a suspend or delete, or any other change
        that moves its status to an inactive state (``null → "suspended"`` when the
        base specs never set a status is a suspension too). Guarded, protected
        against, ordered as a removal."""
        return self.action in DESTRUCTIVE or self.deactivates

    @property
    def deactivates(self) -> bool:
        """The status moves to an inactive state from any other (created ones aside)."""
        lifecycle = LIFECYCLE.get(self.id.kind)
        if lifecycle is None or self.action is Action.CREATE:
            return False
        return any(
            fc.path == lifecycle.field and fc.old != fc.new and lifecycle.is_inactive(fc.new)
            for fc in self.fields
        )

    @property
    def is_risky(self) -> bool:
        """What a reviewer must see first, wherever it appears: destructive, or a
        demotion. Every report marks it ⚠️, lists it first and counts it as destructive."""
        return self.is_destructive or self.demotion

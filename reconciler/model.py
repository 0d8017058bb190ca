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

import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from reconciler.errors import SourceLocation
from reconciler.sources import NO_SOURCES


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


class ResourceId(NamedTuple):
    """A kind and a natural key: how specs, plans and reports name an object.

    A tuple so that hashing and equality run in C (the kind hashes as its
    string): the loader, the providers, :class:`State`, the diff and the graph
    look ids up in dicts and sets half a million times in a plan of 110,000
    objects, 3 to 4 times faster than through a dataclass's Python ``__hash__`` and
    ``__eq__``. Orders as the ``(kind, key)`` tuple it is. Being a tuple, it
    equals a plain ``(kind, key)`` tuple and would be written to JSON as a list:
    documents hold ``str(rid)`` (``"Tenant/acme"``), never the id itself.
    """

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
    """Natural key of a feature flag: unique per tenant.

    Interned, as the other composite keys: the desired and the live object of
    one flag then share one string instead of holding a copy each.
    """
    return sys.intern(f"{tenant}/{flag}")


def role_key(tenant: str, role: str) -> str:
    """Natural key of a tenant-scoped role."""
    return sys.intern(f"{tenant}/{role}")


def assignment_key(tenant: str, role: str, user: str) -> str:
    """Natural key of one user's assignment to a tenant's role."""
    return sys.intern(f"{tenant}/{role}/{user}")


class _NoServerData(dict[str, Any]):
    """The ``server`` of an object nothing was read for (a desired one): empty, read-only.

    One instance is shared by every such resource (an empty dict each would cost
    64 bytes per desired object); writing to it is a bug, so it refuses.
    """

    __slots__ = ()

    def _refuse(self, *args: object, **kwargs: object) -> Any:
        raise TypeError("a resource's default 'server' is shared and read-only: pass server=")

    __setitem__ = __delitem__ = __ior__ = _refuse
    update = setdefault = pop = popitem = clear = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, ())  # a copy or an unpickled one is a plain, writable ``{}``


NO_SERVER_DATA: dict[str, Any] = _NoServerData()


def _no_server_data() -> dict[str, Any]:
    return NO_SERVER_DATA


def _no_sources() -> Mapping[str, SourceLocation]:
    return NO_SOURCES


@dataclass(slots=True)
class Resource:
    """One object, desired or live.

    ``fields`` are compared; ``server`` holds what the server manages (its id,
    timestamps, anything else it returned) and is never compared.
    ``source`` and ``field_sources`` say where in the specs a desired object
    and each of its fields were written (a spec's resources hold a compact
    :class:`FieldSources`; any mapping will do).

    Slotted and without a dict of its own per empty ``server`` or
    ``field_sources`` (those defaults are shared and read-only): a run holds two
    of these per object (desired and live).
    """

    id: ResourceId
    fields: dict[str, Any]
    server: dict[str, Any] = field(default_factory=_no_server_data)
    source: SourceLocation | None = None
    field_sources: Mapping[str, SourceLocation] = field(default_factory=_no_sources)
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
        listed = resources if isinstance(resources, list | tuple) else list(resources)
        self._by_id: dict[ResourceId, Resource] = {r.id: r for r in listed}
        self.duplicates: list[tuple[Resource, Resource]] = []
        """Pairs that share a natural key (the later one replaced the earlier): a live
        platform holding two objects under one name is ambiguous, and reads refuse it."""
        if len(self._by_id) < len(listed):  # rare: find the pairs one by one
            self._by_id = {}
            for r in listed:
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


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field's move: ``path`` is dotted (``configuration.region``)."""

    path: str
    old: Any
    new: Any


def create_fields(resource: Resource) -> list[FieldChange]:
    """What a create of ``resource`` moves: every field its spec sets, by name (dict keys
    set to None are dropped: they ask for absence, which a new object already has)."""
    return [
        FieldChange(name, None, _without_nones(value))
        for name, value in sorted(resource.fields.items())
    ]


def _without_nones(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if v is not None}
    return value


class Change:
    """What the engine will do to one resource, and why.

    It refers to the desired and live :class:`Resource` objects; it never copies them.
    A create made by :meth:`create` keeps no field list of its own: ``fields`` is
    made from ``desired`` each time it is read (:func:`create_fields`), so a plan of
    100,000 creates does not hold a second copy of every field its specs set.
    Assigning ``fields`` stores that list instead. Compares and prints as the
    dataclass it was.

    ``waits_for``: changes that must succeed before this one runs although this one
    does not refer to them (a guard's order: disable the old admin only once the new
    one exists); a failure among them skips this change. ``demotion``: a role moved
    down the dialect's order (a promotion is not one), set by the planner, the one
    that knows the order (:func:`is_demotion`).
    """

    __slots__ = ("_fields", "action", "demotion", "desired", "id", "live", "reason", "waits_for")
    __match_args__ = (
        "action",
        "id",
        "desired",
        "live",
        "fields",
        "reason",
        "waits_for",
        "demotion",
    )
    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __init__(
        self,
        action: Action,
        id: ResourceId,
        desired: Resource | None = None,
        live: Resource | None = None,
        fields: list[FieldChange] | None = None,
        reason: str = "",
        waits_for: frozenset[ResourceId] = frozenset(),
        demotion: bool = False,
    ) -> None:
        self.action = action
        self.id = id
        self.desired = desired
        self.live = live
        self._fields: list[FieldChange] | None = [] if fields is None else fields
        self.reason = reason
        self.waits_for = waits_for
        self.demotion = demotion

    @classmethod
    def create(cls, desired: Resource, reason: str) -> Change:
        """A create of ``desired`` whose field list is derived from it when read."""
        change = cls(Action.CREATE, desired.id, desired=desired, reason=reason)
        change._fields = None
        return change

    @property
    def fields(self) -> list[FieldChange]:
        """Each field's move, by path; a create's from its desired resource, made anew."""
        found = self._fields
        if found is None:
            assert self.desired is not None  # set by create()
            return create_fields(self.desired)
        return found

    @fields.setter
    def fields(self, value: list[FieldChange]) -> None:
        self._fields = value

    @property
    def fields_derived(self) -> bool:
        """Whether ``fields`` is made from ``desired`` when read (nothing stored)."""
        return self._fields is None

    def _values(self) -> tuple[Any, ...]:
        return (
            self.action,
            self.id,
            self.desired,
            self.live,
            self.fields,
            self.reason,
            self.waits_for,
            self.demotion,
        )

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Change)
        return self._values() == other._values()

    def __repr__(self) -> str:
        pairs = zip(self.__match_args__, self._values(), strict=True)
        shown = ", ".join(f"{name}={value!r}" for name, value in pairs)
        return f"{type(self).__name__}({shown})"

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

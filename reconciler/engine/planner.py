"""The one way a change plan is made: ``Planner(rules, capabilities).plan(desired, live)``.

Every plan goes through here: the plan of ``plan`` and ``apply``, both halves of
``--base`` (the branch's changes and the drift already live), the re-read that
verifies an apply, and the benchmarks. So one set of rules (prune, grace,
``ignoreFields``, ``protect``) and one provider's declared capabilities shape
all of them alike, the way octoDNS makes every plan in ``BaseProvider.plan()``.

What is particular to an API comes in as :class:`PlannerCapabilities`, a frozen
value built from the provider once (:meth:`PlannerCapabilities.of`): which kinds
it never lists as inactive, which fields are sensitive, its admin role, and why
a change could not address its object safely. The steps:

diff (rules; unchanged live objects take their spec's equal fields dict, for
memory) → drop what the API cannot address → drop what absence already meets →
mark demotions → admin handover order → dependency order → mask sensitive values.
"""

from __future__ import annotations

import gc
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import attrgetter
from typing import TYPE_CHECKING, Final

from reconciler.engine.diff import DiffResult, diff, sort_key
from reconciler.engine.graph import order
from reconciler.engine.guards import admin_handover
from reconciler.engine.plan import UNSAFE_NOTE, Plan
from reconciler.model import (
    KIND_ORDER,
    LIFECYCLE,
    Action,
    Change,
    FieldChange,
    Kind,
    ResourceId,
    State,
    is_demotion,
)
from reconciler.rules import Rules

if TYPE_CHECKING:  # the engine reads a provider's declarations, never imports its machinery
    from reconciler.providers.base import Provider

SENSITIVE: Final = "(sensitive)"
"""What a plan shows instead of a sensitive field's value, old or new."""

Unaddressable = Callable[[Change, State], "str | None"]
"""Why a change cannot address its object safely (given the live state), or None."""


@dataclass(frozen=True)
class PlannerCapabilities:
    """What of one API shapes its plans, declared as values (none: a plain diff).

    ``absent_is_inactive``: kinds whose inactive objects the API does not list,
    so a spec asking for an inactive one that is absent is already met.
    ``sensitive``: per kind, fields shown only as ``(sensitive)``.
    ``admin_role``: the highest operator role; removals of it wait for grants.
    ``unaddressable``: why a change cannot address its object safely; such
    changes are dropped and noted, never written.
    ``role_order``: the operator roles, lowest first; a move down it is a demotion.
    """

    absent_is_inactive: frozenset[Kind] = frozenset()
    sensitive: Mapping[Kind, frozenset[str]] = field(default_factory=dict)
    admin_role: str | None = None
    unaddressable: Unaddressable | None = None
    role_order: tuple[str, ...] = ()

    @classmethod
    def of(cls, provider: type[Provider] | Provider) -> PlannerCapabilities:
        """What a provider (class or instance) declares: its ``capabilities`` value,
        and its ``unaddressable_change`` hook.

        The role order is the operator's declared role choices as listed, with
        the admin role last: every dialect lists them lowest first.
        """
        declared = provider.capabilities
        support = declared.supports.get(Kind.OPERATOR)
        roles = tuple(support.choices.get("role", ())) if support is not None else ()
        admin = declared.admin_role
        if admin is not None:
            roles = (*(r for r in roles if r != admin), admin)
        return cls(
            absent_is_inactive=declared.absent_is_inactive,
            sensitive=declared.sensitive,
            admin_role=admin,
            unaddressable=provider.unaddressable_change,
            role_order=roles,
        )


class _Pauses:
    """The paused sections open in any thread; the collector resumes when the last one ends."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open = 0
        self.resume = False


_PAUSES = _Pauses()

FREEZE_ABOVE = 50_000
"""Objects built in paused sections beyond which they are frozen when the collector resumes."""


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while building large acyclic structures.

    Loading 110,000 objects or diffing them allocates millions of small objects
    that live on; each allocation burst triggers full collections that find
    nothing (measured in bench/: a third of the engine's CPU). Reference
    counting still frees everything; the collector resumes afterwards.

    Sections may overlap, also across threads (the specs load while the live state
    is read): the collector resumes when the last one ends. If they built much,
    it is frozen first (``gc.freeze()``): left in the youngest generation, it
    would all be walked by the first collection after resuming (0.23-0.26 s at
    110,000 objects) to free nothing. Frozen objects are never examined again,
    only freed by reference counting; a process that plans many times over can
    ``gc.unfreeze()`` between runs.
    """
    with _PAUSES.lock:
        if _PAUSES.open == 0:
            _PAUSES.resume = gc.isenabled()
            gc.disable()
        _PAUSES.open += 1
    try:
        yield
    finally:
        with _PAUSES.lock:
            _PAUSES.open -= 1
            if _PAUSES.open == 0 and _PAUSES.resume:
                if gc.get_count()[0] > FREEZE_ABOVE:
                    gc.freeze()
                gc.enable()


@dataclass(frozen=True)
class Planner:
    """Makes plans under one target's rules, for one API's capabilities."""

    rules: Rules = field(default_factory=Rules)
    capabilities: PlannerCapabilities = field(default_factory=PlannerCapabilities)

    def plan(self, desired: State, live: State) -> Plan:
        """What must change for ``live`` to match ``desired``, in the order it may run.

        Raises :class:`~reconciler.errors.PlanError` when the changes form a cycle.
        Protected removals are listed in ``Plan.protected`` (the caller refuses
        such a plan); nothing here calls an API.
        """
        with paused_gc():
            result = diff(desired, live, rules=self.rules, share=True)
            unsafe = self._drop_unaddressable(result, live)
            self._drop_met_by_absence(result)
            self._mark_demotions(result.changes)
            admin_handover(result.changes, self.capabilities.admin_role)
            changes = order(result.changes)
        self._mask(changes)
        return Plan(
            changes=changes,
            unchanged=result.unchanged,
            unmanaged=result.unmanaged,
            desired_counts=_counts(desired),
            live_counts=_counts(live),
            ignored=result.ignored,
            notes=result.notes,
            protected=result.protected,
            unsafe=unsafe,
            external=result.external,
        )

    def _drop_unaddressable(self, result: DiffResult, live: State) -> dict[ResourceId, str]:
        """Changes no call can address safely: dropped, each with the reason as a note.

        Nothing read from a server can then steer a write to another object.
        """
        check = self.capabilities.unaddressable
        unsafe: dict[ResourceId, str] = {}
        if check is None:
            return unsafe
        kept = []
        for change in result.changes:
            why = check(change, live)
            if why is None:
                kept.append(change)
            else:
                unsafe[change.id] = why
                result.notes[change.id] = f"{UNSAFE_NOTE}: {why}"
        result.changes = kept
        return unsafe

    def _drop_met_by_absence(self, result: DiffResult) -> None:
        """Creates of inactive objects an API never lists as inactive: nothing to do."""
        kinds = self.capabilities.absent_is_inactive
        if not kinds:
            return
        kept = []
        for change in result.changes:
            lifecycle = LIFECYCLE.get(change.id.kind)
            met = (
                change.action is Action.CREATE
                and change.id.kind in kinds
                and lifecycle is not None
                and change.desired is not None
                and lifecycle.is_inactive(change.desired.fields.get(lifecycle.field))
            )
            if met:
                result.unchanged.append(change.id)
            else:
                kept.append(change)
        if len(kept) != len(result.changes):
            result.unchanged.sort(key=sort_key)
        result.changes = kept

    def _mark_demotions(self, changes: list[Change]) -> None:
        """A role moved down the API's order is a demotion; a promotion is not."""
        order = self.capabilities.role_order
        if not order:
            return
        for change in changes:
            change.demotion = change.id.kind is Kind.OPERATOR and any(
                fc.path == "role" and is_demotion(fc.old, fc.new, order) for fc in change.fields
            )

    def _mask(self, changes: list[Change]) -> None:
        """Field-level detail of sensitive fields becomes ``(sensitive)`` in every report."""
        sensitive = self.capabilities.sensitive
        for change in changes:
            hidden = sensitive.get(change.id.kind)
            if not hidden:
                continue
            change.fields = [
                FieldChange(
                    fc.path,
                    SENSITIVE if fc.old is not None else None,
                    SENSITIVE if fc.new is not None else None,
                )
                if fc.path.split(".", 1)[0] in hidden
                else fc
                for fc in change.fields
            ]


_KIND_OF = attrgetter("id.kind")


def _counts(state: State) -> dict[Kind, int]:
    counts = Counter(map(_KIND_OF, state))
    return {kind: counts[kind] for kind in KIND_ORDER if counts[kind]}

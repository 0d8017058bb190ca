"""A plan: the ordered changes for one target, and what was left as is.

The plan is the one thing ``plan`` shows, reports render and ``apply`` executes,
so a reviewed plan is exactly what runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from reconciler.engine.diff import diff
from reconciler.engine.graph import order
from reconciler.engine.guards import admin_handover
from reconciler.engine.policy import PrunePolicy, Rules
from reconciler.model import (
    KIND_ORDER,
    LIFECYCLE,
    Action,
    Change,
    Kind,
    Resource,
    ResourceId,
    State,
)
from reconciler.providers.base import Provider


@dataclass
class Plan:
    """Changes in the order they may run, plus counts for the summary line."""

    changes: list[Change] = field(default_factory=list)
    unchanged: list[ResourceId] = field(default_factory=list)
    unmanaged: list[ResourceId] = field(default_factory=list)
    desired_counts: dict[Kind, int] = field(default_factory=dict)
    live_counts: dict[Kind, int] = field(default_factory=dict)
    ignored: dict[ResourceId, list[str]] = field(default_factory=dict)
    """Fields that differ but are left alone by ``ignoreFields``."""
    notes: dict[ResourceId, str] = field(default_factory=dict)
    """What the rules decided for objects without a change (a deletion not yet due)."""
    protected: list[str] = field(default_factory=list)
    """Removals refused because the object is protected: a plan with these is an error."""
    unsafe: dict[ResourceId, str] = field(default_factory=dict)
    """Live objects that cannot be addressed safely (an id or key no URL path can
    carry): never written, whatever the specs say; the reason is also a note."""

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def destructive(self) -> list[Change]:
        """Suspends and deletes, in plan order: what guards and reviewers look at first."""
        return [c for c in self.changes if c.is_destructive]

    def summary(self) -> dict[Action, int]:
        """Count per action in ``Action`` order, zeros included; no-op counts ``unchanged``."""
        counts = Counter(c.action for c in self.changes)
        counts[Action.NOOP] = len(self.unchanged)
        return {action: counts[action] for action in Action}


def _counts(state: State) -> dict[Kind, int]:
    counts = Counter(resource.id.kind for resource in state)
    return {kind: counts[kind] for kind in KIND_ORDER if counts[kind]}


UNSAFE_NOTE = "cannot be managed safely, left untouched"


def make_plan(
    desired: State,
    live: State,
    prune: Mapping[Kind, PrunePolicy] | None = None,
    rules: Rules | None = None,
    *,
    admin_role: str | None = None,
    unaddressable: Callable[[Resource], str | None] | None = None,
) -> Plan:
    """Diff, then order; raises :class:`PlanError` when the changes form a cycle.

    ``unaddressable`` (the provider's) says why a live object cannot be named in
    a call; changes to such objects are dropped and reported, so nothing read
    from a server can steer a write to another object. ``admin_role`` orders
    admin removals after the grants that replace them.
    """
    result = diff(desired, live, prune, rules)
    unsafe: dict[ResourceId, str] = {}
    if unaddressable is not None:
        kept = []
        for change in result.changes:
            why = unaddressable(change.live) if change.live is not None else None
            if why is None:
                kept.append(change)
            else:
                unsafe[change.id] = why
                result.notes[change.id] = f"{UNSAFE_NOTE}: {why}"
        result.changes = kept
    admin_handover(result.changes, admin_role)
    return Plan(
        changes=order(result.changes),
        unchanged=result.unchanged,
        unmanaged=result.unmanaged,
        desired_counts=_counts(desired),
        live_counts=_counts(live),
        ignored=result.ignored,
        notes=result.notes,
        protected=result.protected,
        unsafe=unsafe,
    )


def check_supported(plan: Plan, provider: Provider) -> list[str]:
    """Changes the provider cannot make, one message each, before any call is made.

    A lifecycle change that also moves other fields needs ``update`` too, and a
    create of an inactive object needs ``suspend``: the provider does both. A
    provider's own explanation (``Provider.change_problems``) replaces the
    generic message for that change.
    """
    problems: list[str] = []
    for change in plan.changes:
        own = provider.change_problems(change)
        if own:
            problems.extend(own)
            continue
        kind = change.id.kind
        needed = [change.action]
        lifecycle = LIFECYCLE.get(kind)
        if lifecycle is not None:
            status = lifecycle.field
            moves_more = any(fc.path.split(".", 1)[0] != status for fc in change.fields)
            if change.action in (Action.SUSPEND, Action.RESUME) and moves_more:
                needed.append(Action.UPDATE)
            starts_inactive = (
                change.desired is not None
                and change.desired.fields.get(status) == lifecycle.inactive
            )
            if change.action is Action.CREATE and starts_inactive:
                needed.append(Action.SUSPEND)
        for action in needed:
            if not provider.can(kind, action):
                problems.append(
                    f"{change.id}: the {provider.dialect} API cannot {action.value} "
                    f"{kind.value} objects (planned: {change.action.value})"
                )
    return problems

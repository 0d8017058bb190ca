"""A plan: the ordered changes for one target, and what was left as is.

The plan is the one thing ``plan`` shows, reports render and ``apply`` executes,
so a reviewed plan is exactly what runs. It is made only by
:class:`reconciler.engine.planner.Planner`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reconciler.engine.external import ExternalRef
from reconciler.model import LIFECYCLE, Action, Change, Kind, ResourceId

if TYPE_CHECKING:  # change_support_problems reads what a provider declares; no HTTP
    from reconciler.providers.base import Provider


@dataclass(frozen=True)
class Selection:
    """What ``--only`` chose, what it brought in, and what it left out of a plan.

    Kept with the plan (and in a saved plan) so the re-read that verifies an
    apply judges the same selection, and reports can say what was not shown.
    """

    only: tuple[ResourceId, ...]
    """The objects asked for, as given (``Tenant/acme``)."""
    needed: tuple[ResourceId, ...] = ()
    """Pending changes of other objects the selection needs first (a plan being created)."""
    left_out: tuple[ResourceId, ...] = ()
    """Every other pending change, not in this plan."""
    dependents: tuple[ResourceId, ...] = ()
    """Of ``left_out``, those that wait for a change of the selection."""


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
    external: dict[ResourceId, ExternalRef] = field(default_factory=dict)
    """Objects the specs refer to but do not manage, each checked against the live
    state (one missing is an error before anything is applied)."""
    selection: Selection | None = None
    """``--only``: the plan holds only these objects' changes and what they need."""

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


UNSAFE_NOTE = "cannot be managed safely, left untouched"
"""How a plan notes a live object it leaves alone because no call can address it."""


def change_support_problems(plan: Plan, provider: Provider) -> list[str]:
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
            if change.action in (Action.SUSPEND, Action.RESUME) and any(
                fc.path.split(".", 1)[0] != status for fc in change.fields
            ):  # (a create's fields are made when read: not for every create)
                needed.append(Action.UPDATE)
            starts_inactive = change.desired is not None and lifecycle.is_inactive(
                change.desired.fields.get(status)
            )
            if change.action is Action.CREATE and starts_inactive:
                needed.append(Action.SUSPEND)
        for action in needed:
            if not provider.can(kind, action):
                problems.append(
                    f"{change.id}: the {provider.capabilities.dialect} API cannot {action.value} "
                    f"{kind.value} objects (planned: {change.action.value})"
                )
    return problems

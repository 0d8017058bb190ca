"""``--only KIND/NAME``: a plan narrowed to some objects and what they need.

Terraform's ``-target`` for one tenant at a time. The whole tree is still
diffed (so dependencies and what is left out are known); the plan then keeps:

- the changes of the objects named, and of the parts their document holds
  (a tenant's flags and roles, a plan's tier defaults);
- every pending change those wait for, transitively (a tenant's plan or
  parent being created): without them the selected changes would fail.

Removals by a prune policy are kept only for an object named itself; one a
selected change must wait for is an error, not a silent addition. What is
left out is recorded in the plan's :class:`~reconciler.engine.plan.Selection`
and logged as a warning, with the left-out changes that wait for the selection.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from reconciler.engine.diff import sort_key
from reconciler.engine.graph import dependencies
from reconciler.engine.plan import Plan, Selection
from reconciler.errors import PlanError
from reconciler.model import Change, Kind, ResourceId, State
from reconciler.rules import suggestion

log = logging.getLogger(__name__)

SHOWN = 10
"""How many left-out dependents a warning names before "and N more"."""

_PARTS: dict[Kind, Kind] = {
    Kind.TIER_DEFAULTS: Kind.SUBSCRIPTION_PLAN,
    Kind.FEATURE_FLAG: Kind.TENANT,
    Kind.ROLE: Kind.TENANT,
    Kind.ROLE_ASSIGNMENT: Kind.TENANT,
}
"""Kinds written inside another's document, by the kind of that document."""


def document_of(rid: ResourceId) -> ResourceId:
    """The object whose spec document holds ``rid`` (itself for a document's own object).

    Tenant and plan names hold no ``/``, so a part's key starts with its owner's.
    """
    owner = _PARTS.get(rid.kind)
    return rid if owner is None else ResourceId(owner, rid.key.split("/", 1)[0])


def narrow(
    plan: Plan, only: Sequence[ResourceId] | Selection | None, desired: State, live: State
) -> Plan:
    """``plan`` with only the changes of ``only`` and what they need; unchanged without ``only``.

    Raises :class:`PlanError` for a name neither the specs nor the target know
    (with what was probably meant), for an external object, and when a
    selected change must wait for a removal the selection leaves out. A
    :class:`Selection` (the re-read that verifies an apply) narrows by the same
    names without checking them again: the apply may have deleted one.
    """
    if not only:
        return plan
    if isinstance(only, Selection):
        only = only.only
    else:
        _check_named(only, plan, desired, live)
    named = set(only)
    by_id = {c.id: c for c in plan.changes}
    preds = dependencies(plan.changes)
    keep = {c.id for c in plan.changes if _chosen(c, named, desired)}
    needed: set[ResourceId] = set()
    stack = sorted(keep, key=sort_key)
    while stack:
        rid = stack.pop()
        for before in sorted(preds[rid], key=sort_key):
            if before in keep:
                continue
            if desired.get(before) is None:
                change = by_id[before]
                raise PlanError(
                    f"--only: {rid} must wait for {before} ({change.action.value}: "
                    f"{change.reason}), a removal --only leaves out: removals are planned "
                    f"only for the objects named; add --only {before}, or run a full plan"
                )
            keep.add(before)
            needed.add(before)
            stack.append(before)
    dependents: set[ResourceId] = set()
    reached = set(keep)
    for change in plan.changes:  # in dependency order: what a change waits for comes first
        if change.id not in keep and not preds[change.id].isdisjoint(reached):
            dependents.add(change.id)
            reached.add(change.id)
    selection = Selection(
        only=tuple(only),
        needed=tuple(c.id for c in plan.changes if c.id in needed),
        left_out=tuple(c.id for c in plan.changes if c.id not in keep),
        dependents=tuple(c.id for c in plan.changes if c.id in dependents),
    )
    return replace(plan, changes=[c for c in plan.changes if c.id in keep], selection=selection)


def _chosen(change: Change, named: set[ResourceId], desired: State) -> bool:
    """A change of an object named, or a spec-driven change of a part of its document."""
    if change.id in named:
        return True
    return desired.get(change.id) is not None and document_of(change.id) in named


def _check_named(only: Sequence[ResourceId], plan: Plan, desired: State, live: State) -> None:
    """Every name refers to an object the specs manage or the target has; all at once."""
    problems = []
    for rid in only:
        if rid in plan.external:
            problems.append(
                f"--only {rid}: it is declared external (referred to, not managed): "
                "reconciler never changes it"
            )
        elif rid not in desired and rid not in live:
            same_kind = [str(r) for r in (*desired.ids(), *live.ids()) if r.kind is rid.kind]
            hint = suggestion(str(rid), sorted(set(same_kind)))
            problems.append(f"--only {rid}: no such object in the specs or on the target{hint}")
    if problems:
        raise PlanError("\n".join(problems))


def selected(plan: Plan) -> Selection | None:
    """The selection a plan was made with (None: a full plan), to narrow its re-read alike."""
    return plan.selection


def warnings(selection: Selection | None) -> list[str]:
    """What a reader of a narrowed plan must know: what was left out and not checked."""
    if selection is None or not selection.left_out:
        return []
    names = ", ".join(str(r) for r in selection.only)
    if selection.needed:
        names += f" (with what it needs: {', '.join(str(r) for r in selection.needed)})"
    count = len(selection.left_out)
    lines = [
        f"--only {names}: {count} other change{'s' if count != 1 else ''} pending "
        f"{'are' if count != 1 else 'is'} not shown, and the rest of the specs was not "
        "checked (guards, API support); run a full plan"
    ]
    if selection.dependents:
        more = len(selection.dependents) - SHOWN
        shown = ", ".join(str(r) for r in selection.dependents[:SHOWN])
        lines.append(
            f"--only left out changes that wait for the selection: {shown}"
            + (f" and {more} more" if more > 0 else "")
        )
    return lines


def warn(selection: Selection | None) -> None:
    """Log :func:`warnings` (the CLI shows warnings on stderr, before the plan)."""
    for line in warnings(selection):
        log.warning("%s", line)

"""Guards an apply must pass: no mass removal by accident, no locking ourselves out.

Mass changes, in the spirit of octoDNS's update/delete thresholds: a typo in
``reconciler.yaml`` or a deleted spec directory must not suspend half the
platform. Lockout, in the spirit of Peribolos: an apply must not leave the
platform without an active operator holding its highest admin role, nor
suspend, demote or delete the operator whose token the run uses.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from reconciler.model import LIFECYCLE, Action, Change, Kind, ResourceId, State
from reconciler.rules import GuardPolicy

if TYPE_CHECKING:
    from reconciler.engine.plan import Plan

MIN_FOR_PERCENT = 10
"""Below this many live objects of a kind the percentage limit does not apply
(removing 1 of 3 tenants is 33%, and perfectly normal)."""


def mass_change_problems(plan: Plan, live: State, policy: GuardPolicy) -> list[str]:
    """Why this plan removes too much at once (empty when it does not)."""
    removals = plan.destructive
    problems: list[str] = []
    if len(removals) > policy.max_removals:
        problems.append(
            f"{len(removals)} suspensions/deletions exceed the limit of {policy.max_removals} "
            "per apply"
        )
    live_counts = Counter(r.id.kind for r in live)
    removal_counts = Counter(c.id.kind for c in removals)
    for kind, count in sorted(removal_counts.items()):
        total = live_counts[kind]
        if total >= MIN_FOR_PERCENT and count * 100 > policy.max_removal_percent * total:
            problems.append(
                f"{count} of {total} live {kind.value} objects ({count * 100 // total}%) would "
                f"be suspended or deleted, over the limit of {policy.max_removal_percent:g}%"
            )
    if problems:
        shown = ", ".join(f"{c.action.value} {c.id}" for c in removals[:15])
        more = f" and {len(removals) - 15} more" if len(removals) > 15 else ""
        problems.append(f"it would have done: {shown}{more}")
    return problems


def _after(plan: Plan, live: State) -> dict[ResourceId, dict[str, object]]:
    """Operator fields as they will be once the plan is applied."""
    state = {r.id: dict(r.fields) for r in live.of_kind(Kind.OPERATOR)}
    for change in plan.changes:
        if change.id.kind is not Kind.OPERATOR:
            continue
        if change.action is Action.DELETE:
            state.pop(change.id, None)
            continue
        fields = state.setdefault(change.id, {})
        if change.desired is not None:
            fields.update(change.desired.fields)
    return state


def _active(fields: dict[str, object]) -> bool:
    status = fields.get(LIFECYCLE[Kind.OPERATOR].field)
    return status in (None, LIFECYCLE[Kind.OPERATOR].active)


def lockout_problems(plan: Plan, live: State, admin_role: str | None, me: str | None) -> list[str]:
    """Why this plan would lock the platform's admins (or this run's own identity) out."""
    problems: list[str] = []
    after = _after(plan, live)
    if admin_role is not None:
        admins_before = [
            r.id
            for r in live.of_kind(Kind.OPERATOR)
            if r.fields.get("role") == admin_role and _active(r.fields)
        ]
        admins_after = [
            rid for rid, f in after.items() if f.get("role") == admin_role and _active(f)
        ]
        if admins_before and not admins_after:
            problems.append(
                f"no active operator would hold the '{admin_role}' role afterwards "
                f"(now: {', '.join(str(r) for r in admins_before)})"
            )
    if me is not None:
        rid = ResourceId(Kind.OPERATOR, me.lower())
        before = live.get(rid)
        if before is not None:
            mine = after.get(rid)
            if mine is None:
                problems.append(f"{rid} is the identity of this run's token and would be deleted")
            elif _active(before.fields) and not _active(mine):
                problems.append(f"{rid} is the identity of this run's token and would be suspended")
            elif (
                admin_role
                and before.fields.get("role") == admin_role
                and mine.get("role") != admin_role
            ):
                problems.append(
                    f"{rid} is the identity of this run's token and would lose '{admin_role}'"
                )
    return problems


def _is_admin(fields: dict[str, object], admin_role: str) -> bool:
    return fields.get("role") == admin_role and _active(fields)


def admin_handover(changes: list[Change], admin_role: str | None) -> None:
    """Make every change that takes an active admin away wait for every change that
    makes one, so the lockout guard holds while the plan runs, not only in it.

    The guard above checks the plan as a whole; at execution time the create of
    the new admin may fail while the disable of the old one would still run.
    With ``waits_for`` set, the executor runs removals only after the grants
    succeeded and skips them, with the reason, when one failed.
    """
    if admin_role is None:
        return
    grants: list[ResourceId] = []
    removals: list[Change] = []
    for change in changes:
        if change.id.kind is not Kind.OPERATOR:
            continue
        before = dict(change.live.fields) if change.live is not None else {}
        was = change.live is not None and _is_admin(before, admin_role)
        if change.action is Action.DELETE:
            will = False
        else:
            after = {**before, **(change.desired.fields if change.desired else {})}
            will = _is_admin(after, admin_role)
        if will and not was:
            grants.append(change.id)
        elif was and not will:
            removals.append(change)
    for change in removals:
        change.waits_for = change.waits_for | frozenset(grants)

"""The terminal plan: Terraform-like marks, field-level old → new, a summary line.

Colour is decided by the caller (a TTY without ``NO_COLOR``); here it is only
applied, so the same function serves logs, tests and terminals. Every name,
path, value, note and reason goes through :func:`~reconciler.report.escape.inline`:
one line of output is one line of the plan, whatever the specs or the API hold.
"""

from __future__ import annotations

from collections.abc import Iterable

import click

from reconciler.calls import PlannedCall
from reconciler.engine.plan import Plan
from reconciler.engine.results import ApplyResult, ChangeEvent
from reconciler.model import Action, Change, ResourceId
from reconciler.report.escape import inline
from reconciler.report.values import (
    MARKS,
    VERBS,
    field_name,
    gone_with_owner,
    left_alone,
    reason_of,
    show,
    summary_line,
)

COLOURS: dict[Action, str] = {
    Action.CREATE: "green",
    Action.UPDATE: "yellow",
    Action.SUSPEND: "magenta",
    Action.RESUME: "cyan",
    Action.DELETE: "red",
    Action.NOOP: "white",
}

UNMANAGED_SHOWN = 20
PENDING_SHOWN = 20
"""Changes a re-read still shows that are listed under "Not converged"; more are counted."""


def _style(text: str, colour: bool, **kwargs: object) -> str:
    return click.style(text, **kwargs) if colour else text  # type: ignore[arg-type]


def render_change(change: Change, colour: bool = False) -> list[str]:
    mark = MARKS[change.action]
    fg = COLOURS[change.action]
    rid = inline(change.id)
    head = f"  {_style(mark, colour, fg=fg, bold=True)} {rid} {VERBS[change.action]}"
    if change.reason:
        head += f" ({inline(reason_of(change))})"
    lines = [head]
    for fc in change.fields:
        name = inline(field_name(fc.path))
        if change.action is Action.CREATE:
            lines.append(f"      {name} = {show(fc.new)}")
        else:
            lines.append(f"      {name}: {show(fc.old)} -> {show(fc.new)}")
    return lines


def render_plan(plan: Plan, target: str, colour: bool = False) -> str:
    """The whole plan as text; ends with the summary line."""
    lines = [f"Target: {inline(target)}", ""]
    if not plan.changes:
        lines.append("No changes. The live state matches the specs.")
    else:
        lines.append("Changes, in the order they will be applied:")
        lines.append("")
        for change in plan.changes:
            lines.extend(render_change(change, colour))
        lines.append("")
        lines.append("Marks: + create  ~ update  ! suspend  ^ resume  - delete")
    alone = left_alone(plan)
    if alone:
        lines.append("")
        lines.append(
            "Unmanaged (live, in no spec; left alone by the prune policy): "
            + _some(alone, UNMANAGED_SHOWN)
        )
    owned = gone_with_owner(plan)
    if owned:
        lines.append("")
        lines.append("Deleted with their owner (they belong to an object this plan deletes):")
        lines += [
            f"  {inline(owner)}: {_some(ids, UNMANAGED_SHOWN)}" for owner, ids in owned.items()
        ]
    if plan.ignored:
        lines.append("")
        lines.append("Ignored (they differ, but ignoreFields leaves them alone):")
        lines += [
            f"  {inline(rid)}: {', '.join(inline(field_name(p)) for p in paths)}"
            for rid, paths in sorted(plan.ignored.items())
        ]
    if plan.notes:
        lines.append("")
        lines.append("Notes:")
        lines += [f"  {inline(rid)}: {inline(note)}" for rid, note in sorted(plan.notes.items())]
    if plan.external:
        lines.append("")
        lines += [
            f"external: {inline(rid)} ({ref.status}; never changed)"
            for rid, ref in sorted(plan.external.items(), key=lambda item: str(item[0]))
        ]
    lines.append("")
    going = sum(len(ids) for ids in owned.values())
    lines.append(summary_line(plan.changes, len(plan.unchanged), len(alone), going))
    return "\n".join(lines)


def _some(ids: list[ResourceId], most: int) -> str:
    """The first ``most`` ids, and how many more."""
    more = len(ids) - most
    return ", ".join(inline(r) for r in ids[:most]) + (f" and {more} more" if more > 0 else "")


def render_guards(mass_changes: list[str], lockout: list[str]) -> str:
    """What apply would refuse, shown under a plan so nobody is surprised on merge."""
    lines: list[str] = []
    if lockout:
        lines.append("Apply will refuse this plan (lockout guard):")
        lines += [f"  {inline(p)}" for p in lockout]
    if mass_changes:
        lines.append("Apply will refuse this plan without --allow-mass-changes:")
        lines += [f"  {inline(p)}" for p in mass_changes]
    return "\n".join(lines)


EVENT_WORDS = {
    "started": "applying",
    "succeeded": "done",
    "failed": "FAILED",
    "skipped": "skipped",
}


def render_event(event: ChangeEvent) -> str:
    """One progress line of an apply, e.g. ``~ Tenant/acme: done``."""
    line = f"{MARKS[event.change.action]} {inline(event.change.id)}: {EVENT_WORDS[event.kind]}"
    return f"{line} ({inline(event.message)})" if event.message else line


def _listing(title: str, items: Iterable[tuple[ResourceId, str]]) -> list[str]:
    # an API error names its resource already ("Tenant/acme: PATCH … returned 503")
    rows = [f"  {inline(rid)}: {inline(why.removeprefix(f'{rid}: '))}" for rid, why in items]
    return [title, *rows] if rows else []


def render_apply(result: ApplyResult, converged: bool, remaining: Plan | None) -> str:
    """What an apply did: counts, every failure with its reason, every skip."""
    lines = [
        f"Apply: {len(result.applied)} applied, {len(result.failed)} failed, "
        f"{len(result.skipped)} skipped."
    ]
    lines += _listing("Failed:", sorted(result.failed.items()))
    lines += _listing("Skipped:", sorted(result.skipped.items()))
    if converged and remaining is not None and remaining.selection is not None:
        chosen = ", ".join(inline(r) for r in remaining.selection.only)
        lines.append(
            f"Verified for --only {chosen}: a re-read matches the specs there "
            "(the rest was not checked)."
        )
    elif converged:
        lines.append("Verified: a re-read of the target matches the specs.")
    elif remaining is not None:
        lines += _pending(remaining.changes)
    return "\n".join(lines)


def _pending(changes: list[Change]) -> list[str]:
    """What a verifying re-read still finds to do, each change as a plan shows it.

    Named, because "N pending change(s)" alone sends the user to run a plan to
    learn which, and the fields left say what the server did not take.
    """
    lines = [f"Not converged: a re-read still shows {len(changes)} pending change(s):"]
    for change in changes[:PENDING_SHOWN]:
        lines += render_change(change)
    more = len(changes) - PENDING_SHOWN
    if more > 0:
        lines.append(f"  and {more} more (run a plan to see them all)")
    return lines


def render_review(pr_changes: Plan, drift: Plan | None, reverted: list[Change]) -> str:
    """The PR/drift split under a plan, for a terminal."""
    lines = [f"This branch changes (base specs -> these specs): {len(pr_changes.changes)}"]
    lines += [f"  {MARKS[c.action]} {inline(c.id)}" for c in pr_changes.changes]
    drift_changes = drift.changes if drift is not None else []
    lines.append(f"Drift already live (live vs base specs): {len(drift_changes)}")
    lines += [f"  {MARKS[c.action]} {inline(c.id)}" for c in drift_changes]
    if reverted:
        lines.append(
            "Applying these specs reverts that drift on: "
            + ", ".join(inline(c.id) for c in reverted)
        )
    return "\n".join(lines)


def render_calls(calls: list[PlannedCall], unknown: dict[str, str]) -> str:
    """``plan --show-calls``: every write, grouped under the change that sends it."""
    lines = [
        f"HTTP calls apply would make ({len(calls)}; nothing was sent; "
        "sensitive values masked; <new-N> is the id a create would return):"
    ]
    current = None
    for call in calls:
        if call.change != current:
            current = call.change
            lines.append(f"  {inline(current)}")
        lines.append(f"    {inline(call.describe())}")
    for rid, why in sorted(unknown.items()):
        lines.append(
            f"  {inline(rid)}: calls after this point could not be previewed ({inline(why)})"
        )
    return "\n".join(lines)

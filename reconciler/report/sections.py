"""The sections of a Markdown report: one for a plan, or the three a pull request needs.

With base specs a review splits what the pull request changes (base specs →
branch specs) from the drift already live (live ≠ base specs) and shows what
apply would do; each section lists its changes destructive first
(:func:`reconciler.report.details.by_priority`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from reconciler.engine.plan import Plan
from reconciler.model import KIND_ORDER, Action, Change
from reconciler.report import escape
from reconciler.report.details import by_priority
from reconciler.report.values import SUMMARY_ORDER

OMITTED_LISTED = 20
"""Names listed where a list is cut; more are counted."""


@dataclass
class Section:
    """One titled part of the report: a count table and a detail per changed resource."""

    title: str
    intro: str
    plan: Plan
    show_details: bool = True
    changes: list[Change] = field(init=False)

    def __post_init__(self) -> None:
        self.changes = by_priority(self.plan.changes)


def rows(plan: Plan) -> list[dict[str, object]]:
    """The count table: per kind (in dependency order), changes per action; an update that
    takes its object out of service (``null → "suspended"``) counts as the suspension it is."""
    table: dict[str, list[int]] = {}
    for change in plan.changes:
        counts = table.setdefault(change.id.kind.value, [0] * len(SUMMARY_ORDER))
        action = Action.SUSPEND if change.deactivates else change.action
        counts[SUMMARY_ORDER.index(action)] += 1
    order = [k.value for k in KIND_ORDER]
    return [{"kind": k, "counts": table[k]} for k in sorted(table, key=order.index)]


def names(ids: Iterable[object], most: int = OMITTED_LISTED) -> str:
    """The first ``most`` names, escaped, and how many more."""
    listed = list(ids)
    shown = ", ".join(escape.md(i) for i in listed[:most])
    more = len(listed) - most
    return shown + (f" and {more} more" if more > 0 else "")


def review_sections(
    plan: Plan, pr_changes: Plan, drift: Plan, reverted: list[Change]
) -> list[Section]:
    """What the pull request changes, the drift already live, and what apply would do."""
    pr_intro = (
        f"{len(pr_changes.changes)} change(s) from the base specs to this branch's specs."
        if pr_changes.changes
        else "This pull request changes nothing the specs describe."
    )
    if drift.changes:
        drift_intro = (
            f"The live platform differs from the base specs in {len(drift.changes)} "
            "place(s): changes made outside this repository, not by this pull request."
        )
        if reverted:
            drift_intro += (
                f" **Applying on merge will revert {len(reverted)} of them:** "
                + names(c.id for c in reverted)
                + "."
            )
    else:
        drift_intro = "None: the live platform matches the base specs."
    apply_intro = (
        f"What `apply` would do now (this branch's specs against the live platform): "
        f"{len(plan.changes)} change(s)."
    )
    return [
        Section("What this pull request changes", pr_intro, pr_changes),
        Section("Drift already on the live platform", drift_intro, drift),
        Section("Apply on merge", apply_intro, plan, show_details=False),
    ]

"""The Markdown report for pull requests and drift issues, through jinja2 templates.

Destructive changes come first; every string from specs or the API is escaped
(:mod:`reconciler.report.escape`: control characters shown as visible escapes,
secrets redacted, then HTML and Markdown escaped); the result always fits ``limit`` characters
(GitHub's comment limit by default) by leaving out whole resources, saying
which and where the full report is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import jinja2

from reconciler.engine.plan import Plan
from reconciler.model import KIND_ORDER, Action, Change, ResourceId
from reconciler.report import escape
from reconciler.report.graph import mermaid
from reconciler.report.values import MARKS, SUMMARY_ORDER, VERBS, show

COMMENT_LIMIT = 65_536
"""GitHub's limit on the body of an issue or pull request comment."""
STEP_SUMMARY_LIMIT = 1_048_576
"""GitHub's limit on a job's step summary."""
GRAPH_MAX_CHANGES = 40
"""Above this many changes a diagram stops helping; the graph is left out."""
OMITTED_LISTED = 20


def is_risky(change: Change) -> bool:
    """Suspend, delete, and demotions (a role taken away): what reviewers must see first."""
    if change.is_destructive:
        return True
    return change.action is Action.UPDATE and any(
        fc.path == "role" and fc.old not in (None, "") for fc in change.fields
    )


def risky_first(changes: Iterable[Change]) -> list[Change]:
    ordered = list(changes)
    return [c for c in ordered if is_risky(c)] + [c for c in ordered if not is_risky(c)]


def detail(change: Change) -> str:
    """One collapsible section: the change and its field-level diff."""
    flag = "⚠️ " if is_risky(change) else ""
    summary = escape.html_text(f"{MARKS[change.action]} {change.id} {VERBS[change.action]}")
    lines: list[str] = []
    for fc in change.fields:  # inside the fence: one line per field, whatever it holds
        path = escape.inline(fc.path)
        if change.action is not Action.CREATE:
            lines.append(f"- {path}: {show(fc.old)}")
        if fc.new is not None or change.action is Action.CREATE:
            lines.append(f"+ {path}: {show(fc.new)}")
    if not lines and change.action is Action.DELETE:
        lines.append(f"- {escape.inline(change.id)}")
    body = escape.fence("\n".join(lines), "diff") if lines else ""
    source = change.desired.source if change.desired else None
    where = f"\n\nspec: {escape.md(source)}" if source else ""
    reason = f"\n\n{escape.md(change.reason)}" if change.reason else ""
    return (
        f"<details><summary>{flag}<code>{summary}</code></summary>{reason}\n\n"
        f"{body}{where}\n\n</details>\n"
    )


@dataclass
class Section:
    """One titled part of the report: a count table and a detail per changed resource."""

    title: str
    intro: str
    plan: Plan
    show_details: bool = True
    changes: list[Change] = field(init=False)

    def __post_init__(self) -> None:
        self.changes = risky_first(self.plan.changes)


def _rows(plan: Plan) -> list[dict[str, object]]:
    table: dict[str, list[int]] = {}
    for change in plan.changes:
        counts = table.setdefault(change.id.kind.value, [0] * len(SUMMARY_ORDER))
        counts[SUMMARY_ORDER.index(change.action)] += 1
    order = [k.value for k in KIND_ORDER]
    return [{"kind": k, "counts": table[k]} for k in sorted(table, key=order.index)]


def _environment(template_dir: Path | None) -> jinja2.Environment:
    loader: jinja2.BaseLoader
    if template_dir is not None:
        loader = jinja2.FileSystemLoader(str(template_dir))
    else:
        loader = jinja2.FileSystemLoader(
            str(resources.files("reconciler.report").joinpath("templates"))
        )
    env = jinja2.Environment(
        loader=loader,
        autoescape=False,  # Markdown, escaped per value by the filters below
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["md"] = escape.md
    env.filters["html_text"] = escape.html_text
    return env


def marker(target: str, specs: str) -> str:
    """The hidden line that lets a later run find (and edit) this report's comment."""
    return (
        f'<!-- reconciler-report target="{escape.comment_value(target)}" '
        f'specs="{escape.comment_value(specs)}" -->'
    )


@dataclass
class Report:
    """Everything a Markdown report shows; ``render`` fits it into ``limit``."""

    title: str
    target: str
    specs: str
    sections: list[Section]
    target_name: str = ""
    base: str | None = None
    graph_plan: Plan | None = None
    full_report_hint: str = "the JSON report of this run"
    template: Path | None = None
    calls: str | None = None
    unsafe: dict[ResourceId, str] = field(default_factory=dict)
    """Live objects left untouched because no call can name them safely."""

    def render(self, limit: int = COMMENT_LIMIT) -> str:
        details = [
            (i, detail(c)) for i, s in enumerate(self.sections) if s.show_details for c in s.changes
        ]
        text = self._render(details, len(details), limit)
        if len(text) <= limit:
            return text
        low, high = 0, len(details)  # the most details that fit, by bisection
        while low < high:
            mid = (low + high + 1) // 2
            if len(self._render(details, mid, limit)) <= limit:
                low = mid
            else:
                high = mid - 1
        text = self._render(details, low, limit)
        if len(text) > limit:  # even the summary alone is too long: cut hard, say so
            note = "\n\n**Report cut at the character limit.**\n"
            text = text[: limit - len(note)] + note
        return text

    def _render(self, details: list[tuple[int, str]], keep: int, limit: int) -> str:
        shown = details[:keep]
        left_out = [c for s in self.sections if s.show_details for c in s.changes][keep:]
        sections = []
        for i, section in enumerate(self.sections):
            mine = [d for j, d in shown if j == i]
            total = len(section.changes) if section.show_details else 0
            sections.append(
                {
                    "title": section.title,
                    "intro": section.intro,
                    "rows": _rows(section.plan),
                    "details": mine,
                    "omitted": total - len(mine),
                }
            )
        truncated = ""
        if left_out:
            names = ", ".join(escape.md(c.id) for c in left_out[:OMITTED_LISTED])
            more = len(left_out) - OMITTED_LISTED
            names += f" and {more} more" if more > 0 else ""
            truncated = (
                f"the details of {len(left_out)} changed resource(s) are left out ({names}). "
                f"The full report is in {escape.md(self.full_report_hint)}."
            )
        graph_plan = self.graph_plan
        graph = None
        if graph_plan is not None and 0 < len(graph_plan.changes) <= GRAPH_MAX_CHANGES:
            graph = escape.fence(mermaid(graph_plan), "mermaid")
        risky = sum(1 for s in self.sections for c in s.changes if is_risky(c))
        warning = ""
        if risky:
            warning = (
                f"{risky} destructive change(s) (suspend, delete or demotion): "
                "they are listed first in each section."
            )
        env = _environment(self.template.parent if self.template else None)
        name = self.template.name if self.template else "report.md.j2"
        return env.get_template(name).render(
            marker=marker(self.target_name or self.target, self.specs),
            title=escape.md(self.title),
            target=self.target,
            specs=self.specs,
            base=self.base,
            warning=warning,
            sections=sections,
            actions=[a.value for a in SUMMARY_ORDER],
            graph=graph,
            calls=escape.fence(self.calls) if self.calls else None,
            unsafe=[
                f"{escape.md(rid)}: {escape.md(why)}"
                for rid, why in sorted(self.unsafe.items())[:OMITTED_LISTED]
            ],
            unsafe_more=max(0, len(self.unsafe) - OMITTED_LISTED),
            truncated=truncated,
            limit=f"{limit:,}",
        )


def build_report(
    *,
    title: str,
    target: str,
    specs: str,
    plan: Plan,
    target_name: str = "",
    pr_changes: Plan | None = None,
    drift: Plan | None = None,
    reverted: Iterable[Change] = (),
    base: str | None = None,
    full_report_hint: str = "the JSON report of this run",
    template: Path | None = None,
    calls: str | None = None,
) -> Report:
    """A report of ``plan``; with ``pr_changes`` the PR/drift split a review needs."""
    if pr_changes is None:
        n = len(plan.changes)
        intro = (
            f"{n} change(s) between the specs and the live platform."
            if n
            else "None: the live platform matches the specs."
        )
        sections = [Section("Changes", intro, plan)]
    else:
        drift = drift or Plan()
        reverted_ids = [escape.md(c.id) for c in reverted]
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
            if reverted_ids:
                drift_intro += (
                    f" **Applying on merge will revert {len(reverted_ids)} of them:** "
                    + ", ".join(reverted_ids)
                    + "."
                )
        else:
            drift_intro = "None: the live platform matches the base specs."
        apply_intro = (
            f"What `apply` would do now (this branch's specs against the live platform): "
            f"{len(plan.changes)} change(s)."
        )
        sections = [
            Section("What this pull request changes", pr_intro, pr_changes),
            Section("Drift already on the live platform", drift_intro, drift),
            Section("Apply on merge", apply_intro, plan, show_details=False),
        ]
    return Report(
        title=title,
        target=target,
        target_name=target_name,
        specs=specs,
        sections=sections,
        base=base,
        graph_plan=plan,
        full_report_hint=full_report_hint,
        template=template,
        calls=calls,
        unsafe=dict(plan.unsafe),
    )

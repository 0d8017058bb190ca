"""The Markdown report for pull requests and drift issues, through jinja2 templates.

Destructive changes (suspend, delete, deactivation, demotion) are marked ⚠️ and
come first in every section; every string from specs or the API is escaped
(:mod:`reconciler.report.escape`). The result always fits ``limit`` characters
(GitHub's comment limit by default): what is left out goes by priority across
the whole report (the graph, then the HTTP calls, then creates, updates and
destructive changes last; :mod:`reconciler.report.details`), whole items only,
so every ``<details>`` and code fence is closed and the note saying what was
cut, and where the full report is, stands outside any of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from reconciler.engine.plan import Plan
from reconciler.model import Change, ResourceId
from reconciler.report import escape
from reconciler.report.details import detail, priority
from reconciler.report.graph import mermaid
from reconciler.report.limits import COMMENT_LIMIT
from reconciler.report.metadata import Metadata, footer, hidden_line, where_full
from reconciler.report.sections import OMITTED_LISTED, Section, names, review_sections, rows
from reconciler.report.values import SUMMARY_ORDER, gone_with_owner

GRAPH_MAX_CHANGES = 40
"""Above this many changes a diagram stops helping; the graph is left out."""
RISKY_WORDS = "a suspension, deletion, deactivation or demotion"
TITLE_MAX = 200
"""Characters of the title kept when not even the summary fits."""


@dataclass(frozen=True)
class _Item:
    """One detail, where it goes, and whether it is destructive."""

    section: int
    change: Change
    text: str
    """Empty when it could never fit: past the limit in priority order."""
    risky: bool


@dataclass(frozen=True)
class _Cut:
    """How much of the report is shown: items (in priority order), call lines, the graph."""

    items: int
    calls: int
    graph: bool


def _risky_head(items: list[_Item]) -> list[_Item]:
    """The destructive items of a tail of the priority order: they come first in it."""
    end = 0
    while end < len(items) and items[end].risky:
        end += 1
    return items[:end]


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
    env.filters["code"] = escape.code
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
    plan: Plan | None = None
    """What apply would do: its destructive changes are the ones the warning counts."""
    graph_plan: Plan | None = None
    template: Path | None = None
    calls: str | None = None
    unsafe: dict[ResourceId, str] = field(default_factory=dict)
    """Live objects left untouched because no call can name them safely."""
    meta: Metadata = field(default_factory=Metadata)
    report_file: str | None = None
    """The name of the full JSON report written with this one, if any."""

    @cached_property
    def _template(self) -> jinja2.Template:
        env = _environment(self.template.parent if self.template else None)
        return env.get_template(self.template.name if self.template else "report.md.j2")

    @cached_property
    def _rows(self) -> list[list[dict[str, object]]]:
        return [rows(section.plan) for section in self.sections]

    def render(self, limit: int = COMMENT_LIMIT) -> str:
        """The report within ``limit`` characters, cut by priority when it must be."""
        items = self._items(limit)
        calls = self.calls.splitlines() if self.calls else []
        most = sum(1 for item in items if item.text)  # more can never fit

        def fits(cut: _Cut) -> str | None:
            text = self._render(items, calls, cut, limit)
            return text if len(text) <= limit else None

        trials: list[tuple[_Cut, Callable[[int], _Cut], int]] = [
            (_Cut(0, 0, False), lambda n: _Cut(n, 0, False), most),
        ]
        if most == len(items):
            whole = fits(_Cut(most, len(calls), graph=True))
            if whole is not None:
                return whole
            trials[:0] = [
                (_Cut(most, len(calls), False), lambda n: _Cut(most, n, False), -1),
                (_Cut(most, 0, False), lambda n: _Cut(most, n, False), len(calls)),
            ]
        for floor, grow, top in trials:
            if fits(floor) is None:
                continue
            if top < 0:
                return self._render(items, calls, floor, limit)
            low, high = 0, top  # the most that fits, by bisection
            while low < high:
                mid = (low + high + 1) // 2
                if fits(grow(mid)) is not None:
                    low = mid
                else:
                    high = mid - 1
            return self._render(items, calls, grow(low), limit)
        return self._minimal(items, limit)

    def _items(self, limit: int) -> list[_Item]:
        """Every detail, in the order they are kept: by priority, then section, then plan.

        Only a head of them is rendered: once their length passes ``limit``, the
        rest could never be shown (their text stays empty).
        """
        owned: dict[ResourceId, list[ResourceId]] = {}
        for section in self.sections:
            owned.update(gone_with_owner(section.plan))
        ranked = [
            (priority(c), i, j, c)
            for i, s in enumerate(self.sections)
            if s.show_details
            for j, c in enumerate(s.changes)
        ]
        ranked.sort(key=lambda t: t[:3])
        items: list[_Item] = []
        used = 0
        for _, i, _, change in ranked:
            text = detail(change, owned.get(change.id)) if used <= limit else ""
            used += len(text)
            items.append(_Item(i, change, text, risky=change.is_risky))
        return items

    @cached_property
    def _risky(self) -> tuple[set[ResourceId], set[ResourceId]]:
        """Ids with a destructive change: in what apply would do, and in the sections shown."""
        shown = {c.id for s in self.sections if s.show_details for c in s.changes if c.is_risky}
        if self.plan is None:
            return shown, shown
        return {c.id for c in self.plan.changes if c.is_risky}, shown

    def _warning(self, left_out: list[_Item]) -> str:
        """The destructive count: of what apply would do, each change once."""
        risky, shown = self._risky
        if not risky and not shown:
            return ""
        hidden = len({item.change.id for item in _risky_head(left_out)})
        cut = (
            f" The details of {hidden} of the ⚠️ changes did not fit here: see the full report."
            if hidden
            else ""
        )
        if not risky:
            return (
                f"The changes marked ⚠️ ({RISKY_WORDS}) are already live: "
                f"apply would make no destructive change.{cut}"
            )
        who = "Apply on merge would make" if len(self.sections) > 1 else "This plan makes"
        return (
            f"**{who} {len(risky)} destructive change(s)** ({RISKY_WORDS}): "
            f"marked ⚠️ and listed first in each section.{cut}"
        )

    def _truncated(self, left_out: list[_Item], calls_cut: int, graph_cut: bool) -> str:
        parts = []
        if left_out:
            risky = len(_risky_head(left_out))
            of_them = f", {risky} of them destructive," if risky else ""
            parts.append(
                f"the details of {len(left_out)} changed resource(s){of_them} are left out "
                f"({names(item.change.id for item in left_out)})"
            )
        if calls_cut:
            parts.append(f"{calls_cut} line(s) of the HTTP calls are left out")
        if graph_cut:
            parts.append("the dependency graph is left out")
        if not parts:
            return ""
        return (
            "; ".join(parts) + f". The full report is in {where_full(self.meta, self.report_file)}."
        )

    def _context(self, limit: int) -> dict[str, Any]:
        """What every rendering shares: the marker, the heading, the footer."""
        return {
            "marker": marker(self.target_name or self.target, self.specs),
            "meta_line": hidden_line(self.meta),
            "title": escape.md(self.title),
            "target": self.target,
            "specs": self.specs,
            "base": self.base,
            "footer": footer(self.meta),
            "limit": f"{limit:,}",
        }

    def _render(self, items: list[_Item], calls: list[str], cut: _Cut, limit: int) -> str:
        shown, left_out = items[: cut.items], items[cut.items :]
        sections = []
        for i, section in enumerate(self.sections):
            # shown is a head of the priority order, so this is a head of the section
            details = [item.text for item in shown if item.section == i]
            total = len(section.changes) if section.show_details else 0
            sections.append(
                {
                    "title": section.title,
                    "intro": section.intro,
                    "rows": self._rows[i],
                    "details": details,
                    "omitted": total - len(details),
                }
            )
        graph_plan = self.graph_plan
        graph = None
        if graph_plan is not None and 0 < len(graph_plan.changes) <= GRAPH_MAX_CHANGES:
            graph = escape.fence(mermaid(graph_plan), "mermaid")
        calls_shown = None
        if calls and cut.calls:
            calls_shown = escape.fence("\n".join(calls[: cut.calls]))
        text = self._template.render(
            **self._context(limit),
            warning=self._warning(left_out),
            sections=sections,
            actions=[a.value for a in SUMMARY_ORDER],
            graph=graph if cut.graph else None,
            calls=calls_shown,
            calls_omitted=len(calls) - min(cut.calls, len(calls)),
            unsafe=[
                f"{escape.md(rid)}: {escape.md(why)}"
                for rid, why in sorted(self.unsafe.items())[:OMITTED_LISTED]
            ],
            unsafe_more=max(0, len(self.unsafe) - OMITTED_LISTED),
            truncated=self._truncated(
                left_out,
                len(calls) - min(cut.calls, len(calls)),
                graph is not None and not cut.graph,
            ),
        )
        return self._not_empty(text)

    def _not_empty(self, text: str) -> str:
        """Never an empty body (GitHub refuses one; a blank comment says nothing)."""
        visible = "\n".join(
            line for line in text.splitlines() if not line.strip().startswith("<!--")
        )
        if visible.strip():
            return text
        changes = len(self.plan.changes) if self.plan is not None else 0
        said = (
            f"The report's template rendered nothing; the plan has {changes} change(s)."
            if changes
            else "No changes: the live platform matches the specs."
        )
        head = self._context(0)
        lines = [head["marker"], head["meta_line"], said, head["footer"]]
        return "\n\n".join(line for line in lines if line) + "\n"

    def _minimal(self, items: list[_Item], limit: int) -> str:
        """Heading, warning and where the full report is: when not even the summary fits.

        Parts go, least needed first, until it fits: the footer, the hidden
        metadata, the title; the marker, the warning and the note stay.
        """
        head = self._context(limit)
        title = self.title if len(self.title) <= TITLE_MAX else self.title[:TITLE_MAX] + "…"
        warning = self._warning(items)
        parts = [
            ("marker", head["marker"]),
            ("meta", head["meta_line"]),
            ("title", f"## {escape.md(title)}"),
            ("warning", f"> [!WARNING]\n> {warning}" if warning else ""),
            (
                "note",
                f"**This report is too long for the {head['limit']}-character limit**, even "
                f"without the details of its {len(items)} changed resource(s). The full "
                f"report is in {where_full(self.meta, self.report_file)}.",
            ),
            ("footer", head["footer"]),
        ]
        for drop in ("", "footer", "meta", "title"):
            parts = [(name, part) for name, part in parts if name != drop]
            text = "\n\n".join(part for _, part in parts if part) + "\n"
            if len(text) <= limit:
                return text
        return text[:limit]  # plain paragraphs: a hard cut opens nothing


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
    template: Path | None = None,
    calls: str | None = None,
    meta: Metadata | None = None,
    report_file: str | None = None,
) -> Report:
    """A report of ``plan``; with ``pr_changes`` the PR/drift split a review needs.

    ``meta`` says what the report is (commit, run, time: the footer);
    ``report_file`` names the full JSON report written next to it.
    """
    if pr_changes is None:
        n = len(plan.changes)
        intro = (
            f"{n} change(s) between the specs and the live platform."
            if n
            else "No changes: the live platform matches the specs."
        )
        sections = [Section("Changes", intro, plan)]
    else:
        sections = review_sections(plan, pr_changes, drift or Plan(), list(reverted))
    return Report(
        title=title,
        target=target,
        target_name=target_name,
        specs=specs,
        sections=sections,
        base=base,
        plan=plan,
        graph_plan=plan,
        template=template,
        calls=calls,
        unsafe=dict(plan.unsafe),
        meta=meta or Metadata(),
        report_file=report_file,
    )

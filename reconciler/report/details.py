"""One changed resource as a collapsible Markdown item, and the order items are shown and kept in.

Priority is the same everywhere: destructive changes (suspend, delete,
deactivation, demotion: :attr:`reconciler.model.Change.is_risky`) first, then
updates and resumes, then creates. Each section lists its items in that order,
and a report over its limit keeps them in that order across all sections, so
what is shown of a section is always its head, and "listed first" stays true.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.model import Action, Change, ResourceId
from reconciler.report import escape
from reconciler.report.values import MARKS, VERBS, field_name, reason_of, show

OWNED_LISTED = 10
"""Objects named under a deleted owner; more are counted."""


def priority(change: Change) -> int:
    """0 destructive, 1 other changes to what exists, 2 creates: what a reviewer reads first."""
    if change.is_risky:
        return 0
    return 2 if change.action is Action.CREATE else 1


def by_priority(changes: Iterable[Change]) -> list[Change]:
    """``changes`` by :func:`priority`, plan order kept within each (a stable sort)."""
    return sorted(changes, key=priority)


def risk(change: Change) -> str:
    """What makes an update destructive, for its title: the field move that does it."""
    if change.action is Action.UPDATE and (change.deactivates or change.demotion):
        moves = [
            f"{field_name(fc.path)} {show(fc.old)} → {show(fc.new)}"
            for fc in change.fields
            if fc.path in ("status", "role")
        ]
        word = "deactivation" if change.deactivates else "demotion"
        return f" ({word}: {', '.join(moves)})" if moves else f" ({word})"
    return ""


def detail(change: Change, owned: list[ResourceId] | None = None) -> str:
    """One collapsible item: ⚠️ when destructive, the change and its field-level diff.

    ``owned``: unmanaged objects deleted with this one (a deleted tenant's flags).
    """
    flag = "⚠️ " if change.is_risky else ""
    summary = escape.html_text(
        f"{MARKS[change.action]} {change.id} {VERBS[change.action]}{risk(change)}"
    )
    lines: list[str] = []
    for fc in change.fields:  # inside the fence: one line per field, whatever it holds
        path = escape.inline(field_name(fc.path))
        if change.action is not Action.CREATE:
            lines.append(f"- {path}: {show(fc.old)}")
        if fc.new is not None or change.action is Action.CREATE:
            lines.append(f"+ {path}: {show(fc.new)}")
    if not lines and change.action is Action.DELETE:
        lines.append(f"- {escape.inline(change.id)}")
    body = escape.fence("\n".join(lines), "diff") if lines else ""
    source = change.desired.source if change.desired else None
    where = f"\n\nspec: {escape.code(source)}" if source else ""
    # After a blank line, so it is Markdown, not part of the <details> HTML block.
    reason = f"\n\n{escape.md(reason_of(change))}" if change.reason else ""
    with_it = ""
    if owned:
        names = ", ".join(escape.md(rid) for rid in owned[:OWNED_LISTED])
        more = len(owned) - OWNED_LISTED
        names += f" and {more} more" if more > 0 else ""
        with_it = f"\n\nDeleted with it (not in any spec): {names}."
    return (
        f"<details><summary>{flag}<code>{summary}</code></summary>\n{reason}\n\n"
        f"{body}{where}{with_it}\n\n</details>\n"
    )

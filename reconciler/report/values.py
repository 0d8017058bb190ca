"""How values and changes are named in every report format."""

from __future__ import annotations

import json
from typing import Any

from reconciler.model import Action, Change
from reconciler.report.escape import inline

MARKS: dict[Action, str] = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.SUSPEND: "!",
    Action.RESUME: "^",
    Action.DELETE: "-",
    Action.NOOP: " ",
}

VERBS: dict[Action, str] = {
    Action.CREATE: "will be created",
    Action.UPDATE: "will be updated in place",
    Action.SUSPEND: "will be suspended",
    Action.RESUME: "will be resumed",
    Action.DELETE: "will be deleted",
    Action.NOOP: "is unchanged",
}

SUMMARY_ORDER: tuple[Action, ...] = (
    Action.CREATE,
    Action.UPDATE,
    Action.SUSPEND,
    Action.RESUME,
    Action.DELETE,
)

SUMMARY_WORDS: dict[Action, str] = {
    Action.CREATE: "to create",
    Action.UPDATE: "to update",
    Action.SUSPEND: "to suspend",
    Action.RESUME: "to resume",
    Action.DELETE: "to delete",
}

SENSITIVE = "(sensitive)"


def show(value: Any) -> str:
    """One value, as JSON would write it, on one line: nothing invisible, no secret."""
    if value is None:
        return "null"
    return inline(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))


def counts(changes: list[Change]) -> dict[Action, int]:
    result = dict.fromkeys(SUMMARY_ORDER, 0)
    for change in changes:
        if change.action in result:
            result[change.action] += 1
    return result


def summary_line(changes: list[Change], unchanged: int, unmanaged: int) -> str:
    """``Plan: 2 to create, 1 to update, ...`` in a fixed order, for diffs between runs."""
    c = counts(changes)
    parts = [f"{c[a]} {SUMMARY_WORDS[a]}" for a in SUMMARY_ORDER]
    tail = f"{unchanged} unchanged"
    if unmanaged:
        tail += f", {unmanaged} unmanaged left alone"
    return f"Plan: {', '.join(parts)}; {tail}."

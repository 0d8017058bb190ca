"""How values and changes are named in every report format."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from reconciler.model import Action, Change, Kind, ResourceId
from reconciler.report.escape import inline
from reconciler.rules import spec_name

if TYPE_CHECKING:
    from reconciler.engine.plan import Plan

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


def field_name(path: str) -> str:
    """A field path as the specs write it: ``display_name`` → ``displayName``.

    The engine keeps model names (snake_case); every report shows the name a
    person wrote, and can paste into ``ignoreFields``. Only the field itself is
    renamed: what follows its first dot is a key of a mapping field, kept as
    written (``configuration.data_retention_days``, ``planOverride.max_users``).
    """
    name, dot, key = path.partition(".")
    return spec_name(name) + dot + key


_LISTS_FIELDS = ("fields differ: ", "; also ")
"""Where the engine's reasons list field paths (``fields differ: display_name, plan``)."""


def reason_of(change: Change) -> str:
    """The change's reason, with the field paths it lists named as specs write them.

    A list is renamed only when every item in it is a path of the change's own
    fields, so a reason worded otherwise is shown exactly as the engine gave it.
    """
    reason = change.reason
    paths = {fc.path for fc in change.fields}
    for lead in _LISTS_FIELDS:
        head, found, listed = reason.partition(lead)
        items = listed.split(", ")
        if found and listed and all(item in paths for item in items):
            reason = head + lead + ", ".join(field_name(item) for item in items)
    return reason


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


def summary_line(changes: list[Change], unchanged: int, unmanaged: int, with_owner: int = 0) -> str:
    """``Plan: 2 to create, 1 to update, ...`` in a fixed order, for diffs between runs."""
    c = counts(changes)
    parts = [f"{c[a]} {SUMMARY_WORDS[a]}" for a in SUMMARY_ORDER]
    tail = f"{unchanged} unchanged"
    if unmanaged:
        tail += f", {unmanaged} unmanaged left alone"
    if with_owner:
        tail += f", {with_owner} deleted with their owner"
    return f"Plan: {', '.join(parts)}; {tail}."


def owner_of(rid: ResourceId) -> ResourceId | None:
    """The object ``rid`` belongs to and goes with: a flag's tenant, tier defaults' plan."""
    if rid.kind is Kind.FEATURE_FLAG:
        return ResourceId(Kind.TENANT, rid.key.partition("/")[0])
    if rid.kind is Kind.TIER_DEFAULTS:
        return ResourceId(Kind.SUBSCRIPTION_PLAN, rid.key)
    return None


def gone_with_owner(plan: Plan) -> dict[ResourceId, list[ResourceId]]:
    """Per object this plan deletes, the unmanaged objects that belong to it.

    The diff leaves what belongs to an object no spec names alone; when the
    owner itself is deleted they go with it, so no report calls them left alone.
    """
    deleted = {c.id for c in plan.changes if c.action is Action.DELETE}
    owned: dict[ResourceId, list[ResourceId]] = {}
    for rid in plan.unmanaged:
        owner = owner_of(rid)
        if owner is not None and owner in deleted:
            owned.setdefault(owner, []).append(rid)
    return owned


def left_alone(plan: Plan) -> list[ResourceId]:
    """Unmanaged objects this plan really leaves alone (not those deleted with their owner)."""
    going = {rid for owned in gone_with_owner(plan).values() for rid in owned}
    return [rid for rid in plan.unmanaged if rid not in going]

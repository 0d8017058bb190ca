"""Desired state against live state: which resources change, and how.

Only what a spec sets is compared, so fields the server adds or manages never
produce a permanent diff. Live objects no spec mentions are "unmanaged" and are
left alone unless a prune policy for their kind says otherwise. External
references (:mod:`reconciler.engine.external`) are only checked: they never
change and are never pruned.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from reconciler.engine.external import ExternalRef, check_external
from reconciler.model import (
    KIND_ORDER,
    LIFECYCLE,
    Action,
    Change,
    FieldChange,
    Kind,
    Resource,
    ResourceId,
    State,
)
from reconciler.rules import DEFAULT_PRUNE, PrunePolicy, Rules

_KIND_INDEX = {kind: i for i, kind in enumerate(KIND_ORDER)}
_MISSING: Any = object()


PAST = {
    Action.CREATE: "created",
    Action.UPDATE: "updated",
    Action.SUSPEND: "suspended",
    Action.RESUME: "resumed",
    Action.DELETE: "deleted",
}
"""What a change does, in the words a message uses ("would be suspended")."""


def sort_key(rid: ResourceId) -> tuple[int, str]:
    """Stable order of ids: by kind (dependency order), then key.

    An id's own tuple order would sort kinds by name; this key sorts them in
    dependency order and still compares in C.
    """
    return _KIND_INDEX[rid.kind], rid.key


@dataclass
class DiffResult:
    """Changes to make (never no-ops), and what was left as is; all sorted.

    ``ignored``: per resource, fields that differ but are ignored by rule.
    ``notes``: per resource, what a rule decided that a reader should know
    (a deletion that becomes due later). ``protected``: removals refused
    because the object is protected, one message each. ``external``: the
    declared external objects, each found live or not (never a change).
    """

    changes: list[Change] = field(default_factory=list)
    unchanged: list[ResourceId] = field(default_factory=list)
    unmanaged: list[ResourceId] = field(default_factory=list)
    ignored: dict[ResourceId, list[str]] = field(default_factory=dict)
    notes: dict[ResourceId, str] = field(default_factory=dict)
    protected: list[str] = field(default_factory=list)
    external: dict[ResourceId, ExternalRef] = field(default_factory=dict)


def diff(
    desired: State,
    live: State,
    prune: Mapping[Kind, PrunePolicy] | None = None,
    rules: Rules | None = None,
    *,
    share: bool = False,
) -> DiffResult:
    """Compare ``desired`` with ``live`` and say what must change.

    ``prune`` (kept for callers that only prune) overrides ``rules.prune``.
    ``share``: each unchanged live object whose fields equal its spec's takes the
    spec's dict, as :func:`share_unchanged` does, found here without a second pass.

    Complexity: O(D + L) dictionary look-ups plus, per matched resource, one
    ``==`` of its fields dict (C: equal ones, the common case, stop there), then
    one ``==`` per field the spec sets (per key for dict fields); deepdiff runs
    only on values already known to differ, so a no-op diff never calls (nor
    imports) it. The live objects are walked for prunes only when some of them
    have no spec. Sorting the results adds O(n log n) with a C-level tuple key.
    """
    rules = rules or Rules()
    policies = prune if prune is not None else rules.prune
    now = rules.now or datetime.now(UTC)
    result = DiffResult(external=check_external(desired, live, rules.external))
    live_get, unchanged = live.get, result.unchanged
    ignore_rules = rules.ignore_fields
    matched = 0  # desired objects found live: all of the live ones, when it reaches len(live)
    for want in desired:
        if not want.managed:
            matched += want.id in live
            continue  # checked above; never created nor changed
        have = live_get(want.id)
        change: Change | None
        if have is None:
            change = _create(want)
        else:
            matched += 1
            extra = ignore_rules.get(want.id.kind)
            if want.ignore_fields or extra:
                ignore = want.ignore_fields | (extra or frozenset())
                differing = _ignored_differences(want, have, ignore)
                if differing:
                    result.ignored[want.id] = differing
                change = compare(_without(want, ignore), have)
                if change is None and share and have.fields == want.fields:
                    have.fields = want.fields
            elif want.fields == have.fields:
                # Equal whole (the common case at scale): what compare() would find.
                unchanged.append(want.id)
                if share:
                    have.fields = want.fields
                continue
            else:
                change = compare(want, have)
        if change is None:
            unchanged.append(want.id)
            continue
        if change.is_destructive and (want.protect or want.id in rules.protect):
            result.protected.append(
                f"{want.id} is protected and would be {PAST[change.action]} "
                f"({change.reason}); remove 'protect' first if that is really wanted"
            )
            continue
        result.changes.append(change)
    for have in live if matched < len(live) else ():
        if have.id in desired or have.id in result.external or not have.managed:
            continue  # specified, external (never pruned), or a declaration in base specs
        policy = policies.get(have.id.kind, DEFAULT_PRUNE)
        change = _prune(have, desired, policy, rules.grace_for(have.id.kind), now, result.notes)
        if change is None:
            result.unmanaged.append(have.id)
        elif have.id in rules.protect:
            result.protected.append(
                f"{have.id} is protected and would be {PAST[change.action]} by the prune "
                f"policy '{policy}'; remove it from 'protect' first if that is really wanted"
            )
            result.unmanaged.append(have.id)
        else:
            result.changes.append(change)
    result.changes.sort(key=lambda c: sort_key(c.id))
    result.unchanged.sort(key=sort_key)
    result.unmanaged.sort(key=sort_key)
    return result


def share_unchanged(desired: State, live: State, unchanged: Iterable[ResourceId]) -> int:
    """Let each unchanged live object whose fields equal its spec's use the spec's dict
    (``diff(..., share=True)`` does the same as it compares).

    Its own copy is then freed: after a plan the live state holds, per such
    object, only what the desired state does not (its id, its ``server`` data).
    Nothing a reader sees changes (the fields are equal); the live state stays
    whole because later steps read it (server ids for an apply, saved-plan
    fingerprints, the guards, the drift plan of ``review --base``).
    Returns how many were shared.
    """
    shared = 0
    for rid in unchanged:
        want, have = desired.get(rid), live.get(rid)
        if want is None or have is None or have.fields is want.fields:
            continue
        if have.fields == want.fields:
            have.fields = want.fields
            shared += 1
    return shared


def _ignored_differences(want: Resource, have: Resource, ignore: frozenset[str]) -> list[str]:
    """The ignored paths where the spec and live disagree (shown, never changed)."""
    paths = []
    for path in sorted(ignore):
        name, _, key = path.partition(".")
        if name not in want.fields:
            continue
        new, old = want.fields[name], have.fields.get(name)
        if key:
            new = new.get(key) if isinstance(new, dict) else None
            old = old.get(key) if isinstance(old, dict) else None
            if key not in (want.fields[name] or {}):
                continue
        if new != old:
            paths.append(path)
    return paths


def _without(want: Resource, ignore: frozenset[str]) -> Resource:
    """``want`` without its ignored fields and keys: what remains to compare."""
    fields = dict(want.fields)
    for path in ignore:
        name, _, key = path.partition(".")
        if name not in fields:
            continue
        if not key:
            del fields[name]
        elif isinstance(fields[name], dict):
            fields[name] = {k: v for k, v in fields[name].items() if k != key}
    return replace(want, fields=fields)


def _create(want: Resource) -> Change:
    """A create lists every field the spec sets (dict keys set to None are dropped:
    they ask for absence, which a new object already has).

    The list is made from ``want`` whenever it is read (:meth:`Change.create`), not
    kept: three ``FieldChange`` objects per flag were 35-40 MB of an apply's peak
    at 110,000 creates, a copy of what ``want`` holds.
    """
    reason = "not found live"
    lifecycle = LIFECYCLE.get(want.id.kind)
    state = want.fields.get(lifecycle.field) if lifecycle else None
    if lifecycle and lifecycle.is_inactive(state):
        reason += f"; created, then set '{state}' as the spec asks"
    return Change.create(want, reason)


def compare(want: Resource, have: Resource) -> Change | None:
    """Compare the fields ``want`` sets; ``None`` when nothing differs."""
    changes: list[FieldChange] = []
    live_fields = have.fields
    for name, new in want.fields.items():
        old = live_fields.get(name)
        if new == old:  # cheap path: the common case at scale
            continue
        if isinstance(new, dict):
            changes.extend(_compare_keys(name, new, old if isinstance(old, dict) else {}))
        else:
            changes.extend(_detail(name, old, new))
    if not changes:
        return None
    changes.sort(key=lambda fc: fc.path)
    action = Action.UPDATE
    reason = "fields differ: " + ", ".join(fc.path for fc in changes)
    lifecycle = LIFECYCLE.get(want.id.kind)
    if lifecycle and lifecycle.field in want.fields:
        before, after = live_fields.get(lifecycle.field), want.fields[lifecycle.field]
        if before == lifecycle.active and lifecycle.is_inactive(after):
            action, reason = Action.SUSPEND, f"spec sets {lifecycle.field} '{after}'"
        elif lifecycle.is_inactive(before) and after == lifecycle.active:
            action, reason = Action.RESUME, f"spec sets {lifecycle.field} '{after}'"
        others = [fc.path for fc in changes if fc.path != lifecycle.field]
        if action is not Action.UPDATE and others:
            reason += "; also " + ", ".join(others)
    return Change(action, want.id, desired=want, live=have, fields=changes, reason=reason)


def _compare_keys(name: str, want: dict[str, Any], have: dict[str, Any]) -> list[FieldChange]:
    """Per key the spec sets; ``None`` means the key must be absent, live-only keys stay."""
    changes: list[FieldChange] = []
    for key, new in want.items():
        old = have.get(key, _MISSING)
        path = f"{name}.{key}"
        if new is None:
            if old is not _MISSING:
                changes.append(FieldChange(path, old, None))
        elif old is _MISSING:
            changes.append(FieldChange(path, None, new))
        elif new != old:
            changes.extend(_detail(path, old, new))
    return changes


def _detail(path: str, old: Any, new: Any) -> list[FieldChange]:
    """Field-level detail of two unequal values: deepdiff for nested containers.

    deepdiff is imported here, when two containers differ, never by importing this
    module: a plan with no such change (and ``validate``) never loads it.
    """
    if not (isinstance(old, dict | list) and isinstance(new, dict | list)):
        return [FieldChange(path, old, new)]
    from deepdiff import DeepDiff
    from deepdiff.helper import notpresent

    def value(found: Any) -> Any:
        return None if found is notpresent else found

    tree = DeepDiff(old, new, view="tree")
    details = [
        FieldChange(_join(path, level.path(output_format="list")), value(level.t1), value(level.t2))
        for levels in tree.values()
        for level in levels
    ]
    # deepdiff can call values equal that == does not (e.g. NaN); keep the change visible.
    return sorted(details, key=lambda fc: fc.path) or [FieldChange(path, old, new)]


def _join(path: str, parts: Iterable[Any]) -> str:
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


_OWNER: Mapping[Kind, Kind] = {
    Kind.FEATURE_FLAG: Kind.TENANT,
    Kind.TIER_DEFAULTS: Kind.SUBSCRIPTION_PLAN,
}
"""Kinds that belong to another object: only pruned when their owner is managed."""


def _owner(resource: Resource) -> ResourceId | None:
    kind = _OWNER.get(resource.id.kind)
    if kind is None:
        return None
    if kind is Kind.TENANT:
        tenant = resource.fields.get("tenant") or resource.id.key.partition("/")[0]
        return ResourceId(kind, str(tenant))
    return ResourceId(kind, resource.id.key)


def _prune(
    have: Resource,
    desired: State,
    policy: PrunePolicy,
    grace: timedelta,
    now: datetime,
    notes: dict[ResourceId, str],
) -> Change | None:
    """What a prune policy does to a live object no spec mentions (``None``: nothing)."""
    kind = have.id.kind
    if policy == "ignore" or kind is Kind.TIER_DEFAULTS:
        return None  # tier defaults are a property of their subscription plan, never pruned
    owner = _owner(have)
    managed_owner = desired.get(owner) if owner is not None else None
    if owner is not None and (managed_owner is None or not managed_owner.managed):
        return None  # never touch what belongs to an object nobody (here) manages
    reason = f"not in specs; prune policy for {kind.value} is '{policy}'"
    if policy == "delete":
        return Change(Action.DELETE, have.id, live=have, reason=reason)
    lifecycle = LIFECYCLE.get(kind)
    if lifecycle is None:
        if policy == "suspend-then-delete":  # nothing to suspend: delete after all
            return Change(Action.DELETE, have.id, live=have, reason=reason)
        return None  # nothing to suspend with; config validation refuses this
    before = have.fields.get(lifecycle.field)
    if lifecycle.is_inactive(before):
        if policy != "suspend-then-delete":
            return None
        since = suspended_since(have)
        if since is None:
            notes[have.id] = (
                "suspended, but the API does not say since when: deletion never becomes "
                "due; delete it with the 'delete' policy or by hand"
            )
            return None
        due = since + grace
        if now < due:
            notes[have.id] = (
                f"suspended since {since:%Y-%m-%d %H:%M} UTC; deletion due {due:%Y-%m-%d %H:%M} UTC"
            )
            return None
        return Change(
            Action.DELETE,
            have.id,
            live=have,
            reason=f"{reason}; suspended since {since:%Y-%m-%d} UTC, past its grace of {grace}",
        )
    if policy == "suspend-then-delete":
        reason += f"; deletion due {grace} after the suspension"
    # A desired resource holding only the status lets providers treat a prune
    # suspend exactly like a spec-driven one.
    target = Resource(have.id, {lifecycle.field: lifecycle.inactive})
    return Change(
        Action.SUSPEND,
        have.id,
        desired=target,
        live=have,
        fields=[FieldChange(lifecycle.field, before, lifecycle.inactive)],
        reason=reason,
    )


SUSPENDED_AT_FIELDS = ("suspended_at", "status_changed_at", "deactivated_at", "updated_at")
"""Server timestamps that tell since when an object is inactive, best first."""


def suspended_since(resource: Resource) -> datetime | None:
    """Since when a suspended object has been so, from the API's own timestamps."""
    for name in SUSPENDED_AT_FIELDS:
        value = resource.server.get(name)
        if isinstance(value, str) and value:
            try:
                when = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return when if when.tzinfo else when.replace(tzinfo=UTC)
    return None

"""Plans and resources as plain JSON data, and back: the body of a saved plan.

A saved plan (:mod:`reconciler.planfile`) is an envelope (format version, target,
spec tree, fingerprints) around a change plan and the desired resources. This
module is that body alone, so the envelope's checks and the codec can each be
read and changed on their own: ``load_plan(dump_plan(p)) == p`` for every plan,
every attribute of a resource is kept (``apply`` of the file needs what ``plan``
had), and fields the API marks sensitive are written as a digest only
(:data:`SECRET`), to be put back from the specs by ``planfile.restore_secrets``.
What it writes is the file format: a change here is a new ``FORMAT_VERSION``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from reconciler.engine.external import ExternalRef, Referrer
from reconciler.engine.plan import Plan, Selection
from reconciler.errors import SourceLocation
from reconciler.model import Action, Change, FieldChange, Kind, Resource, ResourceId

SECRET = "$sensitive"
"""A sensitive value's stand-in: ``{"$sensitive": sha256 of the value}``."""

Sensitive = Mapping[Kind, frozenset[str]]


def secret_digest(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {SECRET}


def dump_location(loc: SourceLocation | None) -> dict[str, Any] | None:
    if loc is None:
        return None
    return {"file": loc.file, "line": loc.line, "column": loc.column}


def load_location(data: dict[str, Any] | None) -> SourceLocation | None:
    if not data:
        return None
    return SourceLocation(data["file"], int(data["line"]), int(data["column"]))


def _fields(resource: Resource, sensitive: Sensitive) -> dict[str, Any]:
    hidden = sensitive.get(resource.id.kind, frozenset())
    return {
        name: {SECRET: secret_digest(value)} if name in hidden and value is not None else value
        for name, value in resource.fields.items()
    }


def dump_resource(
    resource: Resource | None,
    sensitive: Sensitive = {},  # noqa: B006
) -> dict[str, Any] | None:
    """Every attribute of a resource: what ``apply`` of the file needs is what ``plan`` had."""
    if resource is None:
        return None
    return {
        "id": str(resource.id),
        "fields": _fields(resource, sensitive),
        "server": resource.server,
        "source": dump_location(resource.source),
        "field_sources": {
            name: dump_location(loc) for name, loc in sorted(resource.field_sources.items())
        },
        "protect": resource.protect,
        "ignore_fields": sorted(resource.ignore_fields),
        **({} if resource.managed else {"managed": False}),
    }


def load_resource(data: dict[str, Any] | None) -> Resource | None:
    """Inverse of :func:`dump_resource` (a sensitive field stays a placeholder)."""
    if data is None:
        return None
    return Resource(
        ResourceId.parse(data["id"]),
        dict(data["fields"]),
        server=dict(data["server"]),
        source=load_location(data["source"]),
        field_sources={
            name: loc
            for name, raw in data["field_sources"].items()
            if (loc := load_location(raw)) is not None
        },
        protect=bool(data["protect"]),
        ignore_fields=frozenset(data["ignore_fields"]),
        managed=bool(data.get("managed", True)),
    )


def _ids(ids: list[ResourceId]) -> list[str]:
    return [str(r) for r in ids]


def _by_id(values: Mapping[ResourceId, Any]) -> dict[str, Any]:
    return {str(rid): value for rid, value in values.items()}


def _counts(counts: Mapping[Kind, int]) -> dict[str, int]:
    return {kind.value: n for kind, n in counts.items()}


def dump_plan(plan: Plan, sensitive: Sensitive | None = None) -> dict[str, Any]:
    """The change plan alone, losslessly: ``load_plan(dump_plan(p)) == p``."""
    sensitive = sensitive or {}
    return {
        "changes": [
            {
                "action": c.action.value,
                "id": str(c.id),
                "desired": dump_resource(c.desired, sensitive),
                "live": dump_resource(c.live, sensitive),
                "fields": [{"path": f.path, "old": f.old, "new": f.new} for f in c.fields],
                "reason": c.reason,
                "waits_for": sorted(str(r) for r in c.waits_for),
            }
            for c in plan.changes
        ],
        "unchanged": _ids(plan.unchanged),
        "unmanaged": _ids(plan.unmanaged),
        "desired_counts": _counts(plan.desired_counts),
        "live_counts": _counts(plan.live_counts),
        "ignored": _by_id(plan.ignored),
        "notes": _by_id(plan.notes),
        "protected": list(plan.protected),
        "unsafe": _by_id(plan.unsafe),
        "external": [_external(ref) for ref in plan.external.values()],
        "selection": _selection(plan.selection),
    }


def _external(ref: ExternalRef) -> dict[str, Any]:
    return {
        "id": str(ref.id),
        "declared": dump_location(ref.declared),
        "exists": ref.exists,
        "referrers": [
            {"id": str(r.id), "field": r.field, "location": dump_location(r.location)}
            for r in ref.referrers
        ],
    }


def _selection(selection: Selection | None) -> dict[str, list[str]] | None:
    """``plan --only``: the names given, and what the plan brought in and left out."""
    if selection is None:
        return None
    return {
        "only": _ids(list(selection.only)),
        "needed": _ids(list(selection.needed)),
        "left_out": _ids(list(selection.left_out)),
        "dependents": _ids(list(selection.dependents)),
    }


def _load_external(data: Mapping[str, Any]) -> ExternalRef:
    return ExternalRef(
        ResourceId.parse(data["id"]),
        load_location(data["declared"]),
        bool(data["exists"]),
        tuple(
            Referrer(ResourceId.parse(r["id"]), str(r["field"]), load_location(r["location"]))
            for r in data["referrers"]
        ),
    )


def _load_selection(data: Mapping[str, Any] | None) -> Selection | None:
    if data is None:
        return None

    def ids(name: str) -> tuple[ResourceId, ...]:
        return tuple(ResourceId.parse(r) for r in data[name])

    return Selection(ids("only"), ids("needed"), ids("left_out"), ids("dependents"))


def load_plan(data: Mapping[str, Any]) -> Plan:
    """Inverse of :func:`dump_plan`."""
    changes = [
        Change(
            Action(c["action"]),
            ResourceId.parse(c["id"]),
            desired=load_resource(c["desired"]),
            live=load_resource(c["live"]),
            fields=[FieldChange(f["path"], f["old"], f["new"]) for f in c["fields"]],
            reason=c["reason"],
            waits_for=frozenset(ResourceId.parse(r) for r in c["waits_for"]),
        )
        for c in data["changes"]
    ]

    def ids(name: str) -> list[ResourceId]:
        return [ResourceId.parse(r) for r in data[name]]

    def by_id(name: str) -> dict[ResourceId, Any]:
        return {ResourceId.parse(r): v for r, v in data[name].items()}

    return Plan(
        changes=changes,
        unchanged=ids("unchanged"),
        unmanaged=ids("unmanaged"),
        desired_counts={Kind(k): int(n) for k, n in data["desired_counts"].items()},
        live_counts={Kind(k): int(n) for k, n in data["live_counts"].items()},
        ignored={rid: list(paths) for rid, paths in by_id("ignored").items()},
        notes={rid: str(note) for rid, note in by_id("notes").items()},
        protected=[str(p) for p in data["protected"]],
        unsafe={rid: str(why) for rid, why in by_id("unsafe").items()},
        external={ref.id: ref for ref in map(_load_external, data.get("external", []))},
        selection=_load_selection(data.get("selection")),
    )

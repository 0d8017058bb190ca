"""Which objects of a dialect's specs the conformance checks make by hand, and how.

Pure functions of the desired state and the dialect's declared
:class:`~reconciler.providers.capabilities.Capabilities` (and its provider's
:meth:`~reconciler.providers.base.Provider.change_problems`): nothing here knows a
dialect by name. Each returns ``None`` with nothing to choose; the kit then skips
its check and says why in the words of these docstrings.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

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
    references,
)
from reconciler.providers.base import Provider

UNMANAGED_KEY = "unmanaged-by-hand"
"""The natural key of the object no spec names (``unmanaged-by-hand@example.com`` for
keys that are emails)."""


def in_order(state: State) -> list[Resource]:
    """``state``'s objects in dependency order, then by key: the kit's choices are stable."""
    return sorted(state, key=lambda r: (KIND_ORDER.index(r.id.kind), r.id.key))


def with_dependencies(desired: State, rid: ResourceId) -> State:
    """``rid`` and every desired object it refers to, however indirectly."""
    found: dict[ResourceId, Resource] = {}
    todo = [rid]
    while todo:
        current = todo.pop()
        resource = desired.get(current)
        if resource is None or current in found:
            continue
        found[current] = resource
        todo.extend(references(resource))
    return State(in_order(State(found.values())))


def _other_value(value: Any, choices: tuple[str, ...] | None) -> Any:
    """Another value of the same type (``None`` when the kit cannot make one up)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        if choices:
            return next((c for c in choices if c != value), None)
        return f"{value} (by hand)"
    return None


def _alterable(resource: Resource, provider: type[Provider]) -> list[str]:
    """Fields of ``resource`` an update can change without touching its identity.

    Not its lifecycle field (a suspend, not an update), not a sensitive field, not a
    part of its natural key, not a reference to another object.
    """
    support = provider.capabilities.supports.get(resource.id.kind)
    if support is None or not support.operations >= {Action.CREATE, Action.UPDATE}:
        return []
    lifecycle = LIFECYCLE.get(resource.id.kind)
    key_parts = set(resource.id.key.split("/"))
    names = []
    for name, value in sorted(resource.fields.items()):
        if name not in support.fields or name in support.sensitive:
            continue
        if (lifecycle is not None and name == lifecycle.field) or (
            isinstance(value, str) and value in key_parts
        ):
            continue
        names.append(name)
    return names


def differing(resource: Resource, provider: type[Provider]) -> Resource | None:
    """A copy of ``resource`` with one field changed, such that the API can update it back.

    The first field (by name) that :func:`_alterable` allows, whose value the kit can
    change (a boolean flipped, a number plus one, another of the field's choices, text
    with `` (by hand)`` added), whose change leaves the references alone, and whose
    update back to ``resource`` the provider's ``change_problems`` accepts.
    """
    support = provider.capabilities.supports.get(resource.id.kind)
    choices = support.choices if support is not None else {}
    for name in _alterable(resource, provider):
        new = _other_value(resource.fields[name], choices.get(name))
        if new is None:
            continue
        copy = replace(resource, fields={**resource.fields, name: new})
        if references(copy) != references(resource):
            continue
        back = Change(
            Action.UPDATE,
            resource.id,
            desired=resource,
            live=copy,
            fields=[FieldChange(name, new, resource.fields[name])],
        )
        if not provider.change_problems(back):
            return copy
    return None


def adoptable(desired: State, provider: type[Provider]) -> tuple[Resource, Resource] | None:
    """A desired object that can be made by hand and made to differ in one field:
    ``(as the spec says, with one field changed)``.

    The one with the most dependencies (so adoption is proven across references too);
    among equals, the first in dependency order, then by key.
    """
    best: tuple[Resource, Resource] | None = None
    most = 0
    for resource in in_order(desired):
        copy = differing(resource, provider)
        if copy is None:
            continue
        size = len(with_dependencies(desired, resource.id))
        if size > most:
            best, most = (resource, copy), size
    return best


def creatable(desired: State, provider: type[Provider]) -> Resource | None:
    """The first desired object (dependency order, then key) the API can create."""
    for resource in in_order(desired):
        if provider.can(resource.id.kind, Action.CREATE):
            return resource
    return None


def _renamed(key: str) -> str:
    return f"{UNMANAGED_KEY}@example.com" if "@" in key else UNMANAGED_KEY


def unmanaged(desired: State, provider: type[Provider]) -> Resource | None:
    """A new object no spec names: a copy of a desired one under another natural key.

    Of a kind the API can create whose key is one name (not ``tenant/flag``),
    preferring kinds that prune can remove (delete, else suspend); active, whatever
    its template's lifecycle state, so a prune has something to suspend.
    """

    def removable(kind: Kind) -> bool:
        return provider.can(kind, Action.DELETE) or provider.can(kind, Action.SUSPEND)

    templates = [
        r
        for r in in_order(desired)
        if provider.can(r.id.kind, Action.CREATE) and "/" not in r.id.key
    ]
    templates.sort(key=lambda r: not removable(r.id.kind))  # stable: order kept otherwise
    if not templates:
        return None
    template = templates[0]
    key = _renamed(template.id.key)
    fields = {
        name: key if value == template.id.key else value for name, value in template.fields.items()
    }
    lifecycle = LIFECYCLE.get(template.id.kind)
    if lifecycle is not None and lifecycle.field in fields:
        fields[lifecycle.field] = lifecycle.active
    return Resource(ResourceId(template.id.kind, key), fields)


def removal(kind: Kind, provider: type[Provider]) -> tuple[str, Action] | None:
    """The prune policy that removes an object of ``kind`` on this API, and the change it
    plans: ``delete`` when the API can delete one, else ``suspend``; None when neither."""
    if provider.can(kind, Action.DELETE):
        return "delete", Action.DELETE
    if provider.can(kind, Action.SUSPEND):
        return "suspend", Action.SUSPEND
    return None


__all__ = [
    "UNMANAGED_KEY",
    "adoptable",
    "creatable",
    "differing",
    "in_order",
    "removal",
    "unmanaged",
    "with_dependencies",
]

"""What a provider declares about its API, as one frozen value.

:class:`Capabilities` is everything about a dialect that others read without
calling it: the engine (admin role, kinds never listed as inactive, sensitive
fields), the session (where the embedded sandbox serves it), ``--show-calls``
(request-body keys to mask) and ``reconciler apis`` (kinds, operations, fields).
A leaf: it imports only the model and the options models, never HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from reconciler.model import KIND_ORDER, Action, Kind
from reconciler.options import DialectOptions

OPERATIONS: tuple[Action, ...] = (
    Action.CREATE,
    Action.UPDATE,
    Action.SUSPEND,
    Action.RESUME,
    Action.DELETE,
)
"""Every operation a provider may support, in the order reports list them."""


@dataclass(frozen=True)
class KindSupport:
    """What a provider can do with one kind: operations and the fields it can set."""

    operations: frozenset[Action]
    fields: frozenset[str]
    sensitive: frozenset[str] = frozenset()
    notes: str = ""
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Fields whose value the API takes from a fixed list (e.g. ``role``)."""


@dataclass(frozen=True)
class Capabilities:
    """One API dialect, declared: its name, what it manages, and what shapes its change plans.

    ``supports``: per kind, the operations and settable fields.
    ``absent_is_inactive``: kinds whose inactive objects the API does not list
    (a deactivated operator is no longer an operator): a spec asking for an
    inactive one that is absent is met.
    ``sensitive_body_keys``: request-body keys carrying a sensitive field's value
    (``pubkey`` for a WireGuard key), masked in ``plan --show-calls``.
    ``admin_role``: the API's highest operator role, guarded so an apply never
    leaves none active.
    ``base_path``: what the target URL of this API ends with when the document's
    paths are relative to a base (``iaas-v1``: ``/api``); the embedded sandbox
    serves the API there, so its URL gets this appended.
    ``options``: the model of the dialect's options (the same class its registry
    line names); a provider gets a value of it, the defaults when none is configured.
    """

    dialect: str
    title: str
    supports: Mapping[Kind, KindSupport]
    absent_is_inactive: frozenset[Kind] = frozenset()
    sensitive_body_keys: frozenset[str] = frozenset()
    admin_role: str | None = None
    base_path: str = ""
    options: type[DialectOptions] = DialectOptions

    def __post_init__(self) -> None:
        # Read-only, and in kind order whatever order the provider wrote them in.
        ordered = {kind: self.supports[kind] for kind in KIND_ORDER if kind in self.supports}
        object.__setattr__(self, "supports", MappingProxyType(ordered))

    def can(self, kind: Kind, action: Action) -> bool:
        """Whether the API can ``action`` objects of ``kind``."""
        support = self.supports.get(kind)
        return support is not None and action in support.operations

    @property
    def sensitive(self) -> dict[Kind, frozenset[str]]:
        """Per kind, the fields a change plan shows only as ``(sensitive)``."""
        return {kind: s.sensitive for kind, s in self.supports.items() if s.sensitive}

    def describe(self) -> dict[str, Any]:
        """Plain data for reports: per kind, operations, settable fields, choices, notes."""
        kinds: dict[str, Any] = {}
        for kind, support in self.supports.items():
            kinds[kind.value] = {
                "operations": [a.value for a in OPERATIONS if a in support.operations],
                "fields": sorted(support.fields),
                "choices": {name: list(values) for name, values in support.choices.items()},
                "notes": support.notes,
            }
        return {
            "dialect": self.dialect,
            "title": self.title,
            "kinds": kinds,
            "options": self.options.describe(),
        }


__all__ = ["OPERATIONS", "Capabilities", "KindSupport"]

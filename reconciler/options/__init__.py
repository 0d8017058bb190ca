"""Dialect options: every choice a dialect makes where its document is silent, as a setting.

Each dialect declares its options as one frozen pydantic model, a subclass of
:class:`DialectOptions` whose defaults are the choices the dialect always made.
The registry line names it (:attr:`reconciler.dialects.DialectEntry.options`),
so ``reconciler.yaml`` is validated against it without importing the provider;
the provider's :class:`~reconciler.providers.capabilities.Capabilities` names the
same class, and the provider and the sandbox emulation both get a typed value.

In YAML the option names are camelCase, as every other key of ``reconciler.yaml``.
A leaf: it imports only the registry (which imports nothing).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from reconciler import dialects as registry


class DialectOptions(BaseModel):
    """A dialect without options; the base every dialect's options model extends."""

    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, alias_generator=to_camel, populate_by_name=False
    )

    def as_data(self) -> dict[str, Any]:
        """The options as written in ``reconciler.yaml`` (camelCase keys), defaults included."""
        return self.model_dump(by_alias=True)

    @classmethod
    def describe(cls, prefix: str = "") -> list[dict[str, Any]]:
        """Per option: its YAML name, type, default and what it means (``reconciler apis``).

        A section (an option that is itself a model, as ``lists.tenants``) is listed
        option by option under its dotted name, with the dialect's defaults for it.
        """
        found: list[dict[str, Any]] = []
        for name, info in cls.model_fields.items():
            shown = prefix + (info.alias or name)
            section = info.annotation
            if isinstance(section, type) and issubclass(section, DialectOptions):
                found.extend(_section(section, shown, info.get_default(call_default_factory=True)))
                continue
            found.append(
                {
                    "name": shown,
                    "type": _type_name(info.annotation),
                    "default": info.get_default(call_default_factory=True),
                    "description": info.description or "",
                }
            )
        return found


def _section(model: type[DialectOptions], prefix: str, default: Any) -> list[dict[str, Any]]:
    """A section's options, each with the default the dialect gives it (not the section's own)."""
    rows = model.describe(prefix + ".")
    if isinstance(default, DialectOptions):
        values = default.as_data()
        for row in rows:
            key = row["name"][len(prefix) + 1 :]
            if "." not in key and key in values:
                row["default"] = values[key]
    return rows


_NAMES = {str: "string", int: "integer", bool: "boolean", float: "number", type(None): "null"}


def _type_name(annotation: Any) -> str:
    """``str | None`` as a YAML author reads it: ``string | null``."""
    if get_origin(annotation) is Annotated:
        return _type_name(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        return " | ".join(_type_name(a) for a in get_args(annotation))
    if get_origin(annotation) is Literal:
        return " | ".join(repr(a) for a in get_args(annotation))
    if get_origin(annotation) in (list, tuple, frozenset, set) and get_args(annotation):
        return f"list of {_type_name(get_args(annotation)[0])}"
    if get_origin(annotation) is dict and get_args(annotation):
        key, value = get_args(annotation)
        return f"mapping of {_type_name(key)} to {_type_name(value)}"
    return _NAMES.get(annotation, getattr(annotation, "__name__", str(annotation)))


def schema(dialect: str) -> type[DialectOptions] | None:
    """The options model of ``dialect``, or None when no dialect has that name."""
    entry = registry.entry(dialect)
    if entry is None:
        return None
    found = registry.load(entry.options)
    if not (isinstance(found, type) and issubclass(found, DialectOptions)):
        raise TypeError(f"{entry.options} is not a DialectOptions model")
    return found


def parse(dialect: str, data: Mapping[str, Any] | None) -> DialectOptions:
    """``data`` (camelCase keys) validated as ``dialect``'s options; pydantic's error if not.

    An unknown dialect is a :class:`ValueError`.
    """
    model = schema(dialect)
    if model is None:
        raise ValueError(f"unknown API dialect '{dialect}' (known: {', '.join(registry.names())})")
    return model.model_validate(dict(data or {}))


__all__ = ["DialectOptions", "parse", "schema"]

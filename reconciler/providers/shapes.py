"""Small checks for a provider's decoders: is this answer in the shape the API documents?

A decoder (``client.call(..., decode=...)``, the paging helpers' ``decode``)
runs on one call's answer; these raise :class:`ShapeError` with what is wrong,
and the client reports it as :class:`~reconciler.errors.MalformedResponse`
naming that call. Checking here, where the answer is at hand, is what lets the
code that joins several answers afterwards trust them: an error there is a bug.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.providers.paths import shown_value


class ShapeError(ValueError):
    """An answer, or an item of one, not in the shape the API documents."""


def obj(value: Any, what: str = "an object") -> dict[str, Any]:
    """``value`` if it is a JSON object."""
    if not isinstance(value, dict):
        raise ShapeError(f"expected {what}, got {type(value).__name__}")
    return value


def present(item: Mapping[str, Any], key: str) -> Any:
    """``item[key]``, which must be there (any value, ``null`` included)."""
    if key not in item:
        raise ShapeError(f"an item has no '{key}'")
    return item[key]


def scalar(item: Mapping[str, Any], key: str, *, required: bool = True) -> Any:
    """A value used to look another object up (an id): not a list or an object."""
    value = present(item, key) if required else item.get(key)
    if isinstance(value, list | dict):
        raise ShapeError(f"'{key}' is a {type(value).__name__}, not an id")
    return value


def name(item: Mapping[str, Any], key: str) -> str:
    """A natural key (a name, an email): non-empty text."""
    value = present(item, key)
    if not isinstance(value, str) or not value:
        raise ShapeError(f"'{key}' is {shown_value(value)}, not a name")
    return value


def text(item: Mapping[str, Any], key: str) -> str:
    """Text, possibly empty (a key no path can carry is the provider's to refuse, later)."""
    value = present(item, key)
    if not isinstance(value, str):
        raise ShapeError(f"'{key}' is {shown_value(value)}, not text")
    return value


def optional_text(item: Mapping[str, Any], key: str) -> str | None:
    """Text or absent (``null``)."""
    value = item.get(key)
    if value is not None and not isinstance(value, str):
        raise ShapeError(f"'{key}' is {shown_value(value)}, not text")
    return value


def text_list(item: Mapping[str, Any], key: str) -> list[str]:
    """A list of text, or absent (an empty list)."""
    value = item.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ShapeError(f"'{key}' is {shown_value(value)}, not a list of text")
    return value


__all__ = [
    "ShapeError",
    "name",
    "obj",
    "optional_text",
    "present",
    "scalar",
    "text",
    "text_list",
]

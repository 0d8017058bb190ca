"""Where each field of a desired resource was written, packed small.

A spec tree of 110,000 objects holds a location for every field of every
resource; as a dict of :class:`~reconciler.errors.SourceLocation` objects that
was the largest part of a loaded tree's memory. :class:`FieldSources` keeps the
file once, the field names as an index shared by every resource of the same
shape, and the numbers packed, and makes a location only when one is asked for.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from reconciler.errors import SourceLocation

_PAIR = struct.Struct("=II")
_SHAPES: dict[tuple[str, ...], dict[str, int]] = {}
"""Field names → their positions, one dict per distinct list of names a process sees
(a handful per kind, plus one per distinct set of ``configuration`` keys)."""


class FieldSources(Mapping[str, SourceLocation]):
    """Where each field of one resource was written: a read-only mapping, built small.

    A resource's fields are written in one file, so the file name, the names
    (an index shared by every resource of the same shape) and the line and column
    numbers packed in ``positions`` (``struct`` ``"=II"`` per name, in order) stand for
    a dict of :class:`SourceLocation` objects: 115 bytes for a feature flag instead
    of 310. Equal to any mapping with the same items, a dict included; its
    locations are made when asked for.
    """

    __slots__ = ("_file", "_index", "_positions")

    def __init__(self, file: str, names: Iterable[str], positions: bytes) -> None:
        key = tuple(names)
        index = _SHAPES.get(key)
        if index is None:
            index = _SHAPES.setdefault(key, {sys.intern(n): i for i, n in enumerate(key)})
        self._file = file
        self._index = index
        self._positions = positions

    @classmethod
    def of(cls, sources: Mapping[str, SourceLocation]) -> Mapping[str, SourceLocation]:
        """``sources`` made compact, or a plain dict if they span files or do not fit."""
        if isinstance(sources, FieldSources):
            return sources  # immutable: shared as it is
        if not sources:
            return NO_SOURCES
        file = next(iter(sources.values())).file
        flat: list[int] = []
        for loc in sources.values():
            if loc.file != file:
                return dict(sources)
            flat += (loc.line, loc.column)
        try:
            packed = struct.pack(f"={len(flat)}I", *flat)
        except struct.error:  # a negative or huge number: no spec file has one
            return dict(sources)
        return cls(file, sources, packed)

    def __getitem__(self, name: str) -> SourceLocation:
        line, column = _PAIR.unpack_from(self._positions, _PAIR.size * self._index[name])
        return SourceLocation(self._file, line, column)

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FieldSources) and self._index is other._index:
            return self._file == other._file and self._positions == other._positions
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]  # equal to dicts, which do not hash

    def __repr__(self) -> str:
        return f"FieldSources({dict(self.items())!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (FieldSources, (self._file, tuple(self._index), self._positions))


NO_SOURCES: Mapping[str, SourceLocation] = FieldSources("", (), b"")
"""The field sources of a resource no spec wrote (a live one): shared, empty."""

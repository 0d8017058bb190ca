"""The spec cache's entries: what one loaded file is (:class:`LoadedFile`), as JSON.

An entry holds a file's resources, declarations and references, with every
location as an index into one table of (line, column) pairs and every
resource's field names as an index into a table of shapes, so a tree of
thousands of alike documents stores each name once. :func:`decode` checks the
shape of everything it reads (an entry is data from disk, not trusted code).
A file cut into documents (:mod:`reconciler.spec.pieces`) also lists, per
piece, its digest and how many of each list it made (:class:`Span`), so that
:func:`decode_pieces` can take the unchanged pieces of the file's last entry
when the file changes.
"""

from __future__ import annotations

import dataclasses
import struct
import sys
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from reconciler.errors import SourceLocation
from reconciler.model import Kind, Resource, ResourceId
from reconciler.sources import NO_SOURCES, FieldSources
from reconciler.spec.models import API_VERSION, AnySpec, OperatorSpec, TenantSpec
from reconciler.spec.references import Declared
from reconciler.spec.yamlload import Document, YamlPath

FORMAT = "reconciler-spec-cache/2"
"""Written in every entry; a change to what an entry holds changes it."""

UNUSABLE = (ValueError, TypeError, KeyError, IndexError, AttributeError, struct.error)
"""What reading an entry of another shape raises: the entry is ignored."""

REFERENCES: Mapping[type, tuple[str, ...]] = {
    TenantSpec: ("plan", "parent"),
    OperatorSpec: ("tenant",),
}
"""Per model, the fields the checks across documents (:mod:`reconciler.spec.references`)
read besides the key; a cached document keeps these. A new check reading another
field must add it here (the code fingerprint then retires every older entry)."""

_RESOURCE_ATTRIBUTES = frozenset(
    {"id", "fields", "server", "source", "field_sources", "protect", "ignore_fields", "managed"}
)
"""What :class:`Resource` holds and an entry stores; a resource with more is not cached."""


@dataclass(frozen=True)
class Span:
    """One piece of a file cut into documents: its digest, where it starts, and how many
    of each of :class:`LoadedFile`'s lists its documents made (in file order, so the
    piece's items are the next ones of each)."""

    digest: str
    first_line: int
    documents: int
    managed: int
    external: int
    declared: int
    references: int

    def as_json(self) -> list[Any]:
        counts = (self.managed, self.external, self.declared, self.references)
        return [self.digest, self.first_line, self.documents, *counts]


@dataclass
class LoadedFile:
    """What one spec file gives the loader: what is cached of it, or what parsing it made."""

    documents: int = 0
    """Non-empty documents (0: the file is empty, only comments or only null)."""
    declared: list[Declared] = field(default_factory=list)
    cached: list[CachedReferences] = field(default_factory=list)
    """The references of its documents that have any, for the checks across files (a
    stand-in model is made from one only where a check can find something)."""
    managed: list[Resource] = field(default_factory=list)
    external: list[Resource] = field(default_factory=list)
    """Declared with ``managed: false``."""
    spans: list[Span] = field(default_factory=list)
    """Cut into documents (:mod:`reconciler.spec.pieces`): what each piece made."""
    cut: bool = False
    """From an entry that lists its pieces (whose path the cache keeps a note of)."""

    def extend(self, piece: LoadedFile) -> None:
        """Append the next piece's documents (the file is read in order)."""
        self.documents += piece.documents
        self.declared += piece.declared
        self.cached += piece.cached
        self.managed += piece.managed
        self.external += piece.external


@dataclass(frozen=True)
class CachedReferences:
    """What the checks across files read of one cached document: its key and references.

    The loader asks for :meth:`stand_in` only where a check can find something (a
    parent, for cycles; a target not defined), so a warm load builds few models.
    """

    kind: str
    key: str
    start: SourceLocation
    refs: dict[str, tuple[str, SourceLocation]]
    """Field (a :data:`REFERENCES` one) → the name it refers to, and where it is written."""

    def stand_in(self) -> tuple[AnySpec, Document]:
        """The document as the checks see it: a model holding the key and the references."""
        fields: dict[str, Any] = {f: value for f, (value, _) in self.refs.items()}
        fields.update(api_version=API_VERSION, kind=self.kind)
        spec: AnySpec
        if self.kind == "Tenant":
            spec = TenantSpec.model_construct(name=self.key, **fields)
        elif self.kind == "Operator":
            spec = OperatorSpec.model_construct(email=self.key, **fields)
        else:
            raise ValueError(f"no references are kept for {self.kind!r}")
        values: dict[YamlPath, SourceLocation] = {(f,): at for f, (_, at) in self.refs.items()}
        return spec, Document(self.start.file, self.start, None, values)


# ---- the entry format: JSON; locations and resource shapes in tables, shared by reference ----


class _Tables:
    """The tables an entry refers into: locations (line, column) and resource shapes."""

    def __init__(self) -> None:
        self.spots: dict[tuple[int, int], int] = {}
        self.shapes: dict[tuple[str, tuple[str, ...], tuple[str, ...]], int] = {}

    def at(self, where: SourceLocation | None) -> int:
        if where is None:
            return -1
        spot = (where.line, where.column)
        index = self.spots.get(spot)
        if index is None:
            index = self.spots[spot] = len(self.spots)
        return index

    def resource(self, r: Resource) -> list[Any]:
        """``[shape, key, field values, source, field sources(, extra)]``: the names of the
        fields and of their sources are the shape's, shared by every resource like it; the
        field sources are their lines and columns as :class:`FieldSources` packs them, in hex."""
        sources = r.field_sources
        shape = (r.id.kind.value, tuple(r.fields), tuple(sources))
        index = self.shapes.get(shape)
        if index is None:
            index = self.shapes[shape] = len(self.shapes)
        item = [index, r.id.key, list(r.fields.values()), self.at(r.source), _packed(sources)]
        extra: dict[str, Any] = {}
        if r.server:
            extra["server"] = r.server
        if r.protect:
            extra["protect"] = True
        if r.ignore_fields:
            extra["ignoreFields"] = sorted(r.ignore_fields)
        if not r.managed:
            extra["managed"] = False
        if extra:
            item.append(extra)
        return item

    def references(self, cached: CachedReferences) -> list[Any]:
        """What the checks across files read of a document: kind, key, start, references."""
        refs = {f: [value, self.at(where)] for f, (value, where) in cached.refs.items()}
        return [cached.kind, cached.key, self.at(cached.start), refs]


def _packed(sources: Mapping[str, SourceLocation]) -> str:
    """Each source's line and column, packed as :class:`FieldSources` holds them, in hex.

    A :class:`FieldSources` (every spec resource's) is read through its pickling view
    (class, file, names, packed numbers), which makes no location object.
    """
    view = sources.__reduce__() if type(sources) is FieldSources else None
    if view is not None and len(view[1]) == 3 and isinstance(view[1][2], bytes):
        return view[1][2].hex()
    flat = [n for where in sources.values() for n in (where.line, where.column)]
    return struct.pack(f"={len(flat)}I", *flat).hex()


def encode(key: str, loaded: LoadedFile) -> dict[str, Any]:
    """``loaded`` as an entry's JSON value.

    Raises ``ValueError`` for what an entry cannot hold exactly (a resource attribute
    this code does not know): such a file is parsed on every load instead.
    """
    known = {f.name for f in dataclasses.fields(Resource)}
    if known != _RESOURCE_ATTRIBUTES:
        raise ValueError(f"Resource holds {sorted(known ^ _RESOURCE_ATTRIBUTES)}: not cached")
    tables = _Tables()
    entry: dict[str, Any] = {
        "format": FORMAT,
        "key": key,
        "documents": loaded.documents,
        "managed": [tables.resource(r) for r in loaded.managed],
        "external": [tables.resource(r) for r in loaded.external],
        "declared": [
            [d.kind, d.key, tables.at(d.location), d.written, d.external] for d in loaded.declared
        ],
        "references": [tables.references(cached) for cached in loaded.cached],
    }
    if loaded.spans:
        entry["pieces"] = [span.as_json() for span in loaded.spans]
    entry["shapes"] = [[kind, list(f), list(s)] for kind, f, s in tables.shapes]
    entry["at"] = [n for spot in tables.spots for n in spot]
    return entry


def decode(entry: Any, key: str, display: str) -> LoadedFile:
    """The file an entry holds, its locations in ``display``.

    Raises ``ValueError`` (or ``TypeError``, ``KeyError``, ``IndexError``) for an entry of
    another format or key, or of the wrong shape.
    """
    _check(entry, key)
    where = _where(entry["at"], display)
    shapes = [_shape(kind, f, s) for kind, f, s in entry["shapes"]]
    documents = entry["documents"]
    if type(documents) is not int:
        raise ValueError("bad document count")
    return LoadedFile(
        documents=documents,
        declared=[_declared(d, where) for d in entry["declared"]],
        cached=[_cached(r, where) for r in entry["references"]],
        managed=[_decoded(r, shapes, where, display) for r in entry["managed"]],
        external=[_decoded(r, shapes, where, display) for r in entry["external"]],
        cut="pieces" in entry,
    )


def decode_pieces(
    entry: Any, key: str, display: str, wanted: list[tuple[str, int]]
) -> list[LoadedFile | None]:
    """For each ``(digest, first line)`` wanted, what the entry's piece of those bytes made,
    moved to start on that line (``None``: the entry has no such piece).

    Raises as :func:`decode` does, also for pieces whose counts do not add up to the
    entry's lists.
    """
    _check(entry, key)
    lists = ("managed", "external", "declared", "references")
    at: dict[str, tuple[int, int, list[tuple[int, int]]]] = {}
    ends = [0, 0, 0, 0]
    for span in entry.get("pieces", ()):
        digest, first_line, documents, *counts = span
        if type(digest) is not str or not set(map(type, (first_line, documents, *counts))) <= {int}:
            raise TypeError("bad piece")
        if len(counts) != len(lists) or min(first_line, documents, *counts) < 0:
            raise ValueError("bad piece")
        ranges = [(end, end + n) for end, n in zip(ends, counts, strict=True)]
        at.setdefault(digest, (first_line, documents, ranges))
        ends = [stop for _, stop in ranges]
    if at and ends != [len(entry[name]) for name in lists]:
        raise ValueError("the pieces do not add up to the entry")
    shapes = [_shape(kind, f, s) for kind, f, s in entry["shapes"]]
    moved: dict[int, Where] = {}
    found: list[LoadedFile | None] = []
    for digest, first_line in wanted:
        piece = at.get(digest)
        if piece is None:
            found.append(None)
            continue
        was, documents, (managed, external, declared, references) = piece
        delta = first_line - was
        where = moved.get(delta)
        if where is None:  # unmoved: the whole table; moved: only the locations used
            spots = entry["at"]
            lazy = delta != 0
            where = _Moved(_spots(spots), display, delta) if lazy else _where(spots, display)
            moved[delta] = where
        found.append(
            LoadedFile(
                documents=documents,
                declared=[_declared(d, where) for d in entry["declared"][slice(*declared)]],
                cached=[_cached(r, where) for r in entry["references"][slice(*references)]],
                managed=[
                    _decoded(r, shapes, where, display, delta)
                    for r in entry["managed"][slice(*managed)]
                ],
                external=[
                    _decoded(r, shapes, where, display, delta)
                    for r in entry["external"][slice(*external)]
                ],
            )
        )
    return found


def _check(entry: Any, key: str) -> None:
    if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("key") != key:
        raise ValueError("not an entry of this format and key")


def _spots(spots: Any) -> list[int]:
    """The entry's location table: line, column, line, column..."""
    if not isinstance(spots, list) or len(spots) % 2 or not set(map(type, spots)) <= {int}:
        raise ValueError("bad location table")
    return spots


def _where(spots: Any, display: str) -> list[SourceLocation]:
    """The entry's locations in ``display``, all made at once (nearly all are used)."""
    table = _spots(spots)
    pairs = zip(table[::2], table[1::2], strict=True)
    return [SourceLocation(display, line, column) for line, column in pairs]


class Where(Protocol):
    """Locations by their index in an entry's table."""

    def __getitem__(self, index: int, /) -> SourceLocation: ...


class _Moved:
    """An entry's locations moved ``delta`` lines, made as they are asked for: a file
    whose pieces moved by many distinct amounts makes each location once, not the whole
    table once per amount."""

    def __init__(self, spots: list[int], display: str, delta: int) -> None:
        self._spots, self._display, self._delta = spots, display, delta
        self._made: dict[int, SourceLocation] = {}

    def __getitem__(self, index: int, /) -> SourceLocation:
        found = self._made.get(index)
        if found is None:
            if index < 0:
                raise IndexError(index)  # as the table's list would not: -1 means "none"
            line, column = self._spots[2 * index], self._spots[2 * index + 1]
            found = self._made[index] = SourceLocation(self._display, line + self._delta, column)
        return found


def _moved(positions: bytes, delta: int) -> bytes:
    """Packed ``(line, column)`` pairs (``struct`` ``"=II"``), ``delta`` lines further down."""
    numbers = array("I")
    if numbers.itemsize != 4:  # pragma: no cover - a platform whose C int is not 32 bits
        flat = list(struct.unpack(f"={len(positions) // 4}I", positions))
        flat[::2] = [line + delta for line in flat[::2]]
        return struct.pack(f"={len(flat)}I", *flat)
    numbers.frombytes(positions)
    numbers[::2] = array("I", [line + delta for line in numbers[::2]])
    return numbers.tobytes()


_KINDS = {kind.value: kind for kind in Kind}
_Shape = tuple[Kind, tuple[str, ...], tuple[str, ...]]


def _shape(kind: str, fields: list[str], sources: list[str]) -> _Shape:
    """A shape's kind, its field names and its field source names."""
    if not set(map(type, fields)) | set(map(type, sources)) <= {str}:
        raise TypeError("field names must be text")
    return _KINDS[kind], tuple(map(sys.intern, fields)), tuple(map(sys.intern, sources))


def _decoded(
    item: list[Any],
    shapes: list[_Shape],
    where: Where,
    display: str,
    delta: int = 0,
) -> Resource:
    shape, key, values, source, packed, *rest = item
    kind, names, source_names = shapes[shape]
    positions = bytes.fromhex(packed)
    if type(key) is not str or len(values) != len(names) or len(positions) != 8 * len(source_names):
        raise TypeError("a resource needs a text key, a value and a place for each field")
    if delta:
        positions = _moved(positions, delta)
    rid = ResourceId(kind, sys.intern(key))
    # text interned as the loader shares it: a tenant's name in each of its flags, flag names
    fields = {n: sys.intern(v) if type(v) is str else v for n, v in zip(names, values)}  # noqa: B905
    # no location object until one is asked for, as the loader's own
    located = FieldSources(display, source_names, positions) if source_names else NO_SOURCES
    at = None if source == -1 else where[source]
    if not rest:  # nearly every resource: nothing beyond the defaults
        return Resource(rid, fields, source=at, field_sources=located)
    (extra,) = rest
    resource = Resource(
        rid,
        fields,
        source=at,
        field_sources=located,
        protect=extra.get("protect", False) is True,
        ignore_fields=frozenset(map(str, extra.get("ignoreFields", ()))),
        managed=extra.get("managed", True) is not False,
    )
    if "server" in extra:
        resource.server = dict(extra["server"])
    return resource


def _declared(item: list[Any], where: Where) -> Declared:
    kind, key, location, written, external = item
    if {type(kind), type(key), type(written)} != {str} or type(external) is not bool:
        raise TypeError("bad declaration")
    return Declared(kind, key, where[location], written, external)


def _cached(item: list[Any], where: Where) -> CachedReferences:
    kind, key, start, refs = item
    if type(kind) is not str or type(key) is not str or type(refs) is not dict:
        raise TypeError("bad references")
    found = {f: (value, where[at]) for f, (value, at) in refs.items() if type(value) is str}
    if len(found) != len(refs):
        raise TypeError("a reference must be text")
    return CachedReferences(kind, key, where[start], found)

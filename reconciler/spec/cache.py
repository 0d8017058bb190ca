"""A content-addressed cache of loaded spec files, in the spec root's ``.reconciler/cache/``.

A pull request usually changes one or two files of a tree of hundreds, and
parsing YAML with the position of every value is most of a plan's fixed cost
(2-3 s of CPU at 110,000 objects). So each file that loads without a problem
is stored as what the loader made of it (:class:`LoadedFile`): its resources
with every source location (line and column; the file's name is given again
on each load, as the user spelled the path this time), the keys it declares
and the references the checks across files read. Those checks still run on
every load, over cached and parsed files alike.

An entry's key hashes the file's bytes with everything else the result
depends on (:func:`fingerprint`: reconciler's version and the source of the
code that loads specs, the spec format, PyYAML's, pydantic's and Unicode's
versions, the byte order, the entry format), so it is found again only for
the same bytes read by the same code.

Safe to delete at any time, and never trusted blindly: entries are JSON
(reading one cannot run code, as unpickling could), each must name this
format and its own key, and one that does not parse or has the wrong shape
is ignored and written again. Writes go to a temporary file renamed into
place, so concurrent runs and a run killed mid-write leave whole entries or
none. Files that use ``${VAR}`` are never stored: their values may be
secrets, and the GitHub workflow keeps this directory with ``actions/cache``,
which pull requests can restore.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import os
import struct
import sys
import tempfile
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic.version import VERSION as PYDANTIC_VERSION

from reconciler import __version__
from reconciler.errors import SourceLocation
from reconciler.model import NO_SOURCES, FieldSources, Kind, Resource, ResourceId
from reconciler.spec.models import API_VERSION, AnySpec, OperatorSpec, TenantSpec
from reconciler.spec.references import Declared
from reconciler.spec.yamlload import Document, YamlPath
from reconciler.workdir import STATE_DIR, spec_root, state_dir

log = logging.getLogger("reconciler")

FORMAT = "reconciler-spec-cache/1"
"""Written in every entry; a change to what an entry holds changes it."""

CACHE_DIR = "cache"
"""Under the spec root's ``.reconciler/``."""

NO_CACHE_ENV = "RECONCILER_NO_CACHE"
"""Set (to anything but ``0`` or empty) to load every file from its YAML."""

KEEP_UNUSED_SECONDS = 7 * 24 * 3600
"""An entry no load of the whole tree used for this long is removed (old versions of files)."""

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

_SOURCES = ("spec/*.py", "model.py", "errors.py", "rules.py")
"""The code whose result is cached, relative to the package (its bytes are in the key)."""


@dataclass
class LoadedFile:
    """What one spec file gives the loader: what is cached of it, or what parsing it made."""

    documents: int = 0
    """Non-empty documents (0: the file is empty, only comments or only null)."""
    declared: list[Declared] = field(default_factory=list)
    specs: list[tuple[AnySpec, Document]] = field(default_factory=list)
    """Parsed: the validated documents, for the checks across files."""
    cached: list[CachedReferences] = field(default_factory=list)
    """From the cache instead of ``specs``: the references of its documents that have any."""
    managed: list[Resource] = field(default_factory=list)
    external: list[Resource] = field(default_factory=list)
    """Declared with ``managed: false``."""


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


class SpecCache:
    """The entries of one spec root's cache directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.used: set[str] = set()
        """Keys looked up or written by this load (kept when pruning)."""

    @classmethod
    def for_specs(
        cls, spec_path: Path | str, env: Mapping[str, str] | None = None
    ) -> SpecCache | None:
        """The cache of the spec tree at ``spec_path``; ``None`` when ``RECONCILER_NO_CACHE``
        is set."""
        environ = os.environ if env is None else env
        if environ.get(NO_CACHE_ENV, "") not in ("", "0"):
            return None
        return cls(spec_root(spec_path) / STATE_DIR / CACHE_DIR)

    def key(self, data: bytes) -> str:
        """The entry name for a file's bytes read by this code."""
        return hashlib.sha256(fingerprint() + data).hexdigest()

    def get(self, key: str, display: str) -> LoadedFile | None:
        """The cached file, its locations in ``display``; ``None`` when absent or unusable."""
        self.used.add(key)
        path = self.directory / f"{key}.json"
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        try:
            return decode(json.loads(raw), key, display)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, struct.error) as exc:
            log.debug("spec cache: ignoring %s (%s: %s)", path, type(exc).__name__, exc)
            return None

    def put(self, key: str, loaded: LoadedFile) -> None:
        """Store ``loaded`` under ``key``; a cache that cannot be written is left alone."""
        self.used.add(key)
        try:
            payload = json.dumps(encode(key, loaded), separators=(",", ":")).encode("ascii")
        except (TypeError, ValueError, struct.error) as exc:
            log.debug("spec cache: not storing %s (%s)", key, exc)
            return
        tmp: str | None = None
        try:
            state_dir(self.directory.parent.parent)  # .reconciler/ and its .gitignore
            self.directory.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{key[:16]}.", suffix=".tmp", dir=self.directory)
            with os.fdopen(fd, "wb") as stream:
                stream.write(payload)
            os.replace(tmp, self.directory / f"{key}.json")
            tmp = None
        except OSError as exc:
            log.debug("spec cache: cannot write %s (%s)", self.directory, exc)
        finally:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)

    def prune(self, now: float | None = None) -> None:
        """Remove entries this load did not use and none used for a week; mark the used.

        Called after a load of the whole tree only (one file's load uses few entries).
        """
        now = time.time() if now is None else now
        try:
            entries = list(os.scandir(self.directory))
        except OSError:
            return
        for entry in entries:
            name = entry.name
            try:
                age = now - entry.stat().st_mtime
                if name.endswith(".json") and name[:-5] in self.used:
                    if age > 24 * 3600:
                        os.utime(entry.path)  # in use: kept
                elif age > KEEP_UNUSED_SECONDS or (name.endswith(".tmp") and age > 3600):
                    os.unlink(entry.path)
            except OSError:
                continue


@functools.cache
def fingerprint() -> bytes:
    """What besides a file's bytes decides what loading it gives (see the module docstring)."""
    digest = hashlib.sha256()
    versions = (FORMAT, __version__, API_VERSION, yaml.__version__, PYDANTIC_VERSION)
    for part in (*versions, unicodedata.unidata_version, sys.version, sys.byteorder):
        digest.update(part.encode() + b"\0")
    package = Path(__file__).resolve().parent.parent
    for pattern in _SOURCES:
        for source in sorted(package.glob(pattern)):
            digest.update(source.name.encode() + b"\0")
            try:
                digest.update(source.read_bytes())
            except OSError:  # pragma: no cover - a package without its sources: versions only
                continue
    return digest.digest()


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

    def references(self, spec: AnySpec, doc: Document) -> list[Any] | None:
        """What the checks across files read of a document; ``None`` if it refers to nothing."""
        fields = REFERENCES.get(type(spec), ())
        refs = {
            f: [v, self.at(doc.locate((f,)))] for f in fields if (v := getattr(spec, f)) is not None
        }
        key = getattr(spec, spec.KEY_FIELD)
        return [spec.kind, key, self.at(doc.start), refs] if refs else None


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
        "references": [r for s, d in loaded.specs if (r := tables.references(s, d))],
    }
    entry["shapes"] = [[kind, list(f), list(s)] for kind, f, s in tables.shapes]
    entry["at"] = [n for spot in tables.spots for n in spot]
    return entry


def decode(entry: Any, key: str, display: str) -> LoadedFile:
    """The file an entry holds, its locations in ``display``.

    Raises ``ValueError`` (or ``TypeError``, ``KeyError``, ``IndexError``) for an entry of
    another format or key, or of the wrong shape.
    """
    if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("key") != key:
        raise ValueError("not an entry of this format and key")
    spots = entry["at"]
    if not isinstance(spots, list) or len(spots) % 2 or not set(map(type, spots)) <= {int}:
        raise ValueError("bad location table")
    pairs = zip(spots[::2], spots[1::2], strict=True)
    where = [SourceLocation(display, line, column) for line, column in pairs]
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
    )


_KINDS = {kind.value: kind for kind in Kind}
_Shape = tuple[Kind, tuple[str, ...], tuple[str, ...]]


def _shape(kind: str, fields: list[str], sources: list[str]) -> _Shape:
    """A shape's kind, its field names and its field source names."""
    if not set(map(type, fields)) | set(map(type, sources)) <= {str}:
        raise TypeError("field names must be text")
    return _KINDS[kind], tuple(map(sys.intern, fields)), tuple(map(sys.intern, sources))


def _decoded(
    item: list[Any], shapes: list[_Shape], where: list[SourceLocation], display: str
) -> Resource:
    shape, key, values, source, packed, *rest = item
    kind, names, source_names = shapes[shape]
    positions = bytes.fromhex(packed)
    if type(key) is not str or len(values) != len(names) or len(positions) != 8 * len(source_names):
        raise TypeError("a resource needs a text key, a value and a place for each field")
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


def _declared(item: list[Any], where: list[SourceLocation]) -> Declared:
    kind, key, location, written, external = item
    if {type(kind), type(key), type(written)} != {str} or type(external) is not bool:
        raise TypeError("bad declaration")
    return Declared(kind, key, where[location], written, external)


def _cached(item: list[Any], where: list[SourceLocation]) -> CachedReferences:
    kind, key, start, refs = item
    if type(kind) is not str or type(key) is not str or type(refs) is not dict:
        raise TypeError("bad references")
    found = {f: (value, where[at]) for f, (value, at) in refs.items() if type(value) is str}
    if len(found) != len(refs):
        raise TypeError("a reference must be text")
    return CachedReferences(kind, key, where[start], found)

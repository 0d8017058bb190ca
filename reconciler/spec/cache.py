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

A file that changed is not always parsed whole again: the cache remembers
which entry each file's path had last (:meth:`SpecCache.previous`), and the
documents of the file that are byte for byte in it are taken from there
(:mod:`reconciler.spec.reuse`); only the others are parsed.

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
from pathlib import Path
from typing import Any

import yaml
from pydantic.version import VERSION as PYDANTIC_VERSION

from reconciler import __version__
from reconciler.spec.cache_format import (
    FORMAT,
    REFERENCES,
    UNUSABLE,
    CachedReferences,
    LoadedFile,
    Span,
    decode,
    encode,
)
from reconciler.spec.models import API_VERSION
from reconciler.workdir import STATE_DIR, spec_root, state_dir

log = logging.getLogger("reconciler")

CACHE_DIR = "cache"
"""Under the spec root's ``.reconciler/``."""

NO_CACHE_ENV = "RECONCILER_NO_CACHE"
"""Set (to anything but ``0`` or empty) to load every file from its YAML."""

KEEP_UNUSED_SECONDS = 7 * 24 * 3600
"""An entry no load of the whole tree used for this long is removed (old versions of files)."""

_SOURCES = ("spec/*.py", "model.py", "sources.py", "errors.py", "rules.py")
"""The code whose result is cached, relative to the package (its bytes are in the key)."""


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
        entry = self.entry(key)
        if entry is None:
            return None
        try:
            return decode(entry, key, display)
        except UNUSABLE as exc:
            log.debug("spec cache: ignoring entry %s (%s: %s)", key, type(exc).__name__, exc)
            return None

    def entry(self, key: str) -> dict[str, Any] | None:
        """The JSON of the entry ``key`` if it is one of this format; ``None`` otherwise."""
        self.used.add(key)
        path = self.directory / f"{key}.json"
        try:
            found = json.loads(path.read_bytes())
        except OSError:
            return None
        except ValueError as exc:
            log.debug("spec cache: ignoring %s (%s)", path, exc)
            return None
        if not isinstance(found, dict) or found.get("format") != FORMAT or found.get("key") != key:
            log.debug("spec cache: ignoring %s (not an entry of this format and key)", path)
            return None
        return found

    def put(self, key: str, loaded: LoadedFile) -> None:
        """Store ``loaded`` under ``key``; a cache that cannot be written is left alone."""
        self.used.add(key)
        try:
            entry = encode(key, loaded)
        except (TypeError, ValueError, struct.error) as exc:
            log.debug("spec cache: not storing %s (%s)", key, exc)
            return
        self._write(key, entry)

    def previous(self, file: Path) -> str | None:
        """The key of the entry last stored for ``file`` (by this code), if any."""
        name = self._path_ref(file)
        found = self.entry(name)
        previous = found.get("entry") if found is not None else None
        return previous if isinstance(previous, str) else None

    def remember(self, file: Path, key: str) -> None:
        """Note ``key`` as the entry of ``file``'s bytes now (for :meth:`previous`)."""
        name = self._path_ref(file)
        self.used.add(name)
        self._write(name, {"format": FORMAT, "key": name, "entry": key})

    def keep_path(self, file: Path) -> None:
        """Keep ``file``'s note of its entry when pruning: its entry was just used."""
        self.used.add(self._path_ref(file))

    def _path_ref(self, file: Path) -> str:
        """The name of the note that says which entry ``file`` had: its path in the spec
        tree (so a tree checked out elsewhere, as CI does, finds its notes), by this code."""
        root = os.path.abspath(self.directory.parent.parent)
        where = os.fsencode(os.path.relpath(os.path.abspath(file), root))
        return "path-" + hashlib.sha256(fingerprint() + b"path\0" + where).hexdigest()

    def _write(self, name: str, entry: dict[str, Any]) -> None:
        """Write an entry whole or not at all: a temporary file renamed into place."""
        try:
            payload = json.dumps(entry, separators=(",", ":")).encode("ascii")
        except (TypeError, ValueError) as exc:
            log.debug("spec cache: not storing %s (%s)", name, exc)
            return
        tmp: str | None = None
        try:
            state_dir(self.directory.parent.parent)  # .reconciler/ and its .gitignore
            self.directory.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{name[:16]}.", suffix=".tmp", dir=self.directory)
            with os.fdopen(fd, "wb") as stream:
                stream.write(payload)
            os.replace(tmp, self.directory / f"{name}.json")
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


__all__ = [
    "CACHE_DIR",
    "FORMAT",
    "NO_CACHE_ENV",
    "REFERENCES",
    "CachedReferences",
    "LoadedFile",
    "Span",
    "SpecCache",
    "decode",
    "encode",
    "fingerprint",
]

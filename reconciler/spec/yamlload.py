"""Read YAML files into plain values that remember where each was written.

PyYAML's constructors drop positions and silently keep the last of two
duplicate keys, so we compose nodes ourselves and build the values from them,
recording the line and column of every key and value. The same walk
interpolates ``${VAR}`` and enforces the limits that keep a hostile or broken
file from exhausting memory: size, nesting depth, and no anchors or aliases
at all (the only sure defence against "billion laughs" expansion).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from reconciler.errors import SourceLocation, SpecProblem
from reconciler.spec.interpolate import interpolate
from reconciler.spec.names import nfc, spelled

MAX_FILE_BYTES = 10 * 1024 * 1024
"""Files above this size are refused unread: specs are small, a 10 MB file is a mistake."""

MAX_DEPTH = 50
"""Deepest nesting of mappings and lists accepted in one document."""

YamlPath = tuple[str | int, ...]

_TAG = "tag:yaml.org,2002:"
_PLAIN_TAGS = {f"{_TAG}{t}" for t in ("null", "bool", "int", "float", "str")}


@dataclass
class Document:
    """One YAML document: its value and where each key and value of it was written."""

    file: str
    start: SourceLocation
    data: Any
    values: dict[YamlPath, SourceLocation] = field(default_factory=dict)
    keys: dict[YamlPath, SourceLocation] = field(default_factory=dict)

    def locate(self, path: YamlPath, *, key: bool = False) -> SourceLocation:
        """Where ``path`` was written (its key if ``key``), else its nearest written parent."""
        if key and path in self.keys:
            return self.keys[path]
        while path:
            if path in self.values:
                return self.values[path]
            path = path[:-1]
        return self.start


@dataclass
class FileResult:
    """The documents of one file, its problems, and whether it was read to the end."""

    documents: list[Document] = field(default_factory=list)
    problems: list[SpecProblem] = field(default_factory=list)
    complete: bool = True


class _Refused(Exception):
    """A guard tripped while composing: stop reading this file."""

    def __init__(self, mark: Any, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


try:
    from yaml._yaml import CParser as _Parser  # libyaml: ~3x faster on a tree of thousands of files
except ImportError:  # pragma: no cover - PyYAML built without libyaml: same events, slower

    class _Parser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)


class _Events(_Parser, Resolver):
    """libyaml's events, and PyYAML's resolver for the tags of plain scalars.

    No composer: :class:`_Builder` makes values straight from the events, so no
    node is built for each key and value (2.5 of a cold 10,000-tenant load's
    4.2 s of composing went to PyYAML's Python composer).
    """

    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        Resolver.__init__(self)


def read_file(path: Path, display: str, env: Mapping[str, str]) -> FileResult:
    """Every non-empty document of ``path``; ``display`` is the name used in locations."""
    result = FileResult()
    data = read_bytes(path, display, result)
    if data is None:
        return result
    return parse_bytes(data, display, env, result)


def read_bytes(path: Path, display: str, result: FileResult) -> bytes | None:
    """The file's bytes, or ``None`` with the reason in ``result`` (unreadable, too large).

    Apart from parsing so that a loader can look the bytes up in its cache first.
    """
    start = SourceLocation(display, 1, 1)
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        result.problems.append(SpecProblem(start, f"cannot read file: {reason}"))
        result.complete = False
        return None
    if len(data) > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES // (1024 * 1024)
        result.problems.append(SpecProblem(start, f"file is larger than {limit} MB; refused"))
        result.complete = False
        return None
    return data


def parse_bytes(
    data: bytes, display: str, env: Mapping[str, str], result: FileResult | None = None
) -> FileResult:
    """Every non-empty document of a file's bytes (added to ``result`` if given)."""
    result = FileResult() if result is None else result
    text = _decode(data, display, result)
    if text is None:
        result.complete = False
        return result
    events: _Events | None = None
    try:
        events = _Events(text)  # checks for unprintable characters first
        events.get_event()  # the stream's start
        builder = _Builder(events, display, env, "${" in text)
        while not events.check_event(yaml.StreamEndEvent):
            events.get_event()  # the document's start
            builder.problems = []  # kept only if the whole document reads
            doc = builder.document()
            events.get_event()  # the document's end
            if doc is not None:
                result.documents.append(doc)
                result.problems += builder.problems
    except _Refused as exc:
        result.problems.append(SpecProblem(_loc(display, exc.mark), exc.message))
        result.complete = False
    except yaml.MarkedYAMLError as exc:
        result.problems.append(_parse_problem(exc, text, display))
        result.complete = False
    except yaml.reader.ReaderError as exc:
        line, col = _line_col(text, exc.position)
        message = f"invalid character U+{exc.character:04X}: {exc.reason}"
        result.problems.append(SpecProblem(SourceLocation(display, line, col), message))
        result.complete = False
    finally:
        if events is not None:
            events.dispose()
    return result


def _decode(data: bytes, display: str, result: FileResult) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        message = f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x})"
        result.problems.append(SpecProblem(SourceLocation(display, line, col), message))
        return None
    return text.removeprefix("\ufeff")


def _parse_problem(exc: yaml.MarkedYAMLError, text: str, display: str) -> SpecProblem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 1
    col = mark.column + 1 if mark else 1
    lines = text.splitlines()
    source = lines[line - 1] if 0 < line <= len(lines) else ""
    indent = source[: len(source) - len(source.lstrip(" \t"))]
    if "\t" in indent:
        where = SourceLocation(display, line, indent.index("\t") + 1)
        return SpecProblem(where, "tab used for indentation; YAML allows only spaces")
    problem = exc.problem or "cannot parse"
    context = f" {exc.context}" if exc.context else ""
    return SpecProblem(SourceLocation(display, line, col), f"invalid YAML: {problem}{context}")


def _short(tag: str) -> str:
    return tag.replace(_TAG, "!!", 1) if tag.startswith(_TAG) else tag


def _line_col(text: str, position: int) -> tuple[int, int]:
    return text.count("\n", 0, position) + 1, position - (text.rfind("\n", 0, position) + 1) + 1


def _loc(display: str, mark: Any) -> SourceLocation:
    return SourceLocation(display, mark.line + 1, mark.column + 1)


_NULL, _STR, _MAP, _SEQ = (f"{_TAG}{t}" for t in ("null", "str", "map", "seq"))
_MERGE, _TIMESTAMP = f"{_TAG}merge", f"{_TAG}timestamp"


class _Builder:
    """Turns a file's documents' events into JSON-like values, recording positions.

    Refuses, as it reads, what :data:`MAX_DEPTH` and the no-anchor rule forbid,
    also inside values it does not keep (a duplicate key's, say).
    """

    def __init__(
        self,
        events: _Events,
        display: str,
        env: Mapping[str, str],
        interpolating: bool,
    ):
        self.events = events
        self.display = display
        self.env = env
        self.problems: list[SpecProblem] = []
        """The current document's."""
        self.interpolating = interpolating
        """False when the file has no ``${``: no string needs looking at."""
        self.tags: dict[str, str] = {}
        """Plain scalar text → its resolved tag (the same few texts recur: true, active)."""
        self.plain: dict[tuple[str, str], Any] = {}
        """(tag, text) → the value PyYAML's constructor makes of it."""

    def document(self) -> Document | None:
        """The document whose start event was just read; ``None`` for an empty one."""
        first: Any = self.events.peek_event()
        doc = Document(self.display, _loc(self.display, first.start_mark), None)
        doc.data = self.value((), doc, 1)
        if doc.data is None and isinstance(first, yaml.ScalarEvent):
            return None  # '---' alone, or a null: nothing declared
        return doc

    def _event(self, depth: int) -> Any:
        """The next node's first event, refused if an alias, an anchor or too deep."""
        event: Any = self.events.get_event()
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(event.start_mark, f"YAML alias '*{event.anchor}' is not allowed")
        if event.anchor:
            raise _Refused(
                event.start_mark,
                f"YAML anchor '&{event.anchor}' is not allowed: anchors and aliases are refused "
                "to rule out alias bombs; write the values out",
            )
        if depth > MAX_DEPTH:
            raise _Refused(event.start_mark, f"nesting deeper than {MAX_DEPTH} levels")
        return event

    def _tag(self, event: Any) -> str:
        tag: str | None = event.tag
        if tag is not None and tag != "!":
            return tag
        if isinstance(event, yaml.MappingStartEvent):
            return _MAP
        if isinstance(event, yaml.SequenceStartEvent):
            return _SEQ
        if not event.implicit[0]:
            return _STR
        value: str = event.value
        found = self.tags.get(value)
        if found is None:
            resolve: Any = self.events.resolve  # PyYAML's, as its composer calls it
            found = self.tags[value] = resolve(ScalarNode, value, (True, False))
        return found

    def skip(self, depth: int) -> None:
        """Read past one node whose value is not kept, refusing as :meth:`_event` does."""
        event = self._event(depth)
        if isinstance(event, yaml.MappingStartEvent):
            while not self.events.check_event(yaml.MappingEndEvent):
                self.skip(depth + 1)
                self.skip(depth + 1)
            self.events.get_event()
        elif isinstance(event, yaml.SequenceStartEvent):
            while not self.events.check_event(yaml.SequenceEndEvent):
                self.skip(depth + 1)
            self.events.get_event()

    def value(self, path: YamlPath, doc: Document, depth: int) -> Any:
        event = self._event(depth)
        doc.values[path] = _loc(self.display, event.start_mark)
        if isinstance(event, yaml.MappingStartEvent):
            return self._mapping(event, path, doc, depth)
        if isinstance(event, yaml.SequenceStartEvent):
            self._check_tag(event, _SEQ)
            items: list[Any] = []
            while not self.events.check_event(yaml.SequenceEndEvent):
                items.append(self.value((*path, len(items)), doc, depth + 1))
            self.events.get_event()
            return items
        return self._scalar(event)

    def _mapping(self, start: Any, path: YamlPath, doc: Document, depth: int) -> dict[str, Any]:
        self._check_tag(start, _MAP)
        out: dict[str, Any] = {}
        normal: dict[str, str] = {}  # NFC form -> the key as first written
        events, inner = self.events, depth + 1
        while not events.check_event(yaml.MappingEndEvent):
            head: Any = events.peek_event()
            if not isinstance(head, yaml.ScalarEvent) or _is_merge(head):
                self.skip(inner)  # the key, checked as it is read
                self._problem(head, "only plain keys are allowed (no '<<' merges or '?' keys)")
                self.skip(inner)
                continue
            self._event(inner)
            key = str(head.value)  # keys are the text as written: 'on' stays "on"
            key_path = (*path, key)
            if key in out:
                first = doc.keys[key_path]
                self._problem(head, f"duplicate key '{key}' (first at line {first.line})")
                self.skip(inner)
                continue
            normal_key = nfc(key)
            twin = normal.setdefault(normal_key, key)
            if twin != key:
                first = doc.keys[(*path, twin)]
                self._problem(
                    head,
                    f"duplicate key '{nfc(key)}' (first at line {first.line}): '{spelled(key)}' "
                    f"here and '{spelled(twin)}' there are the same key in Unicode NFC, "
                    "the form keys are compared in",
                )
                self.skip(inner)
                continue
            doc.keys[key_path] = _loc(self.display, head.start_mark)
            out[key] = self.value(key_path, doc, inner)
            if normal_key != key:
                _alias(doc, key_path, (*path, normal_key))
        events.get_event()
        return out

    def _scalar(self, event: Any) -> Any:
        tag = self._tag(event)
        text: Any = event.value
        if tag in (_STR, _TIMESTAMP):
            pass  # a date stays the string written, as in JSON
        elif tag in _PLAIN_TAGS:
            made = self.plain.get((tag, text), self)
            if made is self:
                node = ScalarNode(tag, text, event.start_mark, event.end_mark, event.style)
                made = self.plain[tag, text] = yaml.SafeLoader.yaml_constructors[tag](
                    _CONSTRUCTOR, node
                )
            text = made
        else:
            self._problem(event, f"unsupported YAML tag '{_short(tag)}'")
            return text
        if self.interpolating and isinstance(text, str):
            text, errors = interpolate(text, self.env)
            for error in errors:
                self._problem(event, error)
        return text

    def _check_tag(self, event: Any, expected: str) -> None:
        tag = self._tag(event)
        if tag != expected:
            self._problem(event, f"unsupported YAML tag '{_short(tag)}'")

    def _problem(self, event: Any, message: str) -> None:
        self.problems.append(SpecProblem(_loc(self.display, event.start_mark), message))


def _is_merge(key: Any) -> bool:
    """Whether a key is ``<<``, which PyYAML's resolver alone makes a merge (or ``!!merge``)."""
    if key.tag is None or key.tag == "!":
        return bool(key.implicit[0]) and key.value == "<<"
    return bool(key.tag == _MERGE)


def _alias(doc: Document, written: YamlPath, normal: YamlPath) -> None:
    """Make what was written under a key not in NFC findable under its NFC form too.

    The models store names in NFC, so later steps locate ``features.café`` by
    the NFC key whichever way the file spelled it.
    """
    for table in (doc.values, doc.keys):
        size = len(written)
        for path in [p for p in table if p[:size] == written]:
            table.setdefault(normal + path[size:], table[path])


_CONSTRUCTOR = yaml.SafeLoader("")
"""Only its stateless scalar constructors (null, bool, int, float, str) are called."""

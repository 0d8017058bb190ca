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
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
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


class _GuardedLoader(Composer, _Parser, Resolver):
    """A YAML parser and PyYAML's composer, refusing anchors, aliases and deep nesting.

    The composer is PyYAML's Python one (not libyaml's) so these checks run
    before any node is built; constructing values is left to :class:`_Builder`.
    """

    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        Composer.__init__(self)
        Resolver.__init__(self)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event: Any = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(event.start_mark, f"YAML alias '*{event.anchor}' is not allowed")
        anchor = getattr(event, "anchor", None)
        if anchor:
            raise _Refused(
                event.start_mark,
                f"YAML anchor '&{anchor}' is not allowed: anchors and aliases are refused "
                "to rule out alias bombs; write the values out",
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(event.start_mark, f"nesting deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


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
    loader: _GuardedLoader | None = None
    try:
        loader = _GuardedLoader(text)  # checks for unprintable characters first
        while loader.check_node():
            node = loader.get_node()
            if node is None or (isinstance(node, ScalarNode) and node.tag == f"{_TAG}null"):
                continue  # an empty document: '---' alone
            builder = _Builder(display, env, result.problems)
            doc = Document(display, builder.at(node), None)
            doc.data = builder.value(node, (), doc)
            result.documents.append(doc)
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
        if loader is not None:
            loader.dispose()
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


class _Builder:
    """Turns one document's nodes into JSON-like values, recording positions."""

    def __init__(self, display: str, env: Mapping[str, str], problems: list[SpecProblem]):
        self.display = display
        self.env = env
        self.problems = problems

    def at(self, node: Node) -> SourceLocation:
        return _loc(self.display, node.start_mark)

    def value(self, node: Node, path: YamlPath, doc: Document) -> Any:
        doc.values[path] = self.at(node)
        if isinstance(node, MappingNode):
            return self._mapping(node, path, doc)
        if isinstance(node, SequenceNode):
            self._check_tag(node, f"{_TAG}seq")
            return [self.value(item, (*path, i), doc) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        return self._scalar(node)

    def _mapping(self, node: MappingNode, path: YamlPath, doc: Document) -> dict[str, Any]:
        self._check_tag(node, f"{_TAG}map")
        out: dict[str, Any] = {}
        normal: dict[str, str] = {}  # NFC form -> the key as first written
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == f"{_TAG}merge":
                self._problem(key_node, "only plain keys are allowed (no '<<' merges or '?' keys)")
                continue
            key = str(key_node.value)  # keys are the text as written: 'on' stays "on"
            key_path = (*path, key)
            if key in out:
                first = doc.keys[key_path]
                self._problem(key_node, f"duplicate key '{key}' (first at line {first.line})")
                continue
            normal_key = nfc(key)
            twin = normal.setdefault(normal_key, key)
            if twin != key:
                first = doc.keys[(*path, twin)]
                self._problem(
                    key_node,
                    f"duplicate key '{nfc(key)}' (first at line {first.line}): '{spelled(key)}' "
                    f"here and '{spelled(twin)}' there are the same key in Unicode NFC, "
                    "the form keys are compared in",
                )
                continue
            doc.keys[key_path] = self.at(key_node)
            out[key] = self.value(value_node, key_path, doc)
            if normal_key != key:
                _alias(doc, key_path, (*path, normal_key))
        return out

    def _scalar(self, node: ScalarNode) -> Any:
        if node.tag == f"{_TAG}timestamp":
            text: Any = node.value  # a date stays the string written, as in JSON
        elif node.tag in _PLAIN_TAGS:
            text = yaml.SafeLoader.yaml_constructors[node.tag](_CONSTRUCTOR, node)
        else:
            self._problem(node, f"unsupported YAML tag '{_short(node.tag)}'")
            return node.value
        if isinstance(text, str):
            text, errors = interpolate(text, self.env)
            for error in errors:
                self._problem(node, error)
        return text

    def _check_tag(self, node: Node, expected: str) -> None:
        if node.tag != expected:
            self._problem(node, f"unsupported YAML tag '{_short(node.tag)}'")

    def _problem(self, node: Node, message: str) -> None:
        self.problems.append(SpecProblem(self.at(node), message))


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

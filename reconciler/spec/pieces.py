"""A spec file cut into its YAML documents by their ``---`` lines, without parsing it.

A file of a thousand tenants changes one tenant at a time, and parsing it again
whole costs about 0.2 s. Cut at its document markers, the pieces whose bytes
did not change can come from the file's previous cache entry
(:mod:`reconciler.spec.reuse`) and only the rest is parsed.

A cut is only made where it cannot change what the file means, so the pieces
parse, one by one, exactly as they do together:

- in YAML, a line that starts with ``---`` followed by a blank or its end starts
  a document wherever it stands (inside a block scalar it ends the scalar; inside
  a quoted or flow one it is an error, which sends the loader to the whole
  file); documents share nothing else (no anchors cross them, and we refuse
  anchors anyway);
- but directives (``%YAML``, ``%TAG``) and the ``...`` end marker tie lines to
  the next document, and line breaks other than ``\\n`` and ``\\r\\n`` (a lone
  ``\\r``, NEL, LS, PS: YAML counts them, a cut here would not) would move line
  numbers: a file with any of them is not cut.

A piece is parsed with its first line's number kept (:meth:`Piece.padded`), so
every position in it is the one the whole file gives.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import dataclass

_MARKER = re.compile(rb"\n---(?=[ \t\r\n]|\Z)")
"""A document start after the first line: ``---`` at a line's start, then a blank, a line
break or the end (a literal prefix the engine scans for: ``re.M``'s ``^`` is slower)."""

_END_MARKER = re.compile(rb"(?:^|\n)\.\.\.(?:[ \t\r\n]|\Z)")

_OTHER_BREAKS = (b"\xc2\x85", b"\xe2\x80\xa8", b"\xe2\x80\xa9")
"""NEL, LS and PS in UTF-8: line breaks to YAML 1.1, not to a cut at ``\\n``."""


def _whole(data: bytes) -> bool:
    """Whether the file must stay whole: a directive, an end marker, or a line break YAML
    counts that ``\\n`` does not (a lone CR, NEL, LS, PS). Plain substring tests first:
    each is a fast scan, and most files have none of these bytes."""
    if data.startswith(b"%") or b"\n%" in data:
        return True
    if b"..." in data and _END_MARKER.search(data):
        return True
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return True
    return any(mark in data for mark in _OTHER_BREAKS)


@dataclass(frozen=True)
class Piece:
    """One document's bytes (with the comments and blank lines before its next one)."""

    first_line: int
    """The line it starts on, from 0."""
    data: bytes

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def padded(self) -> bytes:
        """The piece behind as many line breaks as lines before it: it parses with the
        line numbers it has in its file (the breaks are blank lines, which YAML skips)."""
        return b"\n" * self.first_line + self.data


def cut(data: bytes) -> list[Piece] | None:
    """The file's pieces in order, or ``None`` when it must stay whole (see the module)."""
    if _whole(data):
        return None
    starts = [0, *(m.start() + 1 for m in _MARKER.finditer(data))]
    pieces = []
    line = 0
    for begin, end in zip(starts, [*starts[1:], len(data)], strict=True):
        chunk = data[begin:end]
        pieces.append(Piece(line, chunk))
        line += chunk.count(b"\n")
    return pieces


def piece_at(first_lines: list[int], line: int) -> int:
    """The index of the piece holding ``line`` (from 1, as locations count)."""
    return max(0, bisect.bisect_right(first_lines, line - 1) - 1)

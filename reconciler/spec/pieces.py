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

_MARKER = re.compile(rb"^---(?=[ \t\r\n]|\Z)", re.M)
"""A document start: ``---`` at a line's start, then a blank, a line break or the end."""

_UNCUT = re.compile(rb"^(?:%|\.\.\.(?:[ \t\r\n]|\Z))|\r(?!\n)|\xc2\x85|\xe2\x80[\xa8\xa9]", re.M)
"""What keeps a file whole: a directive, an end marker, or a line break YAML counts
that ``\\n`` does not (a lone CR, NEL, LS, PS)."""


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
    if _UNCUT.search(data):
        return None
    starts = [m.start() for m in _MARKER.finditer(data)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
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

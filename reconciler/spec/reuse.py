"""A changed spec file loaded from its last cache entry, parsing only its changed documents.

When a file's bytes are not in the cache, its pieces (:mod:`reconciler.spec.pieces`)
are looked up in the entry its path had last (:meth:`SpecCache.previous`): a piece
whose bytes are there is taken from it, moved to the line it starts on now;
the others are parsed on their own. The result is what parsing the whole file
gives (the same resources, declarations, references and locations, in the same
order), and is stored as the file's new entry.

Whenever that is not sure to hold, the loader parses the whole file instead:
no previous entry, an entry of another shape, a piece that does not parse or
has any problem (the whole file then reports it, exactly as without a cache),
or fewer than half of the pieces found (parsing them one by one would cost
more than parsing the file).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from reconciler.spec.cache import LoadedFile, Span, SpecCache
from reconciler.spec.cache_format import UNUSABLE, decode_pieces
from reconciler.spec.pieces import Piece, piece_at

log = logging.getLogger("reconciler")

Parse = Callable[[bytes], LoadedFile | None]
"""Parses a piece (padded to its line) alone: what it made, or None if it had a problem."""

Tally = tuple[int, int, int, int, int]
"""One parsed document: the line it starts on, and how many resources, external resources,
declarations and references it made."""


def changed_file(
    file: Path, display: str, pieces: list[Piece], cache: SpecCache, parse: Parse
) -> LoadedFile | None:
    """``file`` from its last entry and its changed pieces; ``None``: parse it whole."""
    previous = cache.previous(file)
    entry = cache.entry(previous) if previous is not None else None
    if previous is None or entry is None:
        return None
    wanted = [(piece.digest, piece.first_line) for piece in pieces]
    try:
        found = decode_pieces(entry, previous, display, wanted)
    except UNUSABLE as exc:
        log.debug("spec cache: not reusing %s (%s: %s)", previous, type(exc).__name__, exc)
        return None
    kept = sum(part is not None for part in found)
    if kept * 2 < len(pieces):
        return None
    whole = LoadedFile()
    for piece, part in zip(pieces, found, strict=True):
        if part is None:
            part = parse(piece.padded())
            if part is None:
                return None
        whole.extend(part)
        whole.spans.append(span(piece, part))
    log.debug(
        "spec cache: %s changed; %d of its %d documents parsed again",
        display,
        len(pieces) - kept,
        len(pieces),
    )
    return whole


def span(piece: Piece, part: LoadedFile) -> Span:
    """What ``part``, all that ``piece`` made, counts as in an entry."""
    counts = (len(part.managed), len(part.external), len(part.declared), len(part.cached))
    return Span(piece.digest, piece.first_line, part.documents, *counts)


def spans(pieces: list[Piece], tallies: list[Tally]) -> list[Span] | None:
    """The pieces' spans from the whole file's documents (in order); ``None`` if a piece
    holds more than one document, which a cut at every document marker cannot give."""
    first_lines = [piece.first_line for piece in pieces]
    sums = [[0, 0, 0, 0, 0] for _ in pieces]
    for line, *made in tallies:
        found = sums[piece_at(first_lines, line)]
        found[0] += 1
        for i, n in enumerate(made, start=1):
            found[i] += n
    if any(documents > 1 for documents, *_ in sums):
        return None
    found_spans = []
    for piece, (documents, managed, external, declared, references) in zip(
        pieces, sums, strict=True
    ):
        counts = (managed, external, declared, references)
        found_spans.append(Span(piece.digest, piece.first_line, documents, *counts))
    return found_spans

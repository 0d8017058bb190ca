"""Cutting a spec file at its document markers: where, where not, and that the pieces parse
alone exactly as they do in the whole file (values and every position)."""

from __future__ import annotations

import pytest

from reconciler.spec.pieces import cut, piece_at
from reconciler.spec.yamlload import Document, parse_bytes


def parsed(data: bytes) -> tuple[list[tuple[object, dict[object, object]]], list[str]]:
    result = parse_bytes(data, "f.yaml", {})
    docs = [(d.data, {**_spots(d)}) for d in result.documents]
    return docs, [f"{p.location}: {p.message}" for p in result.problems]


def _spots(doc: Document) -> dict[object, object]:
    return {
        "start": doc.start,
        **{("v", *k): v for k, v in doc.values.items()},
        **{("k", *k): v for k, v in doc.keys.items()},
    }


def piecewise(data: bytes) -> tuple[list[tuple[object, dict[object, object]]], list[str]]:
    pieces = cut(data)
    assert pieces is not None
    assert b"".join(p.data for p in pieces) == data  # nothing lost, nothing repeated
    docs: list[tuple[object, dict[object, object]]] = []
    problems: list[str] = []
    for piece in pieces:
        more, found = parsed(piece.padded())
        docs += more
        problems += found
    return docs, problems


TRICKY = [
    "a: 1\n---\nb: 2\n",
    "---\na: 1\n---\nb: 2\n",
    "# a header\n\n---\na: 1\n# between\n---\n\nb: [1,\n  2]\n",
    "--- {a: 1}\n--- [1, 2]\n---   # a comment\nc: 3\n",
    "--- |\n  text\n  more\n---\nb: 2\n",
    "a: |\n  line\n  ---\n  indented marker stays text\n---\nb: 2\n",
    "a: |\n  line\n---\nb: ends the block scalar\n",
    "a: '---'\nb: \"--- not a marker\"\n---\nc: ---\n",
    "---x: 1\n----: 2\n--- \nd: 4\n",
    "a: 1\r\n---\r\nb: 2\r\n---\r\n",
    "\ufeff---\na: 1\n---\nb: 2\n".encode().decode(),
    "---\n---\n---\na: 1\n---\n",
    "a:\n  - 1\n  - {b: 2,\n     c: 3}\n---\t\nz: true\n",
    "tenants:\n  x: plain\n    continued\n---\nkind: Tenant\n",
    "a: 1\n--- \t# tab and comment\n\n\n\nb: 2\n\n# trailing\n",
    "---\n",
    "",
    "a: 1",
]


@pytest.mark.parametrize("text", TRICKY)
def test_pieces_parse_alone_as_they_do_in_the_whole_file(text: str) -> None:
    data = text.encode()
    whole = parsed(data)
    assert whole[1] == []  # the corpus is valid YAML: equal values and positions prove the cut
    assert piecewise(data) == whole


@pytest.mark.parametrize(
    "text",
    [
        "%YAML 1.1\n---\na: 1\n---\nb: 2\n",  # a directive ties itself to the next document
        "a: 1\n...\n%TAG !x! tag:x,2020:\n---\nb: 2\n",
        "a: 1\n...\n---\nb: 2\n",  # an end marker
        "a: 1\r---\rb: 2\r",  # breaks that YAML counts and a cut at \n would not
        "a: 1\n---\nb: \u2028c\n",
        "a: 1\n---\nb: \x85c\n",
    ],
)
def test_files_whose_lines_a_cut_could_move_are_kept_whole(text: str) -> None:
    assert cut(text.encode()) is None


def test_a_marker_inside_a_quoted_scalar_is_an_error_either_way() -> None:
    data = b'a: "one\n---\ntwo"\n---\nb: 2\n'
    assert parsed(data)[1] != []  # the whole file refuses it: the loader then reports that
    pieces = cut(data)
    assert pieces is not None and any(parsed(p.padded())[1] for p in pieces)


def test_pieces_start_at_markers_and_keep_their_line_numbers() -> None:
    pieces = cut(b"# head\n---\na: 1\n\n---\nb: 2\n")
    assert pieces is not None
    assert [(p.first_line, p.data) for p in pieces] == [
        (0, b"# head\n"),
        (1, b"---\na: 1\n\n"),
        (4, b"---\nb: 2\n"),
    ]
    assert pieces[2].padded() == b"\n\n\n\n---\nb: 2\n"
    assert len({p.digest for p in pieces}) == 3


def test_a_line_is_found_in_the_piece_that_holds_it() -> None:
    first_lines = [0, 1, 4]  # lines from 0; locations count from 1
    assert [piece_at(first_lines, line) for line in (1, 2, 3, 4, 5, 6, 99)] == [0, 1, 1, 1, 2, 2, 2]

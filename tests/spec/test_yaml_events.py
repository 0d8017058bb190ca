"""The event reader's edges: what a composer-less walk must still refuse, type and drop."""

from __future__ import annotations

from reconciler.spec.yamlload import MAX_DEPTH, parse_bytes


def read(text: str, env: dict[str, str] | None = None) -> tuple[list[object], list[str], bool]:
    result = parse_bytes(text.encode(), "f.yaml", env or {})
    problems = [f"{p.location}: {p.message}" for p in result.problems]
    return [d.data for d in result.documents], problems, result.complete


def test_an_anchor_inside_a_skipped_value_still_refuses_the_file() -> None:
    # The duplicate key's value is not kept, yet its anchor is refused as it is read.
    docs, problems, complete = read("a: 1\na: {b: &x 2}\n")
    assert not complete and docs == []
    assert problems == [
        "f.yaml:2:8: YAML anchor '&x' is not allowed: anchors and aliases are "
        "refused to rule out alias bombs; write the values out"
    ]


def test_an_alias_under_a_refused_key_is_still_refused() -> None:
    _docs, problems, complete = read("? [k]\n: *y\n")
    assert not complete and problems == ["f.yaml:2:3: YAML alias '*y' is not allowed"]


def test_a_document_refused_midway_reports_the_refusal_alone() -> None:
    # Its earlier problem (an unsupported tag) is dropped with it; the first document stays.
    docs, problems, complete = read("a: 1\n---\nb: !foo x\nc: *z\n")
    assert docs == [{"a": 1}]
    assert problems == ["f.yaml:4:4: YAML alias '*z' is not allowed"] and not complete


def test_problems_of_whole_documents_are_kept_in_order() -> None:
    docs, problems, complete = read("a: !foo x\n---\n<<: {b: 1}\nc: 2\n")
    assert complete and docs == [{"a": "x"}, {"c": 2}]
    assert problems == [
        "f.yaml:1:4: unsupported YAML tag '!foo'",
        "f.yaml:3:1: only plain keys are allowed (no '<<' merges or '?' keys)",
    ]


def test_a_quoted_merge_key_is_a_plain_key() -> None:
    docs, problems, _ = read("'<<': 1\n")
    assert docs == [{"<<": 1}] and problems == []


def test_plain_values_are_typed_by_their_text_in_every_document() -> None:
    # Typing is remembered per text within a file: a quoted twin must stay a string.
    text = "a: 1\nb: yes\nc: 0x1F\nd: ~\n---\na: '1'\nb: 'yes'\nc: !!str 0x1F\nd: '~'\n"
    docs, problems, _ = read(text)
    assert problems == []
    assert docs == [
        {"a": 1, "b": True, "c": 31, "d": None},
        {"a": "1", "b": "yes", "c": "0x1F", "d": "~"},
    ]
    assert type(docs[0]["a"]) is int and type(docs[0]["b"]) is bool  # type: ignore[index]


def test_empty_and_null_documents_declare_nothing() -> None:
    docs, problems, complete = read("---\n---\nnull\n---\n~\n---\na: 1\n")
    assert docs == [{"a": 1}] and problems == [] and complete


def test_depth_limit_holds_at_its_edge() -> None:
    ok = "a: " + "[" * (MAX_DEPTH - 2) + "1" + "]" * (MAX_DEPTH - 2) + "\n"
    assert read(ok)[1] == []
    too_deep = "a: " + "[" * (MAX_DEPTH - 1) + "1" + "]" * (MAX_DEPTH - 1) + "\n"
    docs, problems, complete = read(too_deep)
    assert not complete and docs == []
    assert problems and problems[0].endswith(f"nesting deeper than {MAX_DEPTH} levels")


def test_interpolation_only_where_the_file_uses_it() -> None:
    docs, problems, _ = read("a: ${X}\nb: $${X}\n", {"X": "v"})
    assert docs == [{"a": "v", "b": "${X}"}] and problems == []
    docs, _, _ = read("a: $X\nb: '{X}'\n", {"X": "v"})
    assert docs == [{"a": "$X", "b": "{X}"}]


def test_locations_of_keys_and_values() -> None:
    result = parse_bytes(b"a:\n  b: [x, {c: 1}]\n", "f.yaml", {})
    (doc,) = result.documents
    assert str(doc.locate(("a", "b", 1, "c"))) == "f.yaml:2:14"
    assert str(doc.locate(("a", "b", 1, "c"), key=True)) == "f.yaml:2:11"
    assert str(doc.locate(("a", "b", 0))) == "f.yaml:2:7"

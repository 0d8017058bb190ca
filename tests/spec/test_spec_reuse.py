"""A changed spec file parses only its changed documents, and loads exactly as a whole parse.

Every cached load is compared with a load without the cache (the same resources
in the same order, every field source and location included, or the same
problems); parses are counted through the loader's parse function, never timed.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import SpecError, SpecProblem
from reconciler.model import State
from reconciler.spec import cache as spec_cache
from reconciler.spec import documents, yamlload
from reconciler.spec.cache import SpecCache
from reconciler.spec.loader import load_specs

PLANS = """apiVersion: reconciler.dev/v1
kind: Plan
name: gold
displayName: Gold
tierDefaults: {basic: 10}
"""


def tenant(i: int, display: str | None = None, *, parent: str | None = None) -> str:
    lines = [
        "---",
        f"# tenant {i}",
        "apiVersion: reconciler.dev/v1",
        "kind: Tenant",
        f"name: t{i:02d}",
        f"displayName: {display or f'Tenant {i}'}",
        "plan: gold",
        *([f"parent: {parent}"] if parent else []),
        "configuration:",
        "  notes: |",
        "    first line",
        "    second line",
        f"  region: r{i % 3}",
        f"features: {{beta: {str(i % 2 == 0).lower()}, sso: true}}",
        "",
    ]
    return "\n".join(lines)


def tenants(count: int = 12) -> list[str]:
    return [tenant(i, parent="t00" if i % 5 == 4 else None) for i in range(count)]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "specs"
    root.mkdir()
    (root / "plans.yaml").write_text(PLANS)
    (root / "tenants.yaml").write_text("# all tenants, one per document\n" + "".join(tenants()))
    return root


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The bytes of every parse the loader makes, in order (a whole file, or a piece)."""
    made: list[bytes] = []
    real = yamlload.parse_bytes

    def counting(data: bytes, *args: Any, **kwargs: Any) -> Any:
        made.append(data)
        return real(data, *args, **kwargs)

    monkeypatch.setattr(documents, "parse_bytes", counting)
    return made


def cached(root: Path) -> State:
    return load_specs(root, env={}, cache=SpecCache.for_specs(root, env={}))


def uncached(root: Path) -> State:
    return load_specs(root, env={})


def same(a: State, b: State) -> None:
    """Equal resources in the same order, every field source and location included."""
    assert [r.id for r in a] == [r.id for r in b]
    for x, y in zip(a, b, strict=True):
        assert x == y
        assert x.source == y.source
        assert dict(x.field_sources) == dict(y.field_sources)


def reload(root: Path, parses: list[bytes]) -> list[bytes]:
    """A cached load, checked against a load without the cache: what the cached one parsed."""
    parses.clear()
    loaded = cached(root)
    made = list(parses)
    same(loaded, uncached(root))
    parses.clear()
    return made


def edit(root: Path, change: Callable[[list[str]], list[str]]) -> None:
    """Rewrite the tenants file from its documents, changed."""
    path = root / "tenants.yaml"
    head, *docs = path.read_text().split("---\n")
    path.write_text(head + "".join("---\n" + d for d in change(docs)))


def renamed(docs: list[str]) -> list[str]:
    docs[5] = docs[5].replace("displayName: Tenant 5", "displayName: Tenant Five")
    return docs


def inserted(docs: list[str]) -> list[str]:
    new = tenant(40).removeprefix("---\n") + "# and two more lines\n\n"
    return [*docs[:3], new, *docs[3:]]


def deleted(docs: list[str]) -> list[str]:
    return docs[:7] + docs[8:]


def swapped(docs: list[str]) -> list[str]:
    docs[1], docs[10] = docs[10], docs[1]
    return docs


def grown(docs: list[str]) -> list[str]:
    docs[2] = docs[2].replace("  region: r2\n", "  region: r2\n  zone: z1\n  rack: 7\n")
    return docs


def grown_in_three_places(docs: list[str]) -> list[str]:
    for i in (1, 4, 7):  # the documents after each move down by 2, 4, then 6 lines
        docs[i] = docs[i].replace("  notes: |\n", "  notes: |\n    added one\n    added two\n")
    return docs


EDITS: dict[str, tuple[Callable[[list[str]], list[str]], int]] = {
    # edit → how many pieces are parsed again
    "a value changed": (renamed, 1),
    "a document inserted (later lines move down)": (inserted, 1),
    "a document deleted (later lines move up)": (deleted, 0),
    "two documents swapped": (swapped, 0),
    "a document grown by two lines": (grown, 1),
    "three documents grown: the others move by three amounts": (grown_in_three_places, 3),
}


@pytest.mark.parametrize("name", EDITS)
def test_an_edit_parses_only_the_changed_documents_and_loads_as_a_whole_parse(
    tree: Path, parses: list[bytes], name: str
) -> None:
    change, parsed_again = EDITS[name]
    cached(tree)  # primes the cache: every file parsed whole
    parses.clear()
    edit(tree, change)
    loaded = cached(tree)
    whole = (tree / "tenants.yaml").read_bytes()
    assert whole not in parses  # the changed file was not parsed whole again...
    assert len(parses) == parsed_again  # ...only its changed pieces
    same(loaded, uncached(tree))
    parses.clear()
    same(cached(tree), loaded)  # and the new entry is found as it is
    assert parses == []


def test_a_comment_appended_parses_only_the_last_piece(tree: Path, parses: list[bytes]) -> None:
    cached(tree)
    with (tree / "tenants.yaml").open("a") as handle:
        handle.write("# touched\n")
    made = reload(tree, parses)
    assert len(made) == 1 and made[0].rstrip(b"\n").endswith(b"# touched")


def test_edits_one_after_another_keep_loading_as_a_whole_parse(
    tree: Path, parses: list[bytes]
) -> None:
    cached(tree)
    for change, parsed_again in EDITS.values():
        edit(tree, change)
        made = reload(tree, parses)
        assert len(made) == parsed_again and (tree / "tenants.yaml").read_bytes() not in made


def test_the_new_value_is_loaded_not_the_old_one(tree: Path) -> None:
    cached(tree)
    edit(tree, renamed)
    loaded = {r.id.key: r for r in cached(tree)}
    assert loaded["t05"].fields["display_name"] == "Tenant Five"


def test_a_problem_in_a_changed_document_is_reported_as_without_a_cache(tree: Path) -> None:
    cached(tree)

    def broken(docs: list[str]) -> list[str]:
        docs[6] = docs[6].replace("plan: gold", "plan: platinum").replace("status", "statu")
        docs[9] = docs[9].replace("  region: r0\n", "  region: [r0\n")
        return docs

    edit(tree, broken)
    assert problems(tree, cache=True) == problems(tree, cache=False) != []


def test_a_duplicate_document_is_reported_as_without_a_cache(tree: Path) -> None:
    cached(tree)
    edit(tree, lambda docs: [*docs, docs[3]])
    assert problems(tree, cache=True) == problems(tree, cache=False)
    assert any("t03" in p.message for p in problems(tree, cache=False))


def test_a_file_with_mostly_new_documents_is_parsed_whole(tree: Path, parses: list[bytes]) -> None:
    cached(tree)
    edit(tree, lambda docs: [d.replace("first line", "changed line") for d in docs])
    assert reload(tree, parses) == [(tree / "tenants.yaml").read_bytes()]


def test_crlf_files_are_cut_too(tree: Path, parses: list[bytes]) -> None:
    path = tree / "tenants.yaml"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    cached(tree)
    path.write_bytes(path.read_bytes().replace(b"Tenant 5\r\n", b"Tenant Five\r\n"))
    made = reload(tree, parses)
    assert len(made) == 1 and made != [path.read_bytes()]


def test_a_file_that_cannot_be_cut_is_parsed_whole(tree: Path, parses: list[bytes]) -> None:
    path = tree / "tenants.yaml"
    header = "# all tenants, one per document\n"
    path.write_text("%YAML 1.1\n" + path.read_text().removeprefix(header))
    cached(tree)
    path.write_text(path.read_text().replace("Tenant 5\n", "Tenant Five\n"))
    assert reload(tree, parses) == [path.read_bytes()]


def test_an_entry_whose_pieces_do_not_add_up_is_not_used(tree: Path, parses: list[bytes]) -> None:
    cached(tree)
    cache_dir = tree / ".reconciler" / "cache"
    for entry_path in cache_dir.glob("*.json"):
        entry = json.loads(entry_path.read_text())
        if "pieces" in entry:
            entry["pieces"][3][3] += 1  # one resource too many in a piece
            entry_path.write_text(json.dumps(entry))
    edit(tree, renamed)
    assert reload(tree, parses) == [(tree / "tenants.yaml").read_bytes()]


def test_a_note_written_by_other_code_is_not_used(
    tree: Path, parses: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    cached(tree)
    monkeypatch.setattr(spec_cache, "fingerprint", lambda: b"another version of the code")
    edit(tree, renamed)
    made = reload(tree, parses)
    assert made == [(tree / "plans.yaml").read_bytes(), (tree / "tenants.yaml").read_bytes()]


def test_only_files_of_many_documents_get_a_note_and_keep_it_while_used(tree: Path) -> None:
    cached(tree)
    cache = SpecCache.for_specs(tree, env={})
    assert cache is not None
    notes = {p.name for p in (tree / ".reconciler" / "cache").glob("path-*.json")}
    assert len(notes) == 1  # tenants.yaml's: plans.yaml has one document, nothing to reuse
    load_specs(tree, env={}, cache=cache)  # all from the cache: the pruning keeps what it used
    assert {f"{name}.json" for name in cache.used} >= notes
    assert {p.name for p in (tree / ".reconciler" / "cache").glob("path-*.json")} == notes


def problems(root: Path, cache: bool) -> list[SpecProblem]:
    with pytest.raises(SpecError) as info:
        cached(root) if cache else uncached(root)
    return info.value.problems


def test_a_tree_moved_elsewhere_with_its_cache_still_reuses_documents(
    tree: Path, parses: list[bytes], tmp_path: Path
) -> None:
    cached(tree)  # as a CI job that saves the cache, and a later one in another directory
    moved = tmp_path / "elsewhere" / "specs"
    moved.parent.mkdir()
    tree.rename(moved)
    edit(moved, renamed)
    made = reload(moved, parses)
    assert len(made) == 1 and made != [(moved / "tenants.yaml").read_bytes()]


def test_random_edits_always_load_as_a_whole_parse(tree: Path, parses: list[bytes]) -> None:
    """Seeded: documents inserted, deleted, moved, changed, commented and spaced out, one
    edit after another, each load compared with a load without the cache."""
    rng = random.Random(15)
    extra = iter(range(50, 10_000))

    def randomly(docs: list[str]) -> list[str]:
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(docs))
            roll = rng.random()
            if roll < 0.2:
                docs.insert(i, tenant(next(extra)).removeprefix("---\n"))
            elif roll < 0.35 and len(docs) > 3 and "name: t00\n" not in docs[i]:
                del docs[i]
            elif roll < 0.5:
                docs.insert(rng.randrange(len(docs)), docs.pop(i))
            elif roll < 0.7:
                docs[i] = docs[i].replace("second line", f"line {rng.randint(0, 9)}")
            elif roll < 0.85:
                docs[i] = "\n" * rng.randint(1, 3) + docs[i] + "# a note\n" * rng.randint(0, 2)
            else:
                docs[i] = docs[i].replace("sso: true", "sso: false")
        return docs

    cached(tree)
    reused = 0
    for _ in range(25):
        edit(tree, randomly)
        made = reload(tree, parses)
        reused += (tree / "tenants.yaml").read_bytes() not in made
    assert reused >= 15  # most edits took documents from the last entry

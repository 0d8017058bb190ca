"""Loading lets go of each file's YAML documents once its resources are made.

A document holds a location and a path per YAML key and value; the checks
across files need only each document's references. Held until every file was
read, the documents of a large tree are most of the load's peak. Checked with
the cyclic collector off, as loading runs (``paused_gc``).
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import SpecError
from reconciler.spec import documents, loader, yamlload
from reconciler.spec.cache import SpecCache
from reconciler.spec.loader import load_specs
from reconciler.spec.yamlload import FileResult

HEADER = "apiVersion: reconciler.dev/v1\n"


def _tenant(name: str, plan: str, parent: str | None = None) -> str:
    extra = f"parent: {parent}\n" if parent else ""
    return f"{HEADER}kind: Tenant\nname: {name}\nplan: {plan}\n{extra}features: {{sso: true}}\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "a-plans.yaml").write_text(f"{HEADER}kind: Plan\nname: gold\n")
    (tmp_path / "b-acme.yaml").write_text(_tenant("acme", "gold"))
    (tmp_path / "c-acme-eu.yaml").write_text(_tenant("acme-eu", "gold", parent="acme"))
    return tmp_path


@pytest.fixture
def documents_seen(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[weakref.ref[Any]]]]:
    """Weak references to the documents of each file parsed, and with the collector off
    a check at every parse that those of the files before are gone already."""
    seen: list[list[weakref.ref[Any]]] = []
    parse = yamlload.parse_bytes

    def watched(
        data: bytes, display: str, env: Mapping[str, str], result: FileResult | None = None
    ) -> FileResult:
        alive = [ref() for refs in seen for ref in refs if ref() is not None]
        assert not alive, f"{len(alive)} document(s) of earlier files still held"
        found = parse(data, display, env, result)
        seen.append([weakref.ref(doc) for doc in found.documents])
        return found

    monkeypatch.setattr(documents, "parse_bytes", watched)
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield seen
    finally:
        if was:
            gc.enable()


@pytest.mark.parametrize("cached", [False, True], ids=["no cache", "cache written"])
def test_each_file_s_documents_go_before_the_next_file_is_read(
    tree: Path, documents_seen: list[list[weakref.ref[Any]]], cached: bool
) -> None:
    cache = SpecCache(tree / ".reconciler" / "cache") if cached else None
    state = load_specs(tree, env={}, cache=cache)
    assert len(state) == 5  # a plan, two tenants and their flags
    assert [len(refs) for refs in documents_seen] == [1, 1, 1]
    assert all(ref() is None for refs in documents_seen for ref in refs)


def test_references_across_files_are_still_checked_where_written(tree: Path) -> None:
    """What is kept of a parsed document is enough for the checks across files: a
    reference to nothing and a parent cycle are reported at the line that wrote them."""
    (tree / "b-acme.yaml").write_text(_tenant("acme", "gold", parent="acme-eu"))
    (tree / "d-beta.yaml").write_text(_tenant("beta", "platinum"))
    with pytest.raises(SpecError) as info:
        load_specs(tree, env={})
    found = sorted((str(p.location), p.message) for p in info.value.problems)
    assert found == [
        (
            f"{loader.display_path(tree / 'b-acme.yaml')}:5:9",
            "tenant parents form a cycle: acme → acme-eu → acme",
        ),
        (
            f"{loader.display_path(tree / 'd-beta.yaml')}:4:7",
            "Tenant 'beta' references unknown plan 'platinum' in 'plan'; if it exists live "
            "and is managed elsewhere, declare it (a document with 'managed: false', or "
            "'external:' in reconciler.yaml)",
        ),
    ]

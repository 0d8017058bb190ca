"""The SQLite store on its own: keys, scopes, paging order, transactions, indexes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sandbox.store import Collection, Conflict, Store

COLLECTIONS = (Collection("things", indexed=("owner",)), Collection("parts"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "store.sqlite", COLLECTIONS)
    yield s
    s.close()


def test_insert_stamps_server_fields(store: Store) -> None:
    thing = store.insert("things", {"name": "a"}, key="a")
    assert set(thing) == {"id", "name", "created_at", "updated_at"}
    assert thing["created_at"].endswith("Z") and thing["created_at"] == thing["updated_at"]
    assert store.get("things", thing["id"]) == thing
    assert store.find("things", "a") == thing
    assert store.get("things", "nope") is None


def test_keys_are_unique_within_a_scope_only(store: Store) -> None:
    store.insert("parts", {"k": 1}, key="x", scope="t1")
    store.insert("parts", {"k": 2}, key="x", scope="t2")
    with pytest.raises(Conflict):
        store.insert("parts", {"k": 3}, key="x", scope="t1")
    assert [json.loads(r)["k"] for r in store.in_scope("parts", "t1")] == [1]
    assert store.delete_scope("parts", "t1") == 1 and store.in_scope("parts", "t1") == []


def test_pages_follow_creation_order(store: Store) -> None:
    for i in range(7):
        store.insert("things", {"i": i}, key=f"k{6 - i}")
    rows, total = store.page("things", 3, 2)
    assert total == 7 and [json.loads(r)["i"] for r in rows] == [2, 3, 4]


def test_update_can_change_the_key_but_not_onto_another(store: Store) -> None:
    a = store.insert("things", {"name": "a"}, key="a")
    store.insert("things", {"name": "b"}, key="b")
    with pytest.raises(Conflict):
        store.update("things", {**a, "name": "b"}, key="b")
    moved = store.update("things", {**a, "name": "c"}, key="c")
    assert moved["updated_at"] >= a["updated_at"] and store.find("things", "c") == moved
    assert store.find("things", "a") is None


def test_a_failed_transaction_writes_nothing(store: Store) -> None:
    store.insert("things", {}, key="a")
    with pytest.raises(Conflict), store.transaction():
        store.insert("things", {}, key="b")
        store.insert("things", {}, key="a")
    assert store.find("things", "b") is None


def test_filters_use_the_declared_index(store: Store) -> None:
    store.insert("things", {"owner": "o1"}, key="a")
    assert store.any_with("things", "owner", "o1") and not store.any_with("things", "owner", "o2")
    plan = store.db.execute(
        "EXPLAIN QUERY PLAN SELECT 1 FROM things WHERE json_extract(data, '$.owner') = ?", ("o1",)
    ).fetchall()
    assert "ix_things_owner" in str(plan)
    with pytest.raises(KeyError):
        store.any_with("things", "name", "a")


def test_state_and_log_persist_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "kept.sqlite"
    first = Store(path, COLLECTIONS)
    thing = first.insert("things", {"name": "a"}, key="a")
    first.log_request("POST", "/things", "", 201)
    first.close()
    second = Store(path, COLLECTIONS)
    assert second.get("things", thing["id"]) == thing
    assert second.requests() == [("POST", "/things", 201)]
    second.close()


def test_collection_names_must_be_identifiers() -> None:
    with pytest.raises(ValueError):
        Collection("things; DROP TABLE x")

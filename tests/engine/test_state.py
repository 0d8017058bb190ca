"""``State``: one resource per id, and every pair that shared an id kept for the reads to refuse."""

from __future__ import annotations

from reconciler.model import Kind, Resource, ResourceId, State


def tenant(name: str, **fields: object) -> Resource:
    return Resource(ResourceId(Kind.TENANT, name), dict(fields))


def test_distinct_ids_make_no_duplicates() -> None:
    made = [tenant(f"t{i}") for i in range(5)]
    state = State(iter(made))  # any iterable, a generator included
    assert len(state) == 5 and state.duplicates == [] and list(state) == made


def test_a_shared_id_keeps_the_later_object_and_the_pair() -> None:
    first, other, later = tenant("a", n=1), tenant("b"), tenant("a", n=2)
    state = State([first, other, later])
    assert state.get(first.id) is later and len(state) == 2
    assert state.duplicates == [(first, later)]
    assert [r.id.key for r in state] == ["a", "b"]  # insertion order of the first sighting


def test_the_same_object_twice_is_not_a_duplicate() -> None:
    one = tenant("a")
    state = State([one, one])
    assert len(state) == 1 and state.duplicates == []


def test_add_after_building_still_records_pairs() -> None:
    first = tenant("a", n=1)
    state = State([first])
    later = tenant("a", n=2)
    state.add(later)
    assert state.duplicates == [(first, later)] and state.get(first.id) is later

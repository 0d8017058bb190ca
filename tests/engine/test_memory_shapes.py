"""The compact forms of the model behave as the plain ones did, and a plan drops duplicates.

A run holds a desired and a live object per managed object, so the model is
slotted, field sources are packed (:class:`FieldSources`), a desired object
shares one read-only empty ``server``, and an unchanged live object gives up
its copy of the fields its spec holds equal. None of it may change what a
reader sees: equality, hashing, ordering, pickling and the saved-plan round
trip are checked here against the plain forms.
"""

from __future__ import annotations

import copy
import gc
import json
import pickle
import weakref
from pathlib import Path
from typing import Any

import pytest

from reconciler.engine.planner import Planner
from reconciler.errors import SourceLocation
from reconciler.model import (
    NO_SERVER_DATA,
    Action,
    Change,
    FieldChange,
    Kind,
    Resource,
    ResourceId,
    State,
    flag_key,
)
from reconciler.plan_codec import dump_plan, dump_resource, load_plan, load_resource
from reconciler.sources import NO_SOURCES, FieldSources
from reconciler.spec import load_specs

T, F = Kind.TENANT, Kind.FEATURE_FLAG
HEADER = "apiVersion: reconciler.dev/v1\n"


def here(line: int, column: int, file: str = "specs/t.yaml") -> SourceLocation:
    return SourceLocation(file, line, column)


PLAIN = {"tenant": here(3, 1), "flag": here(3, 1), "enabled": here(3, 9)}


class Fields(dict[str, Any]):
    """A fields dict a test can hold a weak reference to."""


def flag(tenant: str, name: str, enabled: bool, server: dict[str, Any] | None = None) -> Resource:
    fields = Fields(tenant=tenant, flag=name, enabled=enabled)
    if server is None:
        return Resource(ResourceId(F, flag_key(tenant, name)), fields)
    return Resource(ResourceId(F, flag_key(tenant, name)), fields, server=server)


# ---- slotted values -------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        here(1, 2),
        ResourceId(T, "acme"),
        FieldChange("enabled", False, True),
        Resource(ResourceId(T, "acme"), {}),
        Change(Action.CREATE, ResourceId(T, "acme")),
        FieldSources.of(PLAIN),
    ],
    ids=lambda v: type(v).__name__,
)
def test_the_objects_a_run_holds_by_the_hundred_thousand_have_no_dict(value: object) -> None:
    assert not hasattr(value, "__dict__")


def test_ids_and_locations_still_compare_hash_order_and_pickle() -> None:
    a, b = ResourceId(T, "acme"), ResourceId.parse("Tenant/acme")
    assert a == b and hash(a) == hash(b) and {a: 1}[b] == 1
    assert sorted([ResourceId(T, "b"), a]) == [a, ResourceId(T, "b")]
    assert pickle.loads(pickle.dumps(a)) == a and copy.deepcopy(a) == a
    loc = here(4, 2)
    assert loc == here(4, 2) and hash(loc) == hash(here(4, 2)) and str(loc) == "specs/t.yaml:4:2"
    assert sorted([here(10, 1), here(4, 2), here(4, 1)]) == [here(4, 1), here(4, 2), here(10, 1)]
    assert pickle.loads(pickle.dumps(loc)) == loc
    with pytest.raises(AttributeError):
        loc.line = 5  # type: ignore[misc]  # frozen, as before


def test_a_resource_still_compares_and_pickles_by_value() -> None:
    one = Resource(ResourceId(T, "a"), {"x": 1}, server={"id": "7"}, source=here(1, 1))
    two = Resource(ResourceId(T, "a"), {"x": 1}, server={"id": "7"}, source=here(1, 1))
    assert one == two and one.server_id == "7"
    assert one != Resource(ResourceId(T, "a"), {"x": 2}, server={"id": "7"}, source=here(1, 1))
    back = pickle.loads(pickle.dumps(one))
    assert back == one and back is not one
    one.protect = True  # still a mutable record
    assert one != two


# ---- packed field sources -------------------------------------------------------------


def test_packed_field_sources_read_as_the_dict_they_replace() -> None:
    packed = FieldSources.of(PLAIN)
    assert isinstance(packed, FieldSources)
    assert packed == PLAIN
    assert PLAIN == packed  # noqa: SIM300  # the dict on the left: its == defers to ours
    assert list(packed) == list(PLAIN) and len(packed) == 3
    assert dict(packed.items()) == PLAIN and sorted(packed.items()) == sorted(PLAIN.items())
    assert packed["enabled"] == here(3, 9) and packed.get("nope", here(9, 9)) == here(9, 9)
    assert "flag" in packed and "nope" not in packed
    with pytest.raises(KeyError):
        packed["nope"]
    assert packed != {**PLAIN, "enabled": here(3, 10)}
    assert FieldSources.of(dict(reversed(PLAIN.items()))) == packed  # order does not count
    assert FieldSources.of(packed) is packed  # immutable: shared, never packed again
    assert "'enabled': SourceLocation(file='specs/t.yaml', line=3, column=9)" in repr(packed)


def test_large_positions_survive_packing_and_pickling() -> None:
    big = {"a": here(4_000_000_000, 1), "b": here(70_000, 65_536)}
    packed = FieldSources.of(big)
    assert isinstance(packed, FieldSources) and packed == big
    assert pickle.loads(pickle.dumps(packed)) == packed
    assert copy.deepcopy(packed) == big


def test_sources_that_do_not_pack_stay_a_plain_dict() -> None:
    two_files = {"a": here(1, 1), "b": here(1, 1, "specs/other.yaml")}
    assert type(FieldSources.of(two_files)) is dict and FieldSources.of(two_files) == two_files
    out_of_range = {"a": here(1 << 32, 1)}
    assert type(FieldSources.of(out_of_range)) is dict
    assert FieldSources.of({}) is NO_SOURCES and NO_SOURCES == {}


def test_resources_with_packed_and_plain_sources_are_equal() -> None:
    rid = ResourceId(F, "t/x")
    packed = Resource(rid, {"enabled": True}, field_sources=FieldSources.of(PLAIN))
    plain = Resource(rid, {"enabled": True}, field_sources=dict(PLAIN))
    assert packed == plain and plain == packed
    assert Resource(rid, {}) == Resource(rid, {}, field_sources={})


# ---- the shared empty server ----------------------------------------------------------


def test_an_unread_resource_shares_one_read_only_empty_server() -> None:
    a, b = Resource(ResourceId(T, "a"), {}), Resource(ResourceId(T, "b"), {})
    assert a.server is b.server is NO_SERVER_DATA
    assert a.server == {} and a.server_id is None and json.dumps(a.server) == "{}"
    with pytest.raises(TypeError, match="read-only"):
        a.server["id"] = "1"
    with pytest.raises(TypeError):
        a.server.update(id="1")
    assert b.server == {}  # nothing leaked into the other resource
    shared = a.server
    for made in (copy.copy(shared), copy.deepcopy(shared), pickle.loads(pickle.dumps(shared))):
        made["id"] = "1"  # a copy is the caller's own, writable dict
        assert type(made) is dict
    assert pickle.loads(pickle.dumps(a)).server == {}


# ---- what the loader builds -----------------------------------------------------------


def _specs(root: Path) -> Path:
    (root / "t.yaml").write_text(
        f"{HEADER}kind: Tenant\nname: alpha\nfeatures:\n  sso: true\n  beta: false\n"
        f"---\n{HEADER}kind: Tenant\nname: beta\nfeatures:\n  sso: false\n"
    )
    return root


def test_spec_resources_are_compact_and_located_as_before(tmp_path: Path) -> None:
    state = load_specs(_specs(tmp_path))
    alpha = state.get(ResourceId(F, "alpha/sso"))
    beta = state.get(ResourceId(F, "beta/sso"))
    assert alpha is not None and beta is not None
    assert isinstance(alpha.field_sources, FieldSources)
    where = alpha.field_sources
    assert where["flag"] == alpha.source and where["enabled"].line == where["flag"].line == 5
    assert where["enabled"].column > where["flag"].column
    assert alpha.fields["flag"] is beta.fields["flag"]  # one "sso" for every tenant
    assert alpha.server is NO_SERVER_DATA
    tenant = state.get(ResourceId(T, "alpha"))
    assert tenant is not None and tenant.ignore_fields == frozenset()
    assert tenant.ignore_fields is Resource(tenant.id, {}).ignore_fields  # the shared default


def test_a_saved_plan_of_loaded_specs_round_trips(tmp_path: Path) -> None:
    state = load_specs(_specs(tmp_path))
    plan = Planner().plan(state, State())
    assert load_plan(json.loads(json.dumps(dump_plan(plan)))) == plan
    for resource in state:
        assert load_resource(json.loads(json.dumps(dump_resource(resource)))) == resource


# ---- the plan refers, it does not copy ------------------------------------------------


def test_changes_refer_to_the_desired_and_live_objects() -> None:
    desired = State([flag("t", "a", True), flag("t", "b", True)])
    live = State([flag("t", "a", False, server={"id": "1"})])
    plan = Planner().plan(desired, live)
    by_id = {c.id: c for c in plan.changes}
    update, create = by_id[ResourceId(F, "t/a")], by_id[ResourceId(F, "t/b")]
    assert update.desired is desired.get(update.id) and update.live is live.get(update.id)
    assert create.action is Action.CREATE and create.desired is desired.get(create.id)


def test_an_unchanged_live_object_gives_up_its_copy_of_the_fields() -> None:
    desired = State([flag("t", "same", True), flag("t", "moved", True)])
    live = State(
        [
            flag("t", "same", True, server={"id": "same"}),
            flag("t", "moved", False, server={"id": "moved"}),
        ]
    )
    same, moved = ResourceId(F, "t/same"), ResourceId(F, "t/moved")
    live_same, live_moved = live.get(same), live.get(moved)
    assert live_same is not None and live_moved is not None
    copy_of_same, own = weakref.ref(live_same.fields), live_moved.fields
    del live_same
    plan = Planner().plan(desired, live)
    gc.collect()
    assert copy_of_same() is None  # freed: the live object now holds the spec's equal dict
    kept = live.get(same)
    assert kept is not None and kept.fields is desired.get(same).fields  # type: ignore[union-attr]
    assert kept.server_id == "same" and kept.fields == dict(tenant="t", flag="same", enabled=True)
    assert live.get(moved).fields is own  # type: ignore[union-attr]  # a change keeps its own
    assert plan.unchanged == [same] and [c.id for c in plan.changes] == [moved]


def test_a_live_object_with_more_fields_than_its_spec_keeps_them() -> None:
    desired = State([Resource(ResourceId(T, "acme"), {"display_name": "Acme"})])
    read = Fields(display_name="Acme", status="active")
    live = State([Resource(ResourceId(T, "acme"), read, server={"id": "1"})])
    plan = Planner().plan(desired, live)
    assert plan.unchanged == [ResourceId(T, "acme")]
    assert live.get(ResourceId(T, "acme")).fields is read  # type: ignore[union-attr]

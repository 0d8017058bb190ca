"""The diff's quick paths decide as the full comparison does, and cost what they say.

Equal fields stop at one ``==`` of the two dicts (and are shared when the planner
asks), the live objects are walked for prunes only when some have no spec, and
deepdiff is imported only when two containers differ.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from typing import Any

from reconciler.engine.diff import compare, diff, share_unchanged
from reconciler.model import Kind, Resource, ResourceId, State
from reconciler.rules import Rules

T = Kind.TENANT


def tenant(key: str, server_id: str | None = None, **fields: Any) -> Resource:
    server = {"id": server_id} if server_id else None
    if server is None:
        return Resource(ResourceId(T, key), fields)
    return Resource(ResourceId(T, key), fields, server)


PAIRS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"display_name": "A"}, {"display_name": "A"}),
    ({"display_name": "A"}, {"display_name": "A", "status": "active"}),  # live has more
    ({"display_name": "A", "parent": None}, {"display_name": "A"}),  # None meets absent
    ({"display_name": "A"}, {"display_name": "B"}),
    ({"configuration": {"a": 1}}, {"configuration": {"a": 1, "b": 2}}),  # live-only keys stay
    ({"configuration": {"a": None}}, {"configuration": {}}),
    ({"configuration": {"a": None}}, {"configuration": {"a": 0}}),
    ({"configuration": {"a": [1, 2]}}, {"configuration": {"a": [1, 2]}}),
    ({"configuration": {"a": [1, 2]}}, {"configuration": {"a": [2, 1]}}),
    ({"status": "suspended"}, {"status": "active"}),
    ({"enabled": 1}, {"enabled": True}),  # equal to ==, as ever
]


def states() -> tuple[State, State]:
    desired = State(tenant(f"t{i}", **want) for i, (want, _) in enumerate(PAIRS))
    live = State(tenant(f"t{i}", f"id{i}", **have) for i, (_, have) in enumerate(PAIRS))
    return desired, live


def test_each_object_is_unchanged_exactly_when_compare_finds_nothing() -> None:
    desired, live = states()
    result = diff(desired, live)
    changed = {c.id: c for c in result.changes}
    for want in desired:
        have = live.get(want.id)
        assert have is not None
        full = compare(want, have)
        assert (want.id in result.unchanged) == (full is None), want.id
        if full is not None:
            assert changed[want.id].fields == full.fields
    assert result.unchanged and result.changes


def test_sharing_while_diffing_shares_what_sharing_afterwards_did() -> None:
    desired, live = states()
    before = {r.id: copy.deepcopy(r.fields) for r in live}
    result = diff(desired, live)
    assert all(r.fields == before[r.id] for r in live)  # no share asked: nothing moved
    assert not any(r.fields is w.fields for r, w in zip(live, desired, strict=True))

    twin_desired, twin_live = states()
    expected = share_unchanged(twin_desired, twin_live, diff(twin_desired, twin_live).unchanged)
    shared_result = diff(desired, live, share=True)
    assert shared_result == result
    shared = [r.id for r, w in zip(live, desired, strict=True) if r.fields is w.fields]
    twins = [r.id for r, w in zip(twin_live, twin_desired, strict=True) if r.fields is w.fields]
    assert shared == twins and len(shared) == expected >= 2
    assert all(r.fields == before[r.id] for r in live)  # equal, whatever is shared


def test_ignored_fields_are_compared_without_them_and_shared_only_when_equal_whole() -> None:
    desired = State([tenant("a", display_name="A", status="suspended"), tenant("b", status="x")])
    live = State(
        [tenant("a", "1", display_name="A", status="active"), tenant("b", "2", status="x")]
    )
    rules = Rules(ignore_fields={T: frozenset({"status"})})
    result = diff(desired, live, rules=rules, share=True)
    assert result.changes == [] and result.ignored == {ResourceId(T, "a"): ["status"]}
    a, b = (live.get(ResourceId(T, k)) for k in "ab")
    assert a is not None and a.fields == {"display_name": "A", "status": "active"}
    assert b is not None and b.fields is desired.get(ResourceId(T, "b")).fields  # type: ignore[union-attr]


def test_live_objects_without_a_spec_are_found_beside_external_references() -> None:
    external = Resource(ResourceId(T, "ext"), {}, managed=False)
    desired = State([external, tenant("a", display_name="A")])
    live = State([tenant("ext", "1"), tenant("a", "2", display_name="A"), tenant("z", "3")])
    result = diff(desired, live)
    assert result.unmanaged == [ResourceId(T, "z")]
    everything = State([external, tenant("a", display_name="A"), tenant("z")])
    assert diff(everything, live).unmanaged == []


NO_OP_THEN_DETAIL = """
import sys
from reconciler.engine.planner import Planner
from reconciler.model import Kind, Resource, ResourceId, State
T = Kind.TENANT
def states(config):
    desired = State([Resource(ResourceId(T, "a"), {"configuration": {"k": [1, 2]}})])
    live = State([Resource(ResourceId(T, "a"), {"configuration": config}, {"id": "1"})])
    return desired, live
plan = Planner().plan(*states({"k": [1, 2]}))
assert not plan.changes
assert "deepdiff" not in sys.modules, "a no-op plan imported deepdiff"
plan = Planner().plan(*states({"k": [1, 3]}))
assert [fc.path for fc in plan.changes[0].fields] == ["configuration.k[1]"]
assert "deepdiff" in sys.modules
"""


def test_a_plan_imports_deepdiff_only_when_two_containers_differ() -> None:
    done = subprocess.run(
        [sys.executable, "-c", NO_OP_THEN_DETAIL], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr

"""A create keeps no field list of its own: it is made from the desired resource when
read, and reads, compares and prints exactly as a stored one did."""

from __future__ import annotations

import gc

from reconciler.engine.diff import diff
from reconciler.model import (
    Action,
    Change,
    FieldChange,
    Kind,
    Resource,
    ResourceId,
    State,
    create_fields,
)


def _flags(n: int) -> State:
    return State(
        Resource(
            ResourceId(Kind.FEATURE_FLAG, f"t{i}/f"),
            {"tenant": f"t{i}", "flag": "f", "enabled": True},
        )
        for i in range(n)
    )


def _field_changes() -> int:
    return sum(type(o) is FieldChange for o in gc.get_objects())


def test_creates_hold_no_field_changes_until_read() -> None:
    desired = _flags(500)
    before = _field_changes()
    changes = diff(desired, State()).changes
    assert len(changes) == 500 and all(c.fields_derived for c in changes)
    assert _field_changes() == before  # three per flag were kept before
    assert changes[0].fields == [
        FieldChange("enabled", None, True),
        FieldChange("flag", None, "f"),
        FieldChange("tenant", None, "t0"),
    ]


def test_a_create_reads_as_a_stored_one() -> None:
    want = Resource(
        ResourceId(Kind.TENANT, "acme"),
        {"status": "active", "configuration": {"region": "eu", "gone": None}, "plan": "gold"},
    )
    lazy = diff(State([want]), State()).changes[0]
    stored = Change(
        Action.CREATE, want.id, desired=want, fields=create_fields(want), reason=lazy.reason
    )
    assert lazy == stored and repr(lazy) == repr(stored)
    assert [fc.path for fc in lazy.fields] == ["configuration", "plan", "status"]
    assert lazy.fields[0].new == {"region": "eu"}  # a key set to None asks for absence
    assert lazy.fields is not lazy.fields  # made anew each time, never kept


def test_assigning_fields_stores_them() -> None:
    """The planner masks sensitive fields by assigning a new list: that list is kept."""
    change = diff(_flags(1), State()).changes[0]
    masked = [FieldChange("flag", None, "(sensitive)")]
    change.fields = masked
    assert not change.fields_derived and change.fields is masked

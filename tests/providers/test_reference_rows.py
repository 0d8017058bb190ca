"""The reference rows' quick checks accept and refuse exactly what the full checks do.

Each ``*_row`` decoder first tries exact types (a plain dict, ``str`` names,
JSON scalar ids) and returns the item itself; anything else goes through the
checks of :mod:`reconciler.providers.shapes`. Here every item of a matrix of
good and bad ones meets both: the same item back, or the same refusal.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from reconciler.model import Kind, Resource, ResourceId
from reconciler.providers.http import JSON
from reconciler.providers.reference_shapes import Row, flag_row, named_row, tenant_row
from reconciler.providers.shapes import ShapeError, name, obj, scalar, text
from reconciler.session import check_shape, check_shapes


class Text(str):
    """Text of a subclass: accepted by the full checks, so it must be by the quick ones."""


class Object(dict[str, Any]):
    """An object of a subclass: likewise."""


def full_named(item: JSON) -> Row:
    row = obj(item)
    scalar(row, "id")
    name(row, "name")
    return row


def full_tenant(item: JSON) -> Row:
    row = full_named(item)
    scalar(row, "plan_id", required=False)
    scalar(row, "parent_id", required=False)
    return row


def full_flag(item: JSON) -> Row:
    row = obj(item)
    scalar(row, "tenant_id", required=False)
    text(row, "key")
    return row


MISSING = object()
IDS = [MISSING, None, "p1", "", 7, 1.5, True, Text("t"), [1], {"a": 1}]
NAMES = [MISSING, None, "acme", "", Text("acme"), Text(""), 3, ["acme"]]


def items(**values: list[Any]) -> list[Any]:
    """Every combination of ``values`` (MISSING: the key left out), as plain dicts and
    as a subclass, plus answers that are not objects at all."""
    found: list[Any] = [None, "acme", 3, ["acme"]]
    for combo in itertools.product(*values.values()):
        row = {k: v for k, v in zip(values, combo, strict=True) if v is not MISSING}
        found += [row, Object(row)]
    return found


def outcome(decode: Callable[[JSON], Row], item: Any) -> tuple[str, Any]:
    try:
        return "ok", decode(item)
    except ShapeError as exc:
        return "refused", str(exc)


CASES = [
    (named_row, full_named, items(id=IDS, name=NAMES)),
    (
        tenant_row,
        full_tenant,
        items(id=IDS[:4], name=NAMES, plan_id=IDS, parent_id=IDS[:3] + IDS[-2:]),
    ),
    (flag_row, full_flag, items(tenant_id=IDS, key=NAMES)),
]


@pytest.mark.parametrize(
    ("quick", "full", "matrix"), CASES, ids=lambda c: getattr(c, "__name__", "")
)
def test_the_quick_checks_decide_as_the_full_ones(
    quick: Callable[[JSON], Row], full: Callable[[JSON], Row], matrix: list[Any]
) -> None:
    verdicts = set()
    for item in matrix:
        got, want = outcome(quick, item), outcome(full, item)
        assert got[0] == want[0], item
        if got[0] == "ok":
            assert got[1] is item  # no copy
        else:
            assert got[1] == want[1], item
        verdicts.add(got[0])
    assert verdicts == {"ok", "refused"}


T, F = Kind.TENANT, Kind.FEATURE_FLAG


def check_each(resources: list[Resource]) -> str | None:
    try:
        for resource in resources:
            check_shape(resource)
    except TypeError as exc:
        return str(exc)
    return None


def check_all(resources: list[Resource]) -> str | None:
    try:
        check_shapes(resources)
    except TypeError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize(
    ("odd", "passes"),
    [
        (None, True),
        (Resource(ResourceId(T, ""), {}), False),
        (Resource(ResourceId(T, 5), {}), False),  # type: ignore[arg-type]
        (Resource(ResourceId(T, Text("acme")), {"plan": Text("pro")}), True),
        (Resource(ResourceId(T, "acme"), {"configuration": {"a": 1}, "status": 3}), True),
        (Resource(ResourceId(T, "acme"), {"email": 1, "parent": ["x"], "plan": 2}), False),
        (Resource(ResourceId(F, "acme/f"), {"tenant": "acme", "flag": 9, "enabled": 1}), False),
    ],
)
def test_checking_the_live_state_at_once_refuses_what_one_by_one_did(
    odd: Resource | None, passes: bool
) -> None:
    good = [
        Resource(ResourceId(F, f"acme/f{i}"), {"tenant": "acme", "flag": f"f{i}", "enabled": i % 2})
        for i in range(3)
    ]
    resources = [*good[:2], *([odd] if odd else []), good[2]]
    refused = check_all(resources)
    assert refused == check_each(resources)  # the same first problem, in the same words
    assert (refused is None) == passes

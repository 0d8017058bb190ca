"""How ``reconciler apis`` names an option's type: as a YAML author writes the value."""

from __future__ import annotations

from reconciler.options import parse


def test_lists_are_named_with_what_they_hold() -> None:
    rows = {row["name"]: row for row in type(parse("iaas-v1", {})).describe()}
    assert rows["tenantMembers"]["type"] == "list of string"
    assert rows["memberUserId"]["type"] == "list of string"

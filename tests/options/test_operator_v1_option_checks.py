"""operator-v1's options (issue 12): today's choices as defaults, every value checked,
problems placed at their line in reconciler.yaml, the sandbox refusing bad ones too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from reconciler.errors import SpecError
from reconciler.options.common import Listing
from reconciler.options.operator_v1 import OperatorV1Options
from reconciler.sandbox.app import create_app
from reconciler.spec import load_config

HEAD = "apiVersion: reconciler.dev/v1\ntargets:\n  t:\n    url: https://iot.example\n"


def problems(tmp_path: Path, options: str) -> str:
    """The problems of a target whose ``options:`` block is ``options`` (indented 6)."""
    api = "    api:\n      dialect: operator-v1\n      options:\n"
    block = "".join(f"        {line}\n" for line in options.splitlines())
    (tmp_path / "reconciler.yaml").write_text(HEAD + api + block)
    with pytest.raises(SpecError) as caught:
        load_config(tmp_path)
    return str(caught.value)


def test_the_defaults_are_the_choices_the_dialect_always_made() -> None:
    options = OperatorV1Options()
    for listing in (options.lists.device_tiers, options.lists.plans, options.lists.tenants):
        assert listing == Listing()  # items under items, total, offset/limit
    assert options.lists.users.page_size == 500
    assert (options.id_field, options.id_type) == ("id", "string")
    tiers = options.tier_defaults
    assert (tiers.wrapper, tiers.tier_field, tiers.tier_reference, tiers.limit_field) == (
        "tier_defaults",
        "tier",
        "name",
        "slot_limit",
    )
    fields = options.fields
    assert (fields.plan, fields.parent, fields.tenant) == ("plan_id", "parent_id", "tenant_id")
    assert fields.display_name == "display_name"
    assert options.errors.message is None


def test_every_option_is_described_under_its_dotted_name() -> None:
    rows = {row["name"]: row for row in OperatorV1Options.describe()}
    assert rows["lists.tenants.items"]["default"] == "items"
    assert rows["lists.deviceTiers.pageSize"]["default"] == 500
    assert rows["tierDefaults.tierReference"]["type"] == "'name' | 'id'"
    assert rows["fields.plan"]["default"] == "plan_id"
    assert all(row["description"] for row in rows.values())


def test_a_wrong_type_is_placed_at_its_value(tmp_path: Path) -> None:
    found = problems(tmp_path, "idType: int\nlists: {tenants: {pageSize: many}}")
    assert "reconciler.yaml:8:17: operator-v1 options: 'idType' must be" in found
    assert "(did you mean 'integer'?)" in found
    assert "reconciler.yaml:9:" in found and "'lists.tenants.pageSize' must be" in found


def test_an_unknown_nested_key_is_placed_at_its_key(tmp_path: Path) -> None:
    found = problems(tmp_path, "lists:\n  tenant: {items: tenants}\ntierDefaults: {tierFeild: x}")
    assert "reconciler.yaml:9:11: operator-v1 options: unknown field 'lists.tenant'" in found
    assert "reconciler.yaml:10:" in found and "unknown field 'tierDefaults.tierFeild'" in found


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"fields": {"plan": "name"}}, "fields.plan and fields.name are both 'name'"),
        ({"idField": "plan_id"}, "fields.plan and idField are both 'plan_id'"),
        ({"tierDefaults": {"tierField": "n", "limitField": "n"}}, "must be different keys"),
        ({"fields": {"plan": "plan id"}}, "should match pattern"),
        ({"lists": {"users": {"paging": "cursor", "items": None}}}, "needs the answer"),
        ({"tierDefaults": {"tierReference": "uuid"}}, "'name' or 'id'"),
    ],
)
def test_options_that_cannot_work_are_refused(options: dict[str, object], words: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(words)):
        OperatorV1Options.model_validate(options)


def test_the_sandbox_refuses_bad_options_before_it_serves(tmp_path: Path) -> None:
    seed: dict[str, object] = {"options": {"lists": {"tenant": {}}}}
    with pytest.raises(ValueError, match=r"lists\.tenant"):
        create_app("operator-v1", db_path=tmp_path / "s.sqlite", token="t", seed=seed)


def test_a_misspelt_nested_option_gets_did_you_mean_from_its_own_section(
    tmp_path: Path,
) -> None:
    (tmp_path / "reconciler.yaml").write_text(
        "apiVersion: reconciler.dev/v1\n"
        "targets:\n"
        "  t:\n"
        "    api:\n"
        "      dialect: operator-v1\n"
        "      options:\n"
        "        lists:\n"
        "          tenant: {items: tenants}\n"
        "    url: https://platform.example\n"
    )
    with pytest.raises(SpecError) as caught:
        load_config(tmp_path)
    message = str(caught.value.problems[0])
    assert "reconciler.yaml:8:11" in message
    assert "did you mean 'tenants'?" in message

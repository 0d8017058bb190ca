"""Reports name fields as the specs write them (``displayName``), not as the engine does.

The engine keeps model names (``display_name``); a person reads a plan next to
the spec and pastes names from it into ``ignoreFields``, so every format shows
the spec's name, and keys of a mapping field after the dot stay as written.
"""

from __future__ import annotations

import json

from reconciler.engine.plan import Plan
from reconciler.engine.planner import Planner
from reconciler.model import Kind, Resource, ResourceId, State
from reconciler.report import json_report, text
from reconciler.report.markdown import build_report
from reconciler.report.values import field_name, reason_of
from reconciler.rules import Rules


def res(kind: Kind, key: str, **fields: object) -> Resource:
    return Resource(ResourceId(kind, key), dict(fields), server={"id": key})


def plan_with_snake_fields() -> Plan:
    """An update of every multi-word field the engine knows, and one ignored field."""
    live = State(
        [
            res(
                Kind.TENANT,
                "acme",
                display_name="Old",
                plan_override={"max_users": 5},
                configuration={"data_retention_days": 30, "region": "eu"},
            ),
            res(Kind.OPERATOR, "a@x.io", wireguard_pubkey="old-key", name="A"),
        ]
    )
    desired = State(
        [
            res(
                Kind.TENANT,
                "acme",
                display_name="New",
                plan_override={"max_users": 9},
                configuration={"data_retention_days": 90, "region": "us"},
            ),
            res(Kind.OPERATOR, "a@x.io", wireguard_pubkey="new-key", name="A"),
        ]
    )
    rules = Rules(ignore_fields={Kind.TENANT: frozenset({"configuration.region"})})
    return Planner(rules).plan(desired, live)


SPEC_NAMES = ("displayName", "planOverride.max_users", "configuration.data_retention_days")
MODEL_NAMES = ("display_name", "plan_override", "wireguard_pubkey")


def test_field_name_renames_the_field_and_keeps_the_key() -> None:
    assert field_name("display_name") == "displayName"
    assert field_name("wireguard_pubkey") == "wireguardPubkey"
    assert field_name("plan_override.max_users") == "planOverride.max_users"
    assert field_name("configuration.data_retention_days") == "configuration.data_retention_days"
    assert field_name("tiers.basic_plus") == "tiers.basic_plus"
    assert field_name("status") == "status"


def test_the_text_plan_shows_spec_names() -> None:
    shown = text.render_plan(plan_with_snake_fields(), "t")
    assert '      displayName: "Old" -> "New"' in shown
    assert "      planOverride.max_users: 5 -> 9" in shown
    assert "      configuration.data_retention_days: 30 -> 90" in shown
    assert "      wireguardPubkey: " in shown
    assert "  Tenant/acme: configuration.region" in shown  # ignored, by its spec name
    assert "(fields differ: configuration.data_retention_days, displayName, planOverride." in shown
    assert not [name for name in MODEL_NAMES if name in shown]


def test_the_json_report_shows_spec_names() -> None:
    plan = plan_with_snake_fields()
    document = json.loads(json_report.dumps(json_report.plan_dict(plan, {})))
    paths = [f["path"] for c in document["changes"] for f in c["fields"]]
    assert set(SPEC_NAMES) | {"wireguardPubkey"} <= set(paths)
    assert not [p for p in paths if p.split(".")[0] in MODEL_NAMES]
    assert document["ignored"] == {"Tenant/acme": ["configuration.region"]}
    assert document["format_version"] == json_report.FORMAT_VERSION == 2


def test_a_reason_listing_fields_names_them_as_specs_do() -> None:
    live = State([res(Kind.TENANT, "a", status="active", display_name="A")])
    desired = State([res(Kind.TENANT, "a", status="suspended", display_name="B")])
    [change] = Planner().plan(desired, live).changes
    assert change.reason == "spec sets status 'suspended'; also display_name"  # the engine's
    assert reason_of(change) == "spec sets status 'suspended'; also displayName"
    change.reason = "fields differ: display_name, not a field"  # worded otherwise: as given
    assert reason_of(change) == change.reason


def test_the_markdown_report_shows_spec_names() -> None:
    rendered = build_report(
        title="p", target="t", specs="s", plan=plan_with_snake_fields()
    ).render()
    assert '- displayName: "Old"' in rendered and '+ displayName: "New"' in rendered
    assert "+ planOverride.max_users: 9" in rendered
    assert not [name for name in MODEL_NAMES if name in rendered]

"""The JSON Schema editors and ``reconciler schema`` use: one of the kinds, by ``kind``."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from reconciler.spec import spec_json_schema


def test_schema_is_a_one_of_keyed_on_kind() -> None:
    schema = spec_json_schema()
    json.dumps(schema)  # serialisable as is
    assert schema["discriminator"]["propertyName"] == "kind"
    assert sorted(schema["discriminator"]["mapping"]) == [
        "DeviceTier",
        "Operator",
        "Plan",
        "Tenant",
    ]
    assert len(schema["oneOf"]) == 4


def test_schema_uses_yaml_names_and_forbids_extras() -> None:
    defs = spec_json_schema()["$defs"]
    tenant = defs["TenantSpec"]
    assert tenant["additionalProperties"] is False
    assert tenant["required"] == ["apiVersion", "kind", "name"]
    assert set(tenant["properties"]) == {
        "apiVersion",
        "kind",
        "name",
        "displayName",
        "plan",
        "status",
        "parent",
        "configuration",
        "features",
        "owner",
        "planOverride",
        "roles",
        "protect",
        "ignoreFields",
        "managed",
    }
    role = defs["RoleSpec"]
    assert role["additionalProperties"] is False
    assert set(role["properties"]) == {"description", "permissions", "members"}
    assert tenant["properties"]["status"] == {
        "enum": ["active", "suspended", "inactive"],
        "title": "status",
        "type": "string",
    }
    assert defs["OperatorSpec"]["required"] == ["apiVersion", "kind", "email"]
    assert "tierDefaults" in defs["PlanSpec"]["properties"]
    # parent may be null (no parent); displayName may not.
    assert {"type": "null"} in tenant["properties"]["parent"]["anyOf"]
    assert tenant["properties"]["displayName"]["type"] == "string"


def valid(document: dict[str, Any]) -> bool:
    checker = jsonschema.Draft202012Validator(spec_json_schema())
    return not list(checker.iter_errors(document))


EXTERNAL = {"apiVersion": "reconciler.dev/v1", "kind": "Plan", "name": "enterprise"}


@pytest.mark.parametrize(
    ("document", "ok"),
    [
        ({**EXTERNAL, "managed": False}, True),
        ({**EXTERNAL, "kind": "Tenant", "managed": False}, True),
        ({**EXTERNAL, "kind": "DeviceTier", "managed": False}, True),
        ({**EXTERNAL, "displayName": "Enterprise"}, True),  # a managed plan
        ({**EXTERNAL, "managed": False, "displayName": "Enterprise"}, False),  # key alone
        ({**EXTERNAL, "managed": True}, False),  # only false is written
        ({**EXTERNAL, "kind": "Operator", "email": "a@x.test", "managed": False}, False),
    ],
)
def test_managed_false_documents_hold_their_key_alone(document: dict[str, Any], ok: bool) -> None:
    """What the loader accepts as ``managed: false`` (``ExternalSpec``), an editor does too."""
    assert valid(document) is ok

"""What a provider declares decides, before any call, what a spec may ask of it."""

from __future__ import annotations

from reconciler.errors import SourceLocation
from reconciler.model import Kind, Resource, ResourceId, State
from reconciler.providers import dialects, provider_class

WHERE = SourceLocation("specs/ops.yaml", 4, 7)


def test_a_value_outside_the_apis_choices_is_reported_where_it_was_written() -> None:
    operator = Resource(
        ResourceId(Kind.OPERATOR, "a@example.com"),
        {"role": "superuser"},
        field_sources={"role": WHERE},
    )
    problems = provider_class("reference").support_problems(State([operator]))
    assert [(p.location, p.message) for p in problems] == [
        (
            WHERE,
            "Operator/a@example.com: role 'superuser' is not one the reference API accepts "
            "(operator, operator-admin)",
        )
    ]


def test_a_kind_the_api_does_not_manage_is_reported() -> None:
    tier = Resource(ResourceId(Kind.DEVICE_TIER, "basic"), {}, source=WHERE)
    problems = provider_class("reference").support_problems(State([tier]))
    assert [p.message for p in problems] == [
        "DeviceTier/basic: the reference API does not manage DeviceTier objects"
    ]


def test_every_listed_dialect_has_a_provider_named_after_it() -> None:
    names = dialects()
    assert names[0] == "reference"
    for name in names:
        assert provider_class(name).capabilities.dialect == name

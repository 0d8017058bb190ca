"""One rules front end: ``ignoreFields`` and ``protect`` read alike in reconciler.yaml and specs.

Field names are normalised the same way in both places (``displayName`` and
``display_name`` name one model field, a key of a mapping field follows a dot),
checked against the kind's fields, and refused with file:line:column and what
was probably meant.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import SpecError
from reconciler.model import Kind, ResourceId
from reconciler.rules import KIND_FIELDS, RuleError, rule_field, rule_id, spec_name
from reconciler.spec import load_config, load_specs

HEADER = "apiVersion: reconciler.dev/v1\n"
T = Kind.TENANT


def config(tmp_path: Path, text: str) -> Path:
    (tmp_path / "reconciler.yaml").write_text(HEADER + text, encoding="utf-8")
    return tmp_path


def problems(tmp_path: Path) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_config(tmp_path, env={})
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    ("written", "model"),
    [
        ("displayName", "display_name"),
        ("display_name", "display_name"),
        ("planOverride", "plan_override"),
        ("configuration.region", "configuration.region"),
        ("configuration.dataRetention", "configuration.dataRetention"),  # keys stay as written
    ],
)
def test_field_names_are_normalised_one_way(written: str, model: str) -> None:
    assert rule_field(T, written) == model


@pytest.mark.parametrize(
    ("kind", "written", "fragment"),
    [
        (T, "dispalyName", "names no field of a Tenant (did you mean 'displayName'?)"),
        (T, "DISPLAYNAME", "(did you mean 'displayName'?)"),
        (T, "colour", "(fields: displayName, plan, status, parent, configuration, owner,"),
        (T, "features", "feature flags are their own kind: FeatureFlag: [enabled]"),
        (Kind.SUBSCRIPTION_PLAN, "tierDefaults", "TierDefaults: [tiers]"),
        (T, "displayName.x", "displayName of a Tenant is a single value"),
        (T, "configuration.", "name the key of configuration after it"),
        (Kind.OPERATOR, "wireguardPubKey", "(did you mean 'wireguardPubkey'?)"),
    ],
)
def test_unknown_fields_are_refused_with_a_hint(kind: Kind, written: str, fragment: str) -> None:
    with pytest.raises(RuleError) as info:
        rule_field(kind, written)
    assert fragment in str(info.value)


def test_every_kind_has_fields_and_spec_names_round_trip() -> None:
    assert set(KIND_FIELDS) == set(Kind)
    for kind, fields in KIND_FIELDS.items():
        for name in fields:
            assert rule_field(kind, spec_name(name)) == name


def test_protect_ids() -> None:
    assert rule_id("Tenant/acme") == ResourceId(T, "acme")
    assert rule_id("Operator/Ada@Example.COM") == ResourceId(Kind.OPERATOR, "ada@example.com")
    assert rule_id("FeatureFlag/acme/sso") == ResourceId(Kind.FEATURE_FLAG, "acme/sso")
    with pytest.raises(RuleError, match=r"must start with a kind \(did you mean 'Tenant'\?\)"):
        rule_id("Tenat/acme")
    with pytest.raises(RuleError, match="names no object"):
        rule_id("Tenant/")


def test_config_ignore_fields_take_spec_names(tmp_path: Path) -> None:
    loaded = load_config(
        config(
            tmp_path,
            "ignoreFields:\n  Tenant: [displayName, configuration.region]\n"
            "  Operator: [wireguard_pubkey]\n"
            "protect: [Operator/Ada@Example.com]\n"
            "targets:\n  prod:\n    api: reference\n    url: https://p.example\n"
            "    ignoreFields: {Plan: [description]}\n",
        ),
        env={},
    )
    assert loaded.rules.ignore_fields == {
        T: frozenset({"display_name", "configuration.region"}),
        Kind.OPERATOR: frozenset({"wireguard_pubkey"}),
    }
    assert loaded.rules.protect == frozenset({ResourceId(Kind.OPERATOR, "ada@example.com")})
    prod = loaded.targets["prod"].rules
    assert prod.ignore_fields[Kind.SUBSCRIPTION_PLAN] == frozenset({"description"})
    assert prod.ignore_fields[T] == frozenset({"display_name", "configuration.region"})


def test_config_rule_typos_are_refused_where_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    got = problems(
        config(
            tmp_path,
            "ignoreFields:\n  Tenant: [plan, dispalyName]\n"
            "protect: [Tenat/acme]\n"
            "targets:\n  prod:\n    api: reference\n    url: https://p.example\n"
            "    ignoreFields: {Operator: [rol]}\n",
        )
    )
    assert got == [
        "reconciler.yaml:3:18: 'ignoreFields' entry 'dispalyName' names no field of a Tenant "
        "(did you mean 'displayName'?)",
        "reconciler.yaml:4:11: protect entry 'Tenat/acme' must start with a kind "
        "(did you mean 'Tenant'?), as in Tenant/acme",
        "reconciler.yaml:9:31: 'ignoreFields' entry 'rol' names no field of an Operator "
        "(did you mean 'role'?)",
    ]


def test_spec_ignore_fields_use_the_same_front_end(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "t.yaml").write_text(
        HEADER + "kind: Tenant\nname: acme\nignoreFields:\n  - configuration.region\n"
        "  - dispalyName\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError) as info:
        load_specs(specs, env={})
    [problem] = [str(p) for p in info.value.problems]
    assert problem.endswith(
        "t.yaml:6:5: 'ignoreFields' entry 'dispalyName' names no field of a Tenant "
        "(did you mean 'displayName'?)"
    )
    (specs / "t.yaml").write_text(
        HEADER + "kind: Tenant\nname: acme\nignoreFields: [display_name, configuration.region]\n",
        encoding="utf-8",
    )
    [acme] = load_specs(specs, env={})
    assert acme.ignore_fields == frozenset({"display_name", "configuration.region"})

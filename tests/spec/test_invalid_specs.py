"""Every invalid fixture yields exactly the expected problems, at the expected places."""

from __future__ import annotations

import pytest

from tests.spec.helpers import Problems

# case folder -> [(file, line, column, [fragments the message must contain])]
Expected = list[tuple[str | None, int, int, list[str]]]

CASES: dict[str, Expected] = {
    "yaml_syntax": [("plans.yaml", 5, 1, ["invalid YAML", "flow mapping"])],
    "tab_indent": [("acme.yaml", 5, 1, ["tab used for indentation"])],
    "duplicate_key": [
        ("acme.yaml", 7, 3, ["duplicate key 'sso'", "first at line 6"]),
        ("acme.yaml", 8, 1, ["duplicate key 'displayName'", "first at line 4"]),
    ],
    "not_utf8": [("plan.yaml", 4, 17, ["not valid UTF-8", "0xe9"])],
    "empty_dir": [(None, 0, 0, ["no spec documents found in '.'"])],
    "only_comments": [(None, 0, 0, ["no spec documents found in '.'"])],
    "not_mapping": [("list.yaml", 5, 1, ["must be a mapping"])],
    "api_version": [
        ("plan.yaml", 1, 13, ["unknown apiVersion 'reconciler.dev/v2'", "reconciler.dev/v1"])
    ],
    "unknown_kind": [("acme.yaml", 2, 7, ["unknown kind 'Tenat'", "did you mean 'Tenant'?"])],
    "nested_kind": [("flag.yaml", 2, 7, ["unknown kind 'FeatureFlag'", "under their Tenant"])],
    "missing_kind": [("acme.yaml", 1, 1, ["missing required field 'kind'"])],
    "unknown_field": [
        ("acme.yaml", 4, 1, ["unknown field 'dispalyName'", "did you mean 'displayName'?"]),
        ("acme.yaml", 5, 1, ["unknown field 'colour'", "allowed:", "features"]),
    ],
    "wrong_type": [
        ("acme.yaml", 4, 7, ["'plan' must be a string", "the number 5", "quote it"]),
        ("acme.yaml", 5, 16, ["'configuration' must be a mapping", "not a list"]),
    ],
    "bad_enum": [
        (
            "acme.yaml",
            4,
            9,
            [
                "'status' must be 'active', 'suspended' or 'inactive'",
                "'suspnded'",
                "did you mean 'suspended'",
            ],
        )
    ],
    "missing_key": [("operator.yaml", 1, 1, ["missing required field 'email'"])],
    "bad_name": [
        ("tenants.yaml", 3, 7, ["'name' must not contain '/'", "'acme/eu'"]),
        ("tenants.yaml", 7, 7, ["whitespace", "' acme'"]),
        ("tenants.yaml", 11, 7, ["'name' must not be empty"]),
    ],
    "bad_flags": [
        ("acme.yaml", 5, 3, ["key 'beta dashboard' in 'features'", "letters, digits"]),
        ("acme.yaml", 6, 8, ["'features.sso' must be true or false", "the string 'yes'"]),
    ],
    "bad_tiers": [
        ("pro.yaml", 5, 10, ["'tierDefaults.basic' must be >= 0", "-1"]),
        ("pro.yaml", 6, 12, ["'tierDefaults.premium' must be a whole number", "1.5"]),
        ("pro.yaml", 7, 3, ["key '' in 'tierDefaults' must not be empty"]),
    ],
    "bad_email": [("operator.yaml", 3, 8, ["not a valid email", "'alice at example.com'"])],
    "null_field": [
        ("acme.yaml", 4, 13, ["'displayName' must not be null", "leave the field out"]),
        ("acme.yaml", 5, 9, ["'status' must not be null"]),
    ],
    "duplicate_tenant": [("sub/b.yaml", 2, 1, ["Tenant 'acme' is also defined at a.yaml:1:1"])],
    "duplicate_operator": [
        (
            "operators.yaml",
            5,
            1,
            ["Operator 'alice@example.com' is also defined at operators.yaml:1:1"],
        )
    ],
    "dangling_plan": [
        ("specs.yaml", 8, 7, ["Tenant 'acme'", "unknown plan 'por'", "did you mean 'pro'?"])
    ],
    "dangling_parent": [("acme.yaml", 4, 9, ["Tenant 'acme-eu'", "unknown tenant 'acme'"])],
    "dangling_operator_tenant": [
        ("specs.yaml", 8, 9, ["Operator 'bob@example.com'", "'globx'", "did you mean 'globex'?"])
    ],
    "self_parent": [("acme.yaml", 4, 9, ["Tenant 'acme' is its own parent"])],
    "parent_cycle": [("tenants.yaml", 9, 9, ["cycle: a → b → c → a"])],
    "missing_env": [
        ("acme.yaml", 5, 11, ["environment variable 'REGION' is not set"]),
        ("acme.yaml", 6, 9, ["environment variable 'REGION' is not set"]),
        ("acme.yaml", 6, 9, ["environment variable 'ZONE' is not set"]),
    ],
    "bad_interpolation": [
        ("plan.yaml", 4, 14, ["unterminated '${'", "$${"]),
        ("plan.yaml", 5, 14, ["invalid variable reference '${1X}'"]),
    ],
    "anchors": [("acme.yaml", 4, 16, ["anchor '&defaults' is not allowed", "alias bombs"])],
    "unsupported_tag": [
        ("acme.yaml", 5, 9, ["unsupported YAML tag '!!binary'"]),
        ("acme.yaml", 6, 8, ["unsupported YAML tag '!Ref'"]),
    ],
    "deep_nesting": [("acme.yaml", 5, 54, ["nesting deeper than 50 levels"])],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_invalid_case_reports_exactly_its_problems(case: str, in_case: Problems) -> None:
    problems = in_case(case)
    expected = CASES[case]
    got = [
        (p.location.file, p.location.line, p.location.column) if p.location else (None, 0, 0)
        for p in problems
    ]
    assert got == [(f, line, col) for f, line, col, _ in expected], [str(p) for p in problems]
    for problem, (*_, fragments) in zip(problems, expected, strict=True):
        for fragment in fragments:
            assert fragment in problem.message, str(problem)


def test_there_are_at_least_25_invalid_cases() -> None:
    assert len(CASES) >= 25


def test_all_problems_of_a_run_come_together(in_case: Problems) -> None:
    """Broken YAML in one file does not hide schema, kind or reference problems elsewhere."""
    problems = in_case("multi_error")
    *text, broken = [str(p) for p in problems]
    # libyaml and pure-Python PyYAML word parse errors differently; the place is the same.
    assert broken.startswith("tenants/broken.yaml:4:1: invalid YAML: ")
    assert "flow sequence" in broken
    assert text == [
        "operators.yaml:2:7: unknown kind 'Operatr' (one of DeviceTier, Plan, Tenant, Operator) "
        "(did you mean 'Operator'?)",
        "operators.yaml:8:1: unknown field 'rol' (did you mean 'role'?)",
        "plans.yaml:4:23: 'tierDefaults.basic' must be a whole number, not the string 'many'",
        "tenants/acme.yaml:4:7: Tenant 'acme' references unknown plan 'premium' in 'plan'; "
        "it may be in a file that could not be read",
    ]


def test_messages_never_leak_pydantic_formatting(in_case: Problems) -> None:
    cases = ["unknown_field", "wrong_type", "bad_enum", "bad_flags", "bad_tiers", "null_field"]
    for case in cases:
        for problem in in_case(case):
            for leak in ("Input should", "type=", "validation error", "pydantic", "[key]"):
                assert leak not in problem.message, str(problem)

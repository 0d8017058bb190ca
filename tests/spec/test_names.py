"""Names and keys: hostile ones are refused at their place, shown escaped; NFC twins are one.

Each hostile case goes through the library (``load_specs``) and the CLI
(``reconciler validate``: exit 1, ``file:line``, the character escaped, no
traceback), and ``plan`` against a live sandbox sends not a single request.
"""

from __future__ import annotations

import json
import re
import shutil
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from reconciler import dialects
from reconciler.errors import SpecError, SpecProblem
from reconciler.model import Kind, ResourceId, flag_key, role_key
from reconciler.spec import load_config, load_specs, names, spec_json_schema
from tests.conftest import request_log
from tests.integration.helpers import run_cli, target_args
from tests.spec.helpers import INVALID, problems_of

ROOT = Path(__file__).resolve().parent.parent.parent
HEADER = "apiVersion: reconciler.dev/v1\n"
RLO, ZWSP = "\u202e", "\u200b"
CAFE_NFC, CAFE_NFD = "caf\u00e9", "cafe\u0301"
assert CAFE_NFC != CAFE_NFD and unicodedata.normalize("NFC", CAFE_NFD) == CAFE_NFC


def _plan(name: str) -> str:
    return f"kind: Plan\nname: {name}\n"


# id -> (document after the apiVersion line, line, column, fragments of the message)
CASES: dict[str, tuple[str, int, int, list[str]]] = {
    "dotdot": (_plan('".."'), 3, 7, ["'name' must not be '..'", "in a path"]),
    "dot": (_plan('"."'), 3, 7, ["'name' must not be '.'"]),
    "forged_plan_line": (
        _plan('"\\n  - Plan prod will be deleted"'),
        3,
        7,
        [
            "'name' contains U+000A (LINE FEED) at position 1",
            "'\\n  - Plan prod will be deleted'",
            "control characters are not allowed",
        ],
    ),
    "nul": (_plan('"nul\\0byte"'), 3, 7, ["U+0000 (NULL) at position 4", "'nul\\x00byte'"]),
    "rlo_raw": (
        _plan(f"invoice{RLO}gpj.exe"),
        3,
        7,
        ["U+202E (RIGHT-TO-LEFT OVERRIDE) at position 8", "'invoice\\u202egpj.exe'", "bidi"],
    ),
    "rlo_escaped": (
        _plan('"ab\\u202ecd"'),
        3,
        7,
        ["U+202E (RIGHT-TO-LEFT OVERRIDE) at position 3"],
    ),
    "zero_width_raw": (
        _plan(f"acme{ZWSP}"),
        3,
        7,
        ["U+200B (ZERO WIDTH SPACE) at position 5", "'acme\\u200b'", "invisible"],
    ),
    "leading_space": (_plan('" acme"'), 3, 7, ["must not start or end with whitespace", "' acme'"]),
    "trailing_space": (
        _plan('"acme "'),
        3,
        7,
        ["must not start or end with whitespace", "'acme '"],
    ),
    "too_long": (_plan("x" * 201), 3, 7, ["'name' must be at most 200 characters, not 201"]),
    "too_long_in_nfc": (
        _plan('"' + "e\\u0301" * 201 + '"'),  # 402 code points written, 201 characters in NFC
        3,
        7,
        ["at most 200 characters, not 201"],
    ),
    "flag_dotdot": (
        'kind: Tenant\nname: acme\nfeatures:\n  "..": true\n',
        5,
        3,
        ["key '..' in 'features' must not be '..'"],
    ),
    "flag_dot": ('kind: Tenant\nname: acme\nfeatures:\n  ".": true\n', 5, 3, ["must not be '.'"]),
    "flag_path": (
        'kind: Tenant\nname: acme\nfeatures:\n  "../../users/1": true\n',
        5,
        3,
        ["key '../../users/1' in 'features' must be 1-100 letters, digits"],
    ),
    "flag_query": (
        'kind: Tenant\nname: acme\nfeatures:\n  "sso?x=1": true\n',
        5,
        3,
        ["must be 1-100 letters, digits, '_', '.', ':' or '-'"],
    ),
    "flag_too_long": (
        f"kind: Tenant\nname: acme\nfeatures:\n  {'f' * 101}: true\n",
        5,
        3,
        ["at most 100 characters, not 101"],
    ),
    "slash": (_plan("acme/eu"), 3, 7, ["'name' must not contain '/'", "'acme/eu'"]),
    "terminal_escape": (
        _plan('"\\e[31mred"'),
        3,
        7,
        ["U+001B (ESCAPE) at position 1", "'\\x1b[31mred'"],
    ),
    "delete": (_plan('"a\\x7f"'), 3, 7, ["U+007F (DELETE) at position 2"]),
    "c1_csi": (_plan('"a\\x9b2J"'), 3, 7, ["U+009B (CONTROL SEQUENCE INTRODUCER) at position 2"]),
    "next_line": (_plan('"a\\Nb"'), 3, 7, ["U+0085 (NEXT LINE)"]),
    "line_separator": (_plan('"a\\Lb"'), 3, 7, ["U+2028 (LINE SEPARATOR)", "separators"]),
    "tab": (_plan('"a\\tb"'), 3, 7, ["U+0009 (CHARACTER TABULATION)", "'a\\tb'"]),
    "no_break_space": (_plan('"a\\_b"'), 3, 7, ["U+00A0 (NO-BREAK SPACE)", "plain space"]),
    "byte_order_mark": (_plan('"a\\ufeffb"'), 3, 7, ["U+FEFF (ZERO WIDTH NO-BREAK SPACE)"]),
    "soft_hyphen": (_plan('"pro\\u00adplan"'), 3, 7, ["U+00AD (SOFT HYPHEN) at position 4"]),
    "zero_width_joiner": (_plan('"a\\u200db"'), 3, 7, ["U+200D (ZERO WIDTH JOINER)"]),
    "word_joiner": (_plan('"a\\u2060b"'), 3, 7, ["U+2060 (WORD JOINER)"]),
    "mongolian_vowel_separator": (_plan('"a\\u180eb"'), 3, 7, ["U+180E"]),
    "left_to_right_mark": (_plan('"a\\u200eb"'), 3, 7, ["U+200E (LEFT-TO-RIGHT MARK)"]),
    "first_strong_isolate": (_plan('"a\\u2068b"'), 3, 7, ["U+2068 (FIRST STRONG ISOLATE)"]),
    "arabic_letter_mark": (_plan('"a\\u061cb"'), 3, 7, ["U+061C (ARABIC LETTER MARK)"]),
    "hangul_filler": (_plan('"a\\u3164b"'), 3, 7, ["U+3164 (HANGUL FILLER)"]),
    "tag_character": (_plan('"a\\U000e0041b"'), 3, 7, ["U+E0041 (TAG LATIN CAPITAL LETTER A)"]),
    # Every other place a name or key is written.
    "device_tier": ('kind: DeviceTier\nname: ".."\n', 3, 7, ["'name' must not be '..'"]),
    "plan_reference": (
        'kind: Tenant\nname: acme\nplan: "pro\\u202e"\n',
        4,
        7,
        ["'plan' contains U+202E"],
    ),
    "parent_reference": ('kind: Tenant\nname: acme\nparent: ".."\n', 4, 9, ["'parent' must not"]),
    "operator_tenant": (
        'kind: Operator\nemail: a@example.com\ntenant: "acme\\n"\n',
        4,
        9,
        ["'tenant' contains U+000A (LINE FEED) at position 5"],
    ),
    "operator_email": (
        'kind: Operator\nemail: "a\\u200b@example.com"\n',
        3,
        8,
        ["'email' contains U+200B (ZERO WIDTH SPACE) at position 2"],
    ),
    "operator_role": (
        'kind: Operator\nemail: a@example.com\nrole: "operator-admin\\u202e"\n',
        4,
        7,
        ["'role' contains U+202E"],
    ),
    "tenant_owner": (
        'kind: Tenant\nname: acme\nowner: "o\\u2066@example.com"\n',
        4,
        8,
        ["'owner' contains U+2066 (LEFT-TO-RIGHT ISOLATE)"],
    ),
    "tier_name": (
        'kind: Plan\nname: pro\ntierDefaults:\n  "basic\\u200b": 1\n',
        5,
        3,
        ["key 'basic\\u200b' in 'tierDefaults' contains U+200B"],
    ),
    "role_name": (
        'kind: Tenant\nname: acme\nroles:\n  "..": {}\n',
        5,
        3,
        ["key '..' in 'roles' must not be '..'"],
    ),
    "role_member": (
        'kind: Tenant\nname: acme\nroles:\n  admin:\n    members: ["bob\\u202e"]\n',
        6,
        15,
        ["'roles.admin.members.0' contains U+202E"],
    ),
    "role_permission": (
        'kind: Tenant\nname: acme\nroles:\n  admin:\n    permissions: ["read\\n"]\n',
        6,
        19,
        ["'roles.admin.permissions.0' contains U+000A"],
    ),
    "configuration_key": (
        'kind: Tenant\nname: acme\nconfiguration:\n  "region\\0": eu\n',
        5,
        3,
        ["key 'region\\x00' in 'configuration' contains U+0000 (NULL)"],
    ),
    "ignore_fields_entry": (
        'kind: Tenant\nname: acme\nignoreFields: ["displayName\\u202e"]\n',
        4,
        16,
        ["'ignoreFields.0' contains U+202E"],
    ),
}


def _write(root: Path, case: str) -> Path:
    text, *_ = CASES[case]
    specs = root / case
    specs.mkdir(parents=True)
    (specs / "spec.yaml").write_text(HEADER + text, encoding="utf-8")
    return specs


def _assert_shown_safely(text: str) -> None:
    """No character a name may not hold reaches the output: each line reads as it is."""
    raw = [names.char_label(c) for c in text if c != "\n" and names.is_forbidden(c)]
    assert not raw, f"unescaped {raw} in: {text!r}"


@pytest.mark.parametrize("case", sorted(CASES))
def test_library_reports_the_name_at_its_place(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, case)
    monkeypatch.chdir(tmp_path)
    [problem] = problems_of(case)
    _, line, column, fragments = CASES[case]
    assert problem.location is not None
    assert (problem.location.file, problem.location.line, problem.location.column) == (
        f"{case}/spec.yaml",
        line,
        column,
    ), str(problem)
    for fragment in fragments:
        assert fragment in problem.message, str(problem)
    _assert_shown_safely(str(problem))
    assert "\n" not in str(problem)


@pytest.mark.parametrize("case", sorted(CASES))
def test_cli_validate_exits_1_with_place_and_escaped_character(case: str, tmp_path: Path) -> None:
    specs = _write(tmp_path, case)
    result = run_cli(["validate", str(specs)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    _, line, column, fragments = CASES[case]
    errors = [x for x in result.stderr.splitlines() if x.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"error: {specs / 'spec.yaml'}:{line}:{column}: "), errors[0]
    for fragment in fragments:
        assert fragment in errors[0]
    _assert_shown_safely(result.output)
    assert "objects, all valid" not in result.output


def test_plan_makes_no_api_call_for_any_hostile_name(sandbox: Any, tmp_path: Path) -> None:
    specs = tmp_path / "all"
    specs.mkdir()
    for case in CASES:
        shutil.copy(_write(tmp_path / "cases", case) / "spec.yaml", specs / f"{case}.yaml")
    result = run_cli(["plan", str(specs), *target_args(sandbox)], sandbox.token)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [x for x in result.stderr.splitlines() if x.startswith("error: ")]
    assert all(re.match(r"error: \S+\.yaml:\d+:\d+: ", e) for e in errors), result.stderr
    for case, (_, line, column, _fragments) in CASES.items():
        place = f"error: {specs / case}.yaml:{line}:{column}: "
        assert any(e.startswith(place) for e in errors), place
    _assert_shown_safely(result.output)
    assert request_log(sandbox.db_path) == [], "not a single API call"


# --- the committed fixtures (also in tests/reliability/test_bad_input.py's corpus) --------


def test_hostile_names_fixture(in_case: Any) -> None:
    problems: list[SpecProblem] = in_case("hostile_names")
    got = [(p.location.line, p.location.column) for p in problems if p.location]
    names_at = [(line, 7) for line in range(3, 36, 4)]  # the nine Plan documents
    assert got == [*names_at, (41, 3)]
    text = "\n".join(p.message for p in problems)
    for fragment in [
        "must not be '..'",
        "must not be '.'",
        "U+000A (LINE FEED) at position 1 in '\\n  - Plan prod will be deleted'",
        "U+0000 (NULL) at position 4 in 'nul\\x00byte'",
        "U+202E (RIGHT-TO-LEFT OVERRIDE) at position 8 in 'invoice\\u202egpj.exe'",
        "U+200B (ZERO WIDTH SPACE) at position 5 in 'zero\\u200bwidth'",
        "(got ' padded')",
        "(got 'padded ')",
        "at most 200 characters, not 201",
        "key '..' in 'features' must not be '..'",
    ]:
        assert fragment in text
    _assert_shown_safely(text)


def test_nfc_twins_fixture_is_one_duplicate_naming_both_places(in_case: Any) -> None:
    [problem] = in_case("nfc_twins")
    assert str(problem) == (
        "b.yaml:1:1: Tenant 'café' is also defined at a.yaml:1:1: 'cafe\\u0301' here and "
        "'caf\\u00e9' there are the same name in Unicode NFC, the form names are compared in"
    )


# --- Unicode normalisation ---------------------------------------------------------------


def _load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Any:
    (tmp_path / "specs").mkdir(exist_ok=True)
    (tmp_path / "specs" / "spec.yaml").write_text(text, encoding="utf-8")
    return load_specs(tmp_path / "specs", env=env or {})


def test_names_are_stored_in_nfc_and_references_resolve_across_forms(tmp_path: Path) -> None:
    state = _load(
        tmp_path,
        f"{HEADER}kind: Plan\nname: Z\u00fcrich\ntierDefaults: {{cafe\u0301: 1}}\n---\n"
        f"{HEADER}kind: Tenant\nname: {CAFE_NFD}\nplan: Zu\u0308rich\n"
        f"configuration: {{r\u00e9gion: eu}}\nfeatures: {{sso: true}}\n"
        f"roles: {{r\u00f4le: {{members: [Jose\u0301]}}}}\n---\n"
        f"{HEADER}kind: Tenant\nname: child\nparent: {CAFE_NFC}\n---\n"
        f"{HEADER}kind: Operator\nemail: Ren\u00e9e@example.com\ntenant: {CAFE_NFD}\n",
    )
    nfc = names.nfc
    tenant = state.get(ResourceId(Kind.TENANT, CAFE_NFC))
    assert tenant is not None
    assert tenant.fields["plan"] == "Z\u00fcrich"
    assert list(tenant.fields["configuration"]) == ["r\u00e9gion"]
    assert ResourceId(Kind.SUBSCRIPTION_PLAN, "Z\u00fcrich") in state
    tiers = state.get(ResourceId(Kind.TIER_DEFAULTS, "Z\u00fcrich"))
    assert tiers is not None and tiers.fields["tiers"] == {CAFE_NFC: 1}
    assert ResourceId(Kind.FEATURE_FLAG, flag_key(CAFE_NFC, "sso")) in state
    assert ResourceId(Kind.ROLE, role_key(CAFE_NFC, "r\u00f4le")) in state
    [assignment] = state.of_kind(Kind.ROLE_ASSIGNMENT)
    assert assignment.fields["user"] == "Jos\u00e9"
    child = state.get(ResourceId(Kind.TENANT, "child"))
    assert child is not None and child.fields["parent"] == CAFE_NFC
    [operator] = state.of_kind(Kind.OPERATOR)
    assert operator.id.key == "ren\u00e9e@example.com"
    assert operator.fields["tenant"] == CAFE_NFC
    for resource in state:
        assert resource.id.key == nfc(resource.id.key)


def test_keys_of_one_mapping_equal_in_nfc_are_a_duplicate_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "p.yaml").write_text(
        f"{HEADER}kind: Plan\nname: pro\ntierDefaults:\n  {CAFE_NFC}: 1\n  {CAFE_NFD}: 2\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    [problem] = problems_of(".")
    assert str(problem) == (
        "p.yaml:6:3: duplicate key 'café' (first at line 5): 'cafe\\u0301' here and "
        "'caf\\u00e9' there are the same key in Unicode NFC, the form keys are compared in"
    )


def test_operator_emails_equal_in_nfc_and_case_are_duplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "o.yaml").write_text(
        f"{HEADER}kind: Operator\nemail: ren\u00e9e@example.com\n---\n"
        f"{HEADER}kind: Operator\nemail: RENE\u0301E@example.com\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    [problem] = problems_of(".")
    assert problem.message.startswith(
        "Operator 'ren\u00e9e@example.com' is also defined at o.yaml:1:1: "
        "'RENE\\u0301E@example.com' here"
    )


def test_plain_case_difference_is_not_called_a_normalisation_twin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "o.yaml").write_text(
        f"{HEADER}kind: Operator\nemail: a@example.com\n---\n"
        f"{HEADER}kind: Operator\nemail: A@example.com\n"
    )
    monkeypatch.chdir(tmp_path)
    [problem] = problems_of(".")
    assert problem.message == "Operator 'a@example.com' is also defined at o.yaml:1:1"


def test_names_beyond_ascii_that_follow_the_rules_are_accepted(tmp_path: Path) -> None:
    state = _load(
        tmp_path,
        f"{HEADER}kind: Tenant\nname: Globex Labs Zürich 東京 🚀\n"
        f"configuration: {{a/b: 1, 'x y': 2}}\n",
    )
    assert ResourceId(Kind.TENANT, "Globex Labs Zürich 東京 🚀") in state


# --- interpolation, file names -----------------------------------------------------------


def test_interpolated_names_are_checked_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "t.yaml").write_text(f"{HEADER}kind: Tenant\nname: ${{EVIL}}\n")
    monkeypatch.chdir(tmp_path)
    [problem] = problems_of(".", {"EVIL": "ok\n::error::forged"})
    assert str(problem) == (
        "t.yaml:3:7: 'name' contains U+000A (LINE FEED) at position 3 in "
        "'ok\\n::error::forged': control characters are not allowed"
    )


def test_a_lone_surrogate_from_the_environment_is_shown_escaped(tmp_path: Path) -> None:
    # os.environ holds undecodable bytes as lone surrogates; printing one raw would crash.
    (tmp_path / "t.yaml").write_text(f"{HEADER}kind: Tenant\nname: ${{EVIL}}\n")
    with pytest.raises(SpecError) as info:
        load_specs(tmp_path, env={"EVIL": "a\udcffb"})
    [problem] = info.value.problems
    assert "U+DCFF (SURROGATE) at position 2 in 'a\\udcffb'" in problem.message
    problem.message.encode("utf-8")  # printable as is


def test_a_file_name_with_a_newline_is_shown_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "evil\nname.yaml").write_text(f"{HEADER}kind: Tenant\nname: ..\n")
    monkeypatch.chdir(tmp_path)
    [problem] = problems_of(".")
    assert str(problem).startswith("evil\\nname.yaml:3:7: 'name' must not be '..'")


# --- reconciler.yaml ---------------------------------------------------------------------


def _config(tmp_path: Path, text: str) -> Path:
    (tmp_path / "reconciler.yaml").write_text(HEADER + text, encoding="utf-8")
    return tmp_path


def test_reconciler_yaml_names_are_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _config(
        tmp_path,
        'defaultTarget: "prod\\u202e"\n'
        'protect: ["Tenant/acme\\u200b"]\n'
        "targets:\n"
        '  "..": {api: reference, url: "https://a.example"}\n'
        '  "st\\tg": {api: "reference\\0", url: "https://a.example"}\n',
    )
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError) as info:
        load_config(".", env={})
    got = [str(p) for p in info.value.problems]
    assert [g.split(": ")[0] for g in got] == [
        "reconciler.yaml:2:16",
        "reconciler.yaml:3:11",
        "reconciler.yaml:5:3",
        "reconciler.yaml:6:3",
        "reconciler.yaml:6:18",
    ]
    assert "'defaultTarget' contains U+202E (RIGHT-TO-LEFT OVERRIDE)" in got[0]
    assert "'protect.0' contains U+200B (ZERO WIDTH SPACE)" in got[1]
    assert "key '..' in 'targets' must not be '..'" in got[2]
    assert "key 'st\\tg' in 'targets' contains U+0009 (CHARACTER TABULATION)" in got[3]
    assert "'targets.st\\tg.api' contains U+0000 (NULL)" in got[4]
    _assert_shown_safely("\n".join(got))


def test_target_names_are_nfc_and_found_in_either_form(tmp_path: Path) -> None:
    _config(
        tmp_path,
        f"defaultTarget: {CAFE_NFD}\n"
        f"targets:\n  {CAFE_NFC}: {{api: reference, url: 'https://a.example'}}\n",
    )
    config = load_config(tmp_path, env={})
    assert list(config.targets) == [CAFE_NFC]
    assert config.default_target == CAFE_NFC
    assert CAFE_NFD in config.targets and config.targets[CAFE_NFD].name == CAFE_NFC
    assert config.prune_for(CAFE_NFD) == config.prune_for(CAFE_NFC)


def test_target_names_equal_in_nfc_are_a_duplicate(tmp_path: Path) -> None:
    _config(
        tmp_path,
        "targets:\n"
        f"  {CAFE_NFC}: {{api: reference, url: 'https://a.example'}}\n"
        f"  {CAFE_NFD}: {{api: reference, url: 'https://b.example'}}\n",
    )
    with pytest.raises(SpecError) as info:
        load_config(tmp_path, env={})
    [problem] = info.value.problems
    assert "duplicate key 'café' (first at line 3)" in problem.message


# --- the rules themselves, and the schema that tells editors ----------------------------


def test_messages_name_and_escape_each_kind_of_character() -> None:
    assert names.char_label("\u202e") == "U+202E (RIGHT-TO-LEFT OVERRIDE)"
    assert names.char_label("\0") == "U+0000 (NULL)"
    assert names.char_label("\x7f") == "U+007F (DELETE)"
    assert names.char_label("\x90") == "U+0090 (C1 CONTROL)"
    assert names.visible("a\nb\u202ec\u200bd\x00e\U000e0041") == (
        "a\\nb\\u202ec\\u200bd\\x00e\\U000e0041"
    )
    assert names.visible("plain café, 東京") == "plain café, 東京"
    assert names.spelled(CAFE_NFD) == "cafe\\u0301"


@pytest.mark.parametrize(
    "name",
    ["acme", "Acme Corp", "a", "..a", "a..", "...", "x" * 200, "Zürich", "東京", "a.b:c-d_e"],
)
def test_good_names_pass_every_rule(name: str) -> None:
    assert names.text_problem(name, max_length=200) is None


def _schema_pattern(kind: str) -> re.Pattern[str]:
    return re.compile(names_schema()[kind]["pattern"])


def names_schema() -> dict[str, Any]:
    defs: dict[str, Any] = spec_json_schema()["$defs"]
    return defs


def test_the_schema_patterns_agree_with_the_loader_on_every_bmp_character() -> None:
    name, key = _schema_pattern("Name"), _schema_pattern("Key")
    for cp in range(0x10000):
        if 0xD800 <= cp <= 0xDFFF:
            continue  # JSON Schema (ECMA-262) patterns cannot name lone surrogates
        char = chr(cp)
        inside = f"a{char}b"
        expect_key = names.text_problem(inside, max_length=200) is None
        assert bool(key.match(inside)) == expect_key, names.char_label(char)
        expect_name = expect_key and names.no_slash(inside) is None
        assert bool(name.match(inside)) == expect_name, names.char_label(char)


@pytest.mark.parametrize(
    ("kind", "value", "ok"),
    [
        ("Name", "..", False),
        ("Name", ".", False),
        ("Name", " acme", False),
        ("Name", "acme ", False),
        ("Name", "acme corp", True),
        ("Name", "a/b", False),
        ("Key", "a/b", True),
        ("FlagKey", "..", False),
        ("FlagKey", "beta_dashboard", True),
        ("FlagKey", "sso?x=1", False),
        ("Email", "a@example.com", True),
        ("Email", "a\u200b@example.com", False),
    ],
)
def test_the_schema_patterns_refuse_what_the_loader_refuses(
    kind: str, value: str, ok: bool
) -> None:
    assert bool(_schema_pattern(kind).match(value)) is ok


def test_the_schema_checks_every_key_with_property_names() -> None:
    defs = names_schema()
    tenant = defs["TenantSpec"]["properties"]
    assert tenant["features"]["propertyNames"] == {"$ref": "#/$defs/FlagKey"}
    assert tenant["roles"]["propertyNames"] == {"$ref": "#/$defs/Name"}
    assert tenant["configuration"]["propertyNames"] == {"$ref": "#/$defs/Key"}
    assert tenant["name"]["$ref"] == "#/$defs/Name"
    assert defs["Name"]["maxLength"] == 200 and defs["FlagKey"]["maxLength"] == 100
    assert "patternProperties" not in json.dumps(spec_json_schema())


# --- the valid specs stay valid -----------------------------------------------------------

VALID_TREES = ["specs", *sorted(f"examples/{p.name}" for p in (ROOT / "examples").iterdir())]


@pytest.mark.parametrize("tree", VALID_TREES)
def test_the_shipped_specs_still_validate(tree: str) -> None:
    # An example named after a dialect is run with --api (its reconciler.yaml says so).
    name = Path(tree).name
    api = ["--api", name] if name in [line.name for line in dialects.REGISTRY] else []
    result = run_cli(["validate", str(ROOT / tree), *api])
    assert result.exit_code == 0, result.output
    assert "all valid" in result.output


def test_the_invalid_fixtures_are_in_the_bad_input_corpus() -> None:
    for case in ("hostile_names", "nfc_twins"):
        assert (INVALID / case).is_dir()


def test_keys_written_in_nfd_keep_their_place_in_the_desired_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "t.yaml").write_text(
        f"{HEADER}kind: Tenant\nname: t\nroles:\n  ro\u0302le:\n    permissions: [read]\n"
        "configuration:\n  re\u0301gion: eu\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    state = load_specs(".", env={})
    role = state.get(ResourceId(Kind.ROLE, role_key("t", "r\u00f4le")))
    assert role is not None and str(role.source) == "t.yaml:5:3"
    assert str(role.field_sources["permissions"]) == "t.yaml:6:18"
    tenant = state.get(ResourceId(Kind.TENANT, "t"))
    assert tenant is not None
    assert str(tenant.field_sources["configuration.r\u00e9gion"]) == "t.yaml:8:3"

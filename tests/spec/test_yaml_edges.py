"""Reading files: limits, unreadable files, YAML typing rules, interpolation."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.model import Kind, ResourceId
from reconciler.spec import load_specs
from reconciler.spec.interpolate import interpolate
from reconciler.spec.yamlload import MAX_FILE_BYTES
from tests.spec.helpers import problems_of

HEADER = "apiVersion: reconciler.dev/v1\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_unreadable_file_is_a_problem_and_others_still_load(cwd: Path) -> None:
    write(cwd / "specs/plan.yaml", HEADER + "kind: Plan\nname: pro\nrole: x\n")
    (cwd / "specs/gone.yaml").symlink_to(cwd / "missing.yaml")
    problems = problems_of("specs")
    assert [(str(p.location), p.message) for p in problems] == [
        ("specs/gone.yaml:1:1", "cannot read file: No such file or directory"),
        (
            "specs/plan.yaml:4:1",
            "unknown field 'role' (allowed: apiVersion, kind, name, "
            "displayName, description, tierDefaults, protect, ignoreFields)",
        ),
    ]


def test_huge_file_is_refused_unparsed(cwd: Path) -> None:
    write(cwd / "big.yaml", HEADER + "kind: Plan\nname: pro\ndescription: " + "x" * MAX_FILE_BYTES)
    [problem] = problems_of(".")
    assert str(problem.location) == "big.yaml:1:1"
    assert "larger than 10 MB" in problem.message


def test_alias_bomb_is_refused_at_the_first_anchor(cwd: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}]" for i in range(9)]
    write(
        cwd / "bomb.yaml", HEADER + "kind: Tenant\nname: x\nconfiguration:\n  " + "\n  ".join(lines)
    )
    [problem] = problems_of(".")
    assert str(problem.location) == "bomb.yaml:5:6"
    assert "anchor '&a' is not allowed" in problem.message


def test_alias_without_anchor_is_refused(cwd: Path) -> None:
    write(cwd / "t.yaml", HEADER + "kind: Tenant\nname: x\nplan: *other\n")
    [problem] = problems_of(".")
    assert str(problem.location) == "t.yaml:4:7"
    assert "alias '*other' is not allowed" in problem.message


def test_missing_path_is_named(cwd: Path) -> None:
    [problem] = problems_of("nowhere")
    assert problem.location is None
    assert problem.message == "spec path 'nowhere' does not exist"


def test_control_characters_are_located(cwd: Path) -> None:
    write(cwd / "t.yaml", HEADER + "kind: Tenant\nname: a\u0007b\n")
    [problem] = problems_of(".")
    assert str(problem.location) == "t.yaml:3:8"
    assert "invalid character" in problem.message


def test_keys_are_text_and_dates_stay_strings(cwd: Path) -> None:
    write(
        cwd / "t.yaml",
        HEADER + "kind: Tenant\nname: acme\nconfiguration:\n  1: one\n  since: 2024-01-31\n"
        "  port: ${PORT}\n  off: no\nfeatures:\n  on: true\n",
    )
    state = load_specs(".", env={"PORT": "8080"})
    acme = state.get(ResourceId(Kind.TENANT, "acme"))
    assert acme is not None
    assert acme.fields["configuration"] == {
        "1": "one",
        "since": "2024-01-31",
        "port": "8080",
        "off": False,
    }
    assert ResourceId(Kind.FEATURE_FLAG, "acme/on") in state


def test_bom_and_crlf_are_accepted(cwd: Path) -> None:
    (cwd / "p.yaml").write_bytes(
        b"\xef\xbb\xbf" + (HEADER + "kind: Plan\nname: pro\n").replace("\n", "\r\n").encode()
    )
    assert ResourceId(Kind.SUBSCRIPTION_PLAN, "pro") in load_specs(".")


def test_interpolated_value_is_validated(cwd: Path) -> None:
    write(cwd / "t.yaml", HEADER + "kind: Tenant\nname: acme\nstatus: ${STATUS}\n")
    [problem] = problems_of(".", env={"STATUS": "paused"})
    assert str(problem.location) == "t.yaml:4:9"
    assert (
        "'status' must be 'active', 'suspended' or 'inactive', not the string 'paused'"
        in problem.message
    )


def test_unset_variable_is_reported_once_not_also_as_a_bad_value(cwd: Path) -> None:
    write(cwd / "t.yaml", HEADER + "kind: Tenant\nname: acme\nstatus: ${STATUS}\n")
    [problem] = problems_of(".")
    assert problem.message == "environment variable 'STATUS' is not set (used as '${STATUS}')"


@pytest.mark.parametrize(
    ("text", "result", "errors"),
    [
        ("plain", "plain", []),
        ("${A}-${B}", "1-2", []),
        ("$${A}", "${A}", []),
        ("$$${A}", "$${A}", []),
        ("$A and $", "$A and $", []),
        ("${C}", "${C}", ["environment variable 'C' is not set (used as '${C}')"]),
        ("${A", "${A", ["unterminated '${' (write '$${' for a literal '${')"]),
        ("${REF}", "${A}", []),  # a substituted value is not interpolated again
    ],
)
def test_interpolate(text: str, result: str, errors: list[str]) -> None:
    assert interpolate(text, {"A": "1", "B": "2", "REF": "${A}"}) == (result, errors)

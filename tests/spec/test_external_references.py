"""External references in the spec language: ``managed: false`` documents and ``external:``.

A spec tree may refer to live objects it does not manage; references to them
resolve, and what such a declaration may not say is refused at its file:line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import SourceLocation, SpecError
from reconciler.model import Kind, ResourceId
from reconciler.spec import load_config, load_specs
from tests.spec.helpers import problems_of

HEAD = "apiVersion: reconciler.dev/v1\n"
ENTERPRISE = ResourceId(Kind.SUBSCRIPTION_PLAN, "enterprise")
HOLDING = ResourceId(Kind.TENANT, "holding")


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def tenant(name: str = "acme", plan: str = "enterprise", parent: str = "holding") -> str:
    return f"{HEAD}kind: Tenant\nname: {name}\nplan: {plan}\nparent: {parent}\n"


def external(kind: str, name: str) -> str:
    return f"{HEAD}kind: {kind}\nname: {name}\nmanaged: false\n"


def test_managed_false_documents_resolve_references_and_load_as_not_managed(
    tmp_path: Path,
) -> None:
    specs = tree(
        tmp_path,
        {
            "ext.yaml": external("Plan", "enterprise") + "---\n" + external("Tenant", "holding"),
            "acme.yaml": tenant(),
        },
    )
    desired = load_specs(specs, env={})
    plan, holding = desired.get(ENTERPRISE), desired.get(HOLDING)
    assert plan is not None and holding is not None
    assert not plan.managed and not holding.managed
    assert plan.fields == {} and holding.fields == {}, "nothing of it is compared"
    assert plan.source == SourceLocation(str(specs / "ext.yaml"), 1, 1)
    assert holding.source is not None and holding.source.line == 6
    acme = desired.get(ResourceId(Kind.TENANT, "acme"))
    assert acme is not None and acme.managed
    assert acme.fields == {"plan": "enterprise", "parent": "holding"}


def test_managed_true_is_the_default_and_changes_nothing(tmp_path: Path) -> None:
    specs = tree(tmp_path, {"p.yaml": f"{HEAD}kind: Plan\nname: pro\nmanaged: true\n"})
    plan = load_specs(specs, env={}).get(ResourceId(Kind.SUBSCRIPTION_PLAN, "pro"))
    assert plan is not None and plan.managed


def test_every_other_field_of_a_managed_false_document_is_an_error_where_written(
    tmp_path: Path,
) -> None:
    text = (
        f"{HEAD}kind: Tenant\nname: holding\nmanaged: false\n"
        "displayName: Holding\nfeatures: {sso: true}\nprotect: true\n"
    )
    specs = tree(tmp_path, {"ext.yaml": text, "acme.yaml": tenant(plan="pro", parent="holding")})
    specs.joinpath("pro.yaml").write_text(f"{HEAD}kind: Plan\nname: pro\n")
    problems = problems_of(specs)
    file = str(specs / "ext.yaml")
    assert [
        (p.location and (p.location.file, p.location.line, p.location.column)) for p in problems
    ] == [
        (file, 5, 1),
        (file, 6, 1),
        (file, 7, 1),
    ]
    for problem, field in zip(problems, ["displayName", "features", "protect"], strict=True):
        assert problem.message.startswith(
            f"'{field}' cannot be set on a document with 'managed: false'"
        ), problem.message
        assert "allowed: apiVersion, kind, name, managed" in problem.message


def test_a_managed_false_document_is_still_checked_for_its_own_key(tmp_path: Path) -> None:
    specs = tree(
        tmp_path,
        {
            "ext.yaml": f"{HEAD}kind: Plan\nname: 'a/b'\nmanaged: false\n",
            "op.yaml": f"{HEAD}kind: Operator\nemail: a@example.com\nmanaged: false\n",
            "bad.yaml": f"{HEAD}kind: Plan\nname: gold\nmanaged: 'no'\n",
        },
    )
    by_file = {
        Path(p.location.file).name: (p.location.line, p.location.column, p.message)
        for p in problems_of(specs)
        if p.location
    }
    line, _, message = by_file["ext.yaml"]
    assert line == 3 and "'/'" in message
    line, column, message = by_file["op.yaml"]
    assert (line, column) == (4, 10)
    assert "not Operator" in message and "use 'protect'" in message
    assert by_file["bad.yaml"] == (4, 10, "'managed' must be true or false, not the string 'no'")


def test_reconciler_yaml_external_resolves_references_at_the_top_and_per_target(
    tmp_path: Path,
) -> None:
    config = (
        f"{HEAD}external: [Plan/enterprise]\n"
        "targets:\n"
        "  prod:\n"
        "    api: reference\n"
        "    url: https://platform.example.com\n"
        "    external:\n"
        "      - Tenant/holding\n"
    )
    specs = tree(tmp_path, {"reconciler.yaml": config, "acme.yaml": tenant()})
    desired = load_specs(specs, env={})
    assert ENTERPRISE not in desired and HOLDING not in desired, "config declarations are rules"
    loaded = load_config(specs, env={})
    where = str(specs / "reconciler.yaml")
    assert dict(loaded.rules.external) == {ENTERPRISE: SourceLocation(where, 2, 12)}
    assert dict(loaded.targets["prod"].rules.external) == {
        ENTERPRISE: SourceLocation(where, 2, 12),
        HOLDING: SourceLocation(where, 8, 9),
    }


def test_external_entries_that_name_no_object_are_refused_where_written(tmp_path: Path) -> None:
    config = f"{HEAD}external:\n  - Plna/enterprise\n  - FeatureFlag/acme/sso\n"
    tree(tmp_path, {"reconciler.yaml": config})
    with pytest.raises(SpecError) as info:
        load_config(tmp_path, env={})
    messages = [(p.location.line if p.location else 0, p.message) for p in info.value.problems]
    assert [line for line, _ in messages] == [3, 4]
    assert "did you mean 'Plan'?" in messages[0][1]
    assert "only objects other documents refer to can be external" in messages[1][1]


def test_a_spec_cannot_manage_what_reconciler_yaml_declares_external(tmp_path: Path) -> None:
    specs = tree(
        tmp_path,
        {
            "reconciler.yaml": f"{HEAD}external: [Plan/enterprise]\n",
            "plan.yaml": f"{HEAD}kind: Plan\nname: enterprise\n",
        },
    )
    [problem] = problems_of(specs)
    assert problem.location is not None and problem.location.file.endswith("plan.yaml")
    assert "is declared external in reconciler.yaml at" in problem.message
    assert f"{specs / 'reconciler.yaml'}:2:12" in problem.message


def test_a_managed_and_an_external_document_of_one_object_are_duplicates(tmp_path: Path) -> None:
    specs = tree(
        tmp_path,
        {
            "a.yaml": external("Plan", "enterprise"),
            "b.yaml": f"{HEAD}kind: Plan\nname: enterprise\n",
        },
    )
    [problem] = problems_of(specs)
    assert "is also defined at" in problem.message
    assert "declares it external ('managed: false')" in problem.message


def test_an_unknown_reference_says_how_to_declare_it_external(tmp_path: Path) -> None:
    specs = tree(tmp_path, {"acme.yaml": f"{HEAD}kind: Tenant\nname: acme\nplan: enterprise\n"})
    [problem] = problems_of(specs)
    assert "references unknown plan 'enterprise'" in problem.message
    assert "'managed: false'" in problem.message and "'external:'" in problem.message


def test_an_unreadable_reconciler_yaml_may_be_what_declares_it(tmp_path: Path) -> None:
    specs = tree(
        tmp_path,
        {
            "reconciler.yaml": f"{HEAD}external: [Plan/enterprise]\nprune: {{Plan: maybe}}\n",
            "acme.yaml": f"{HEAD}kind: Tenant\nname: acme\nplan: enterprise\n",
        },
    )
    [problem] = problems_of(specs)  # the config's own problem is load_config's to report
    assert "it may be in a file that could not be read" in problem.message

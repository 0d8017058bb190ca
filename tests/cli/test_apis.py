"""``reconciler apis``: the support matrix, from the providers' own declarations.

Dialects installed from other distributions are in tests/test_dialect_plugins.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler import dialects as registry
from reconciler.model import Kind
from reconciler.providers import describe, dialects
from reconciler.report.support import END, START, render_markdown
from tests.integration.helpers import run_cli

DOCS = Path(__file__).resolve().parents[2] / "docs" / "apis" / "README.md"
ALL_DIALECTS = [
    "reference",
    "operator-v1",
    "iaas-v1",
    "admin-operators",
    "platform-admin",
    "tenants-v1",
]


def test_every_dialect_is_listed_with_every_kind() -> None:
    built_in = [line.name for line in registry.REGISTRY]
    assert built_in == ALL_DIALECTS  # the five documented APIs and the reference
    assert dialects()[: len(built_in)] == built_in  # then those installed here, if any
    result = run_cli(["apis"])
    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[0].split()
    assert header == dialects()
    for kind in Kind:
        assert any(line.startswith(kind.value + " ") for line in result.stdout.splitlines())


def test_matrix_json_says_what_each_dialect_can_do() -> None:
    table = json.loads(run_cli(["apis", "--format", "json"]).stdout)
    assert table["admin-operators"]["Operator"] == "C.SRD"
    assert table["admin-operators"]["Tenant"] == "-"
    assert table["reference"]["Tenant"] == "CUSRD"
    assert table["reference"]["DeviceTier"] == "-"
    assert table["reference"]["Plan"] == "CU..."


def test_one_dialect_in_detail() -> None:
    result = run_cli(["apis", "reference"])
    assert "Operator: create, update, suspend, resume, delete" in result.stdout
    assert "role: one of operator, operator-admin" in result.stdout
    details = json.loads(run_cli(["apis", "reference", "--format", "json"]).stdout)
    assert details["kinds"]["Plan"]["operations"] == ["create", "update"]


def test_an_unknown_dialect_names_the_known_ones() -> None:
    result = run_cli(["apis", "nope"])
    assert result.exit_code == 1
    assert "unknown API dialect 'nope'" in result.stderr
    assert f"(known: {', '.join(dialects())})" in result.stderr


def test_the_docs_page_is_exactly_the_markdown_output() -> None:
    """docs/apis/README.md is generated: the built-in dialects, their pages and the matrix.

    Only the built-ins: the page is the same whatever this machine has installed.
    """
    result = run_cli(["apis", "--format", "markdown"])
    assert result.exit_code == 0, result.output
    assert DOCS.read_text(encoding="utf-8") == result.stdout, (
        "docs/apis/README.md is stale: run "
        "`reconciler apis --format markdown > docs/apis/README.md`"
    )
    block = result.stdout.split(START, 1)[1].split(END, 1)[0].strip()
    built_in = [line.name for line in registry.REGISTRY]
    assert block == render_markdown([describe(name) for name in built_in])
    for name in built_in:
        assert f"[{name}.md]({name}.md)" in result.stdout
        assert (DOCS.parent / f"{name}.md").is_file(), f"docs/apis/{name}.md is missing"


EXTRA = """
from reconciler.model import Action, Kind
from reconciler.providers import Capabilities, KindSupport, Provider
from reconciler.sandbox.dialect import Dialect


class ExtraProvider(Provider):
    capabilities = Capabilities(
        dialect="extra-v1",
        title="An API from outside the package",
        supports={Kind.TENANT: KindSupport(frozenset({Action.CREATE}), frozenset())},
    )


DIALECT = Dialect(
    name="extra-v1", title="Extra", collections=(), install=lambda app, store, token: None
)
"""


def test_a_dialect_is_its_modules_and_one_registry_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A provider and a sandbox from outside the package, plus one line: nothing else."""
    (tmp_path / "extra_dialect.py").write_text(EXTRA, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    line = registry.DialectEntry(
        name="extra-v1",
        provider="extra_dialect:ExtraProvider",
        sandbox="extra_dialect:DIALECT",
        page="extra-v1.md",
    )
    monkeypatch.setattr(registry, "REGISTRY", (*registry.REGISTRY, line))
    header = run_cli(["apis"]).stdout.splitlines()[0].split()
    assert header[: len(ALL_DIALECTS) + 1] == [*ALL_DIALECTS, "extra-v1"]
    page = run_cli(["apis", "--format", "markdown"]).stdout
    assert "| `extra-v1` | An API from outside the package | [extra-v1.md](extra-v1.md) |" in page
    assert "| Tenant | `CUSRD` | `CUSRD` | `C...D` | `-` | `CU...` | `CUSR.` | `C....` |" in page
    from reconciler.sandbox.app import available_dialects, create_app

    assert "extra-v1" in available_dialects()
    app = create_app("extra-v1", db_path=tmp_path / "extra.sqlite", token="t")
    assert app.state.dialect == "extra-v1"
    app.state.store.close()

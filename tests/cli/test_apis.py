"""``reconciler apis``: the support matrix, from the providers' own declarations."""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.model import Kind
from reconciler.providers import dialects
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
    available = dialects()
    assert available == ALL_DIALECTS  # the five documented APIs and the reference
    result = run_cli(["apis"])
    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[0].split()
    assert header == available
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


def test_the_docs_table_is_generated_from_the_code() -> None:
    text = DOCS.read_text()
    block = text.split(START, 1)[1].split(END, 1)[0].strip()
    assert block == render_markdown(), (
        "docs/apis/README.md is stale: run `python -m reconciler.report.support`"
    )

"""docs/json-report.md documents exactly the keys a real plan's JSON report has.

Each table of the page is read (first column, the key in backticks) and held
against ``plan --format json`` run against the reference sandbox over HTTP:
once plain (the "always" keys), once with ``--show-calls`` and ``--base`` (all
of them). A key added to the report, or dropped from it, fails here until the
page says so; so does a version bump the page does not name.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from reconciler.report.json_report import FORMAT_VERSION
from tests.integration.helpers import REPO, copy_specs, run_cli, target_args

DOC = (REPO / "docs" / "json-report.md").read_text(encoding="utf-8")


def table(heading: str) -> list[list[str]]:
    """The body rows of the first table under ``heading`` (a Markdown heading line), as cells."""
    lines = DOC[DOC.index(f"\n{heading}\n") :].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[first + 2 :]:  # after the header and its |---| line
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    assert rows, f"no table under {heading}"
    return rows


def keys(heading: str, when: str | None = None) -> list[str]:
    """The documented keys of a table, in order; ``when``: only rows of that "when" column."""
    found = []
    for row in table(heading):
        if when is None or row[2] == when:
            found.append(re.fullmatch(r"`([^`]+)`", row[0]).group(1))  # type: ignore[union-attr]
    return found


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    """The starter specs, with a second copy changed a little as the base to compare with."""
    here = copy_specs(tmp_path / "branch")
    base = copy_specs(tmp_path / "base")
    acme = base / "tenants" / "acme.yaml"
    acme.write_text(acme.read_text().replace("Acme Corporation", "Acme Corp"), encoding="utf-8")
    return here


def report(sandbox: Any, specs: Path, *options: str) -> dict[str, Any]:
    args = ["plan", str(specs), *target_args(sandbox), "--format", "json", *options]
    result = run_cli(args, sandbox.token)
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_the_documented_keys_are_the_keys_of_a_real_report(fresh_sandbox: Any, specs: Path) -> None:
    sandbox = fresh_sandbox("reference")
    plain = report(sandbox, specs)
    assert list(plain) == keys("## Top-level keys", when="always")

    base = specs.parent.parent / "base" / "specs"
    full = report(sandbox, specs, "--show-calls", "--base", str(base))
    assert list(full) == keys("## Top-level keys")

    assert list(full["target"]) == keys("### `target`")
    assert list(full["summary"]) == keys("### `summary`")
    change = full["changes"][0]
    assert list(change) == keys("### A change")
    assert list(change["fields"][0]) == keys("### A field move")
    assert list(full["pr_changes"][0]) == keys("### A change")
    assert list(full["calls"][0]) == keys("### A call")


def test_the_page_names_the_current_version_and_its_example_is_of_it() -> None:
    assert f"It is **{FORMAT_VERSION}**." in DOC
    versions = [row[0] for row in table("## Version and compatibility")]
    assert versions[-1] == str(FORMAT_VERSION)
    example = re.search(r"## Example\n.*?```json\n(.*?)\n```", DOC, re.S)
    assert example is not None
    document = json.loads(example.group(1))
    assert document["format_version"] == FORMAT_VERSION
    assert list(document) == [*keys("## Top-level keys", when="always"), "calls", "calls_unknown"]

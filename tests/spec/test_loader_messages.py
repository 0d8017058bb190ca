"""Spec errors that say everything at once, in the author's words (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import SpecError
from reconciler.spec import load_specs


def problems(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "a.yaml").write_text(text)
    with pytest.raises(SpecError) as caught:
        load_specs(tmp_path)
    return [str(p) for p in caught.value.problems]


def test_a_missing_api_version_does_not_hide_the_other_problems(tmp_path: Path) -> None:
    found = problems(tmp_path, "kind: Tenant\nname: x\nstatus: bogus\nplan: 5\n")
    assert any("missing required field 'apiVersion'" in p for p in found)
    assert any("a.yaml:3:9: 'status' must be" in p for p in found)
    assert any("a.yaml:4:7: 'plan' must be a string" in p for p in found)


def test_a_kind_written_as_a_list_is_not_shown_as_python(tmp_path: Path) -> None:
    found = problems(tmp_path, "apiVersion: reconciler.dev/v1\nkind: [Tenant]\nname: x\n")
    assert any("a.yaml:2:7: 'kind' must be one of" in p for p in found)
    assert any("not a list (write it as one value: kind: Tenant)" in p for p in found)
    assert all("['Tenant']" not in p for p in found)


def test_a_file_holding_only_null_is_named(tmp_path: Path) -> None:
    found = problems(tmp_path, "~\n")
    assert len(found) == 1 and "a.yaml: empty, only comments or only null" in found[0]

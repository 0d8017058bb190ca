"""The library API as a program uses it: ``core.apply`` twice on one target."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler import core
from tests.integration.helpers import copy_specs


def test_an_apply_with_nothing_to_do_is_ok(
    sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second apply (or one that lost a race to another) finds nothing to do: ok."""
    specs = copy_specs(tmp_path)
    monkeypatch.setenv("RECONCILER_TOKEN", sandbox.token)
    choice = core.TargetChoice(dialect="reference", url=sandbox.url)
    first = core.apply(specs, choice)
    assert first.ok and first.result is not None and first.result.applied
    second = core.apply(specs, choice)
    assert second.result is None and second.converged
    assert second.ok

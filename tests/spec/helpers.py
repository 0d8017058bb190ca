"""Shared by the spec tests: fixture paths and a loader that collects problems."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.errors import SpecError, SpecProblem
from reconciler.spec import load_specs

DATA = Path(__file__).resolve().parent.parent / "data"
VALID = DATA / "valid"
INVALID = DATA / "invalid"

VALID_ENV = {"REGION": "eu-west-1", "STAGING_URL": "https://staging.example.com"}

Problems = Callable[..., list[SpecProblem]]


def problems_of(path: Path | str, env: dict[str, str] | None = None) -> list[SpecProblem]:
    """The problems ``load_specs`` raises for ``path``; fails the test if it raises none."""
    with pytest.raises(SpecError) as info:
        load_specs(path, env=env or {})
    return info.value.problems

"""Fixtures for the spec tests."""

from __future__ import annotations

import pytest

from reconciler.errors import SpecProblem
from tests.spec.helpers import INVALID, Problems, problems_of


@pytest.fixture
def in_case(monkeypatch: pytest.MonkeyPatch) -> Problems:
    """``in_case("name")``: the problems of ``tests/data/invalid/name``, paths relative to it."""

    def run(name: str, env: dict[str, str] | None = None) -> list[SpecProblem]:
        monkeypatch.chdir(INVALID / name)
        return problems_of(".", env)

    return run

"""Shared fixtures: a real sandbox server per test, on a fresh SQLite file.

The token is fixed and recognisable so a test can assert it never leaks into
output or errors.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from reconciler.sandbox.faults import FaultConfig
from reconciler.sandbox.server import EmbeddedSandbox

SANDBOX_TOKEN = "test-token-SECRET-123"

SandboxFactory = Callable[..., EmbeddedSandbox]


def request_log(db_path: Path) -> list[tuple[str, str, int]]:
    """Every request a sandbox served, in order: (method, path, status)."""
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT method, path, status FROM request_log ORDER BY seq").fetchall()
    return [(m, p, int(s)) for m, p, s in rows]


@pytest.fixture
def sandbox_factory(tmp_path: Path) -> Iterator[SandboxFactory]:
    """Start sandboxes: ``sandbox_factory("reference", db_path=..., token=..., seed=...)``.

    Each is stopped when the test ends. By default each gets its own database
    in ``tmp_path`` and the test token.
    """
    with ExitStack() as stack:
        count = 0

        def start(
            dialect: str = "reference",
            *,
            db_path: Path | None = None,
            token: str | None = SANDBOX_TOKEN,
            seed: Mapping[str, Any] | None = None,
            faults: FaultConfig | None = None,
        ) -> EmbeddedSandbox:
            nonlocal count
            count += 1
            path = db_path or tmp_path / f"sandbox-{dialect}-{count}.sqlite"
            return stack.enter_context(
                EmbeddedSandbox(dialect, db_path=path, token=token, seed=seed, faults=faults)
            )

        yield start


@pytest.fixture
def sandbox(sandbox_factory: SandboxFactory, tmp_path: Path) -> EmbeddedSandbox:
    """A running reference sandbox on ``tmp_path / "sandbox.sqlite"``."""
    return sandbox_factory("reference", db_path=tmp_path / "sandbox.sqlite")


@pytest.fixture(autouse=True)
def _journal_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Applies journal their writes; keep every test's journal out of the repository."""
    monkeypatch.setenv("RECONCILER_JOURNAL", str(tmp_path / "journal.jsonl"))

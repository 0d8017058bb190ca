"""reconciler's pytest plugin: sandbox servers and a CLI runner for a dialect's tests.

Registered as the ``pytest11`` entry point ``reconciler``, so every pytest run
where reconciler is installed loads it. It therefore imports nothing heavy when
loaded: the sandbox's web server, the HTTP client and the CLI are imported
inside the fixtures, by the tests that use them.

Fixtures:

- ``reconciler_sandbox``: ``reconciler_sandbox("my-dialect", seed=..., faults=...)``
  starts that dialect's sandbox on 127.0.0.1 (a free port; started and stopped on
  events, never sleeps) with its SQLite file in ``tmp_path``; each is stopped when
  the test ends. ``db_path=`` restarts a stopped one on the same database.
- ``reconciler_cli``: ``reconciler_cli(["plan", "specs"], env={...})`` runs the
  ``reconciler`` command in-process (click's ``CliRunner``) and returns its result.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

if TYPE_CHECKING:
    from click.testing import Result

    from reconciler.sandbox.faults import FaultConfig
    from reconciler.sandbox.server import EmbeddedSandbox

SANDBOX_TOKEN = "reconciler-kit-token-SECRET"
"""The sandboxes' bearer token: fixed and recognisable, so a test can assert it never
appears in output."""


class SandboxStarter(Protocol):
    """What ``reconciler_sandbox`` is: call it to start a sandbox for this test."""

    def __call__(
        self,
        dialect: str,
        *,
        seed: Mapping[str, Any] | None = None,
        faults: FaultConfig | None = None,
        db_path: Path | None = None,
    ) -> EmbeddedSandbox: ...


class CliRun(Protocol):
    """What ``reconciler_cli`` is: call it to run one ``reconciler`` command."""

    def __call__(self, args: Sequence[str], *, env: Mapping[str, str] | None = None) -> Result: ...


def sandbox_starter(stack: ExitStack, root: Path, token: str = SANDBOX_TOKEN) -> SandboxStarter:
    """A starter of sandboxes with ``token``, each on its own database in ``root`` (or
    on ``db_path``), each stopped when ``stack`` closes."""
    from reconciler.sandbox.server import EmbeddedSandbox

    count = 0

    def start(
        dialect: str,
        *,
        seed: Mapping[str, Any] | None = None,
        faults: FaultConfig | None = None,
        db_path: Path | None = None,
    ) -> EmbeddedSandbox:
        nonlocal count
        count += 1
        path = db_path or root / f"sandbox-{count}.sqlite"
        sandbox = EmbeddedSandbox(dialect, db_path=path, token=token, seed=seed, faults=faults)
        return stack.enter_context(sandbox)

    return start


@pytest.fixture
def reconciler_sandbox(tmp_path: Path) -> Iterator[SandboxStarter]:
    """Start sandboxes for this test; each on its own database in ``tmp_path``."""
    with ExitStack() as stack:
        yield sandbox_starter(stack, tmp_path)


@pytest.fixture
def reconciler_cli() -> CliRun:
    """Run ``reconciler`` commands in this process; ``env`` adds to the environment."""
    from click.testing import CliRunner

    from reconciler.cli import main

    def run(args: Sequence[str], *, env: Mapping[str, str] | None = None) -> Result:
        return CliRunner().invoke(main, list(args), env=dict(env or {}), catch_exceptions=False)

    return run


__all__ = [
    "SANDBOX_TOKEN",
    "CliRun",
    "SandboxStarter",
    "reconciler_cli",
    "reconciler_sandbox",
    "sandbox_starter",
]

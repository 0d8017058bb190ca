"""Shared helpers for integration tests: run the CLI against a live sandbox, read its log."""

from __future__ import annotations

import functools
import shutil
import sqlite3
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import httpx
from click.testing import CliRunner, Result

from reconciler.cli import main

REPO = Path(__file__).resolve().parents[2]


def copy_tree(source: Path, dest: Path, **options: Any) -> Path:
    """``shutil.copytree`` of a spec tree without its local state (``.reconciler/``, which a
    run of the README's main command leaves in ``specs/``)."""
    options.setdefault("ignore", shutil.ignore_patterns(".reconciler"))
    return Path(shutil.copytree(source, dest, **options))


def copy_specs(dest: Path) -> Path:
    target = dest / "specs"
    copy_tree(REPO / "specs", target)
    return target


def run_cli(args: list[str], token: str | None = None, **env: str) -> Result:
    environ = dict(env)
    if token is not None:
        environ["RECONCILER_TOKEN"] = token
    return CliRunner().invoke(main, args, env=environ, catch_exceptions=False)


def target_args(sandbox: Any) -> list[str]:
    return ["--api", sandbox.dialect, "--url", sandbox.url]


def requests(db_path: Path) -> list[tuple[str, str, int]]:
    """Every request the sandbox served, in order: (method, path, status)."""
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT method, path, status FROM request_log ORDER BY rowid").fetchall()
    return [(m, p, int(s)) for m, p, s in rows]


def writes(db_path: Path, since: int = 0) -> list[tuple[str, str, int]]:
    return [r for r in requests(db_path)[since:] if r[0] != "GET"]


@functools.cache
def tls() -> ssl.SSLContext:
    """The TLS context of every HTTP client the tests make (``verify=tls()``).

    httpx builds one per client otherwise, loading the CA store each time: about
    20 ms of CPU for a client of a plain-HTTP server on 127.0.0.1, hundreds of
    times a run. Verification is the default all the same.
    """
    return ssl.create_default_context()


def api(sandbox: Any) -> httpx.Client:
    """A plain HTTP client acting as a person changing the platform by hand."""
    return httpx.Client(
        base_url=sandbox.url + "/api/v1/operator",
        headers={"Authorization": f"Bearer {sandbox.token}"},
        verify=tls(),
    )


GIT_SETTINGS = ("-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.templateDir=")
"""A throwaway identity; no template (a new repository gets no sample hooks: fewer files)."""


def git(repo: Path, *args: str) -> None:
    """Run git in ``repo`` as a throwaway identity (for tests that need a base branch)."""
    import subprocess

    subprocess.run(
        ["git", *GIT_SETTINGS, *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def commit_main(repo: Path) -> None:
    """Make ``repo`` a git repository whose ``main`` holds everything in it (the base)."""
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")


def assert_converges_through_faults(
    sandbox_factory: Any,
    dialect: str,
    specs: Path,
    faults: Any,
    *,
    base_path: str = "",
    seed: Any = None,
    token: str = "test-token-SECRET-123",
) -> Any:
    """Apply ``specs`` up to 3 times through a faulty sandbox, then plan on a calm restart
    of the same database: it must be exactly converged. Returns the noisy sandbox."""
    noisy = sandbox_factory(dialect, seed=seed, faults=faults)
    args = ["--api", dialect, "--url"]
    outputs = []
    for _ in range(3):
        result = run_cli(
            ["apply", str(specs), *args, noisy.url + base_path, "--auto-approve"], token
        )
        outputs.append(result.output)
        if result.exit_code == 0:
            break
    else:
        raise AssertionError("did not converge in 3 runs:\n" + "\n----\n".join(outputs))
    noisy.stop()
    calm = sandbox_factory(dialect, db_path=noisy.db_path)
    plan = run_cli(["plan", str(specs), *args, calm.url + base_path, "--detailed-exitcode"], token)
    assert plan.exit_code == 0, plan.output
    return noisy


class Saveable(Protocol):
    """A sandbox whose database can be saved and put back (``tests.conftest.SharedSandbox``)."""

    dialect: str

    def save(self, path: Path) -> None: ...

    def restore(self, path: Path) -> object: ...


class States:
    """Sandbox states that take an apply to make, made once per module (fixture ``states``).

    The first test that asks for one makes it (its apply runs, and is checked, as
    before) and the sandbox's database is saved; every later test of the module gets
    that database back, byte for byte, request log included.
    """

    def __init__(self, root: Path) -> None:
        self._root = root
        self._saved: dict[tuple[str, str], Path] = {}

    def made(self, sandbox: Saveable, what: str, make: Callable[[], None]) -> None:
        """``sandbox`` (just made fresh) as ``make()`` leaves it; ``what`` names that state."""
        key = (sandbox.dialect, what)
        saved = self._saved.get(key)
        if saved is not None:
            sandbox.restore(saved)
            return
        make()
        path = self._root / f"state-{len(self._saved)}.sqlite"
        sandbox.save(path)
        self._saved[key] = path

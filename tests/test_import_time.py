"""What the CLI imports: a command loads only what it uses (issue 15, "CLI import time").

The target is under 100 ms for the CLI's own import (``import reconciler.cli``,
which ``--version``, ``--help`` and every command pay before the command runs),
measured by ``python -m bench --imports`` and reported in docs/performance.md.
It is kept here by *which* modules a run imports, never by a timing: the CLI
itself imports no library a command uses (pydantic, httpx, deepdiff, yaml, the
engine, the library API); the sandbox's server (FastAPI, uvicorn), the GitHub
commands, the Markdown report (jinja2, cmarkgfm) and rich are each loaded only
by the commands that use them. Each run is a fresh interpreter in a subprocess,
as a user's would be.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reconciler import dialects
from reconciler.cli import LAZY_SUMMARIES, main

NEVER = ("fastapi", "uvicorn", "starlette", "cmarkgfm", "reconciler.sandbox", "reconciler.github")
"""Never loaded by validate, plan or apply against a remote target."""

UNLESS_USED = ("jinja2", "rich", "pygments")
"""Loaded only for what needs them: a Markdown report, a progress bar on a terminal."""

COMMANDS_ONLY = (
    "pydantic",
    "httpx",
    "deepdiff",
    "yaml",
    "reconciler.core",
    "reconciler.engine",
    "reconciler.planfile",
    "reconciler.plan_codec",
    "reconciler.spec",
    "reconciler.targets",
)
"""Imported by the commands that need them, never by the CLI's own import."""

NOT_FOR_VALIDATE = (
    "deepdiff",
    "httpx",
    "reconciler.engine.executor",
    "reconciler.planfile",
    "reconciler.plan_codec",
    "reconciler.session",
    "reconciler.transport",
)
"""What ``validate`` (no call, no plan) has no use for."""

BLOCKED: dict[str, str] = {}
"""Loaded today by a module outside the CLI's own (see the reasons); strict, so the
mark must go once that module stops."""

LAZY_COMMANDS = ("comment", "drift-issue", "github", "sandbox", "init", "probe")

SPEC = "apiVersion: reconciler.dev/v1\nkind: Plan\nname: gold\ndisplayName: Gold\n"


def modules_after(code: str, cwd: Path, **env: str) -> set[str]:
    """Every module in ``sys.modules`` when a fresh interpreter running ``code`` exits."""
    report = cwd / "modules.json"
    prelude = (
        "import atexit, json, sys\n"
        f"atexit.register(lambda: json.dump(sorted(sys.modules), open({str(report)!r}, 'w')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", prelude + code],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode in (0, 2), done.stderr
    return set(json.loads(report.read_text()))


def run_cli(*args: str) -> str:
    """``python -m reconciler ARGS``, exactly as a user runs it."""
    return (
        f"import runpy\nsys.argv = ['reconciler', *{list(args)!r}]\n"
        "runpy.run_module('reconciler', run_name='__main__')\n"
    )


def loaded(modules: set[str], package: str) -> bool:
    """Whether ``package`` was imported: importing any of its modules imports it first.

    Not by prefix: ``httpx._main`` is the CLI's stand-in for httpx's command-line
    client (``reconciler.cli._without_httpx_cli``), put there without importing httpx.
    """
    return package in modules


def checked(packages: tuple[str, ...]) -> list[Any]:
    return [
        pytest.param(
            p, marks=[pytest.mark.xfail(strict=True, reason=BLOCKED[p])] if p in BLOCKED else []
        )
        for p in packages
    ]


@pytest.fixture(scope="module")
def specs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("imports") / "specs"
    root.mkdir()
    (root / "plans.yaml").write_text(SPEC, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def on_import(specs: Path) -> set[str]:
    return modules_after("import reconciler.cli\n", specs.parent)


@pytest.fixture(scope="module")
def on_version(specs: Path) -> set[str]:
    return modules_after(run_cli("--version"), specs.parent)


@pytest.fixture(scope="module")
def on_help(specs: Path) -> set[str]:
    return modules_after(run_cli("--help"), specs.parent)


@pytest.fixture(scope="module")
def on_validate(specs: Path) -> set[str]:
    return modules_after(run_cli("validate", str(specs)), specs.parent)


@pytest.mark.parametrize("package", COMMANDS_ONLY)
def test_importing_the_cli_loads_no_library_a_command_uses(
    on_import: set[str], package: str
) -> None:
    assert "reconciler.cli" in on_import  # it did import
    assert not loaded(on_import, package)


@pytest.mark.parametrize("package", COMMANDS_ONLY)
def test_version_loads_no_library_a_command_uses(on_version: set[str], package: str) -> None:
    assert "reconciler.cli" in on_version
    assert not loaded(on_version, package)


@pytest.mark.parametrize(
    "package",
    [*COMMANDS_ONLY, "reconciler.cli_github", "reconciler.cli_sandbox", "reconciler.cli_probe"],
)
def test_help_lists_every_command_without_importing_one(on_help: set[str], package: str) -> None:
    assert "reconciler.cli" in on_help
    assert not loaded(on_help, package)


def test_help_lists_the_lazy_commands_as_their_own_help_begins() -> None:
    """The summaries ``--help`` shows without importing are each command's first paragraph."""
    assert set(LAZY_SUMMARIES) == set(LAZY_COMMANDS)
    for name, summary in LAZY_SUMMARIES.items():
        command = main.commands[name]  # imported now
        assert command.help is not None
        assert summary == " ".join(command.help.split("\n\n")[0].split()), name
        assert main.summary(name) == summary


@pytest.mark.parametrize("package", [*NEVER, "reconciler.cli_github", "reconciler.cli_sandbox"])
def test_importing_the_cli_loads_no_command_module_it_does_not_run(
    on_import: set[str], package: str
) -> None:
    assert not loaded(on_import, package)


@pytest.mark.parametrize("package", checked(UNLESS_USED))
def test_importing_the_cli_loads_nothing_only_some_commands_use(
    on_import: set[str], package: str
) -> None:
    assert not loaded(on_import, package)


@pytest.mark.parametrize("package", [*NEVER, "reconciler.cli_probe", "reconciler.progress"])
def test_validate_loads_no_server_no_github_client_no_progress_bar(
    on_validate: set[str], package: str
) -> None:
    assert "reconciler.spec.loader" in on_validate  # it did run
    assert not loaded(on_validate, package)


@pytest.mark.parametrize("package", checked(UNLESS_USED))
def test_validate_loads_no_report_template_and_no_rich(on_validate: set[str], package: str) -> None:
    assert not loaded(on_validate, package)


@pytest.mark.parametrize("package", checked(NOT_FOR_VALIDATE))
def test_validate_loads_neither_the_diff_nor_the_http_client_nor_the_executor(
    on_validate: set[str], package: str
) -> None:
    assert "reconciler.spec.loader" in on_validate  # it did run
    assert not loaded(on_validate, package)


@pytest.mark.parametrize("dialect", dialects.names())
def test_every_dialects_provider_class_loads_without_the_http_client(
    specs: Path, dialect: str
) -> None:
    """What validate's support check loads for a target of any dialect: the class and
    its options, never httpx (a provider module imports helpers from where they are
    defined, and the client only for annotations)."""
    code = f"from reconciler.providers import provider_class\nprovider_class({dialect!r})\n"
    modules = modules_after(code, specs.parent)
    assert "reconciler.providers.base" in modules  # it did load a provider
    assert [p for p in ("httpx", "reconciler.providers.http") if loaded(modules, p)] == []


def test_a_plan_against_a_remote_target_loads_neither_the_sandbox_nor_the_github_client(
    specs: Path, fresh_sandbox: Any
) -> None:
    sandbox = fresh_sandbox("reference")
    code = run_cli("plan", str(specs), "--api", "reference", "--url", sandbox.url)
    modules = modules_after(code, specs.parent, RECONCILER_TOKEN=sandbox.token)
    assert "reconciler.engine.planner" in modules  # it did plan
    assert [p for p in NEVER if loaded(modules, p)] == []
    assert [p for p in UNLESS_USED if loaded(modules, p)] == []  # a text report: no jinja2


def test_an_apply_without_a_terminal_loads_neither_rich_nor_the_report_template(
    specs: Path, fresh_sandbox: Any
) -> None:
    """In CI the progress is plain lines: rich only draws the bar on a terminal."""
    sandbox = fresh_sandbox("reference")
    code = run_cli(
        "apply", str(specs), "--api", "reference", "--url", sandbox.url, "--auto-approve"
    )
    modules = modules_after(code, specs.parent, RECONCILER_TOKEN=sandbox.token)
    assert "reconciler.engine.executor" in modules and "reconciler.progress" in modules
    assert [p for p in (*NEVER, *UNLESS_USED) if loaded(modules, p)] == []


def test_the_markdown_report_does_load_its_template_engine(specs: Path, fresh_sandbox: Any) -> None:
    """The check above can see a module: a command that needs jinja2 shows it loaded."""
    sandbox = fresh_sandbox("reference")
    code = run_cli(
        "plan", str(specs), "--api", "reference", "--url", sandbox.url, "--format", "markdown"
    )
    modules = modules_after(code, specs.parent, RECONCILER_TOKEN=sandbox.token)
    assert loaded(modules, "jinja2")
    assert not loaded(modules, "reconciler.sandbox")


def test_a_lazy_command_is_listed_and_runs_as_before() -> None:
    names = main.list_commands(None)  # type: ignore[arg-type]  # no context needed
    assert set(LAZY_COMMANDS) <= set(names) and names == sorted(names)
    assert set(LAZY_COMMANDS) <= set(main.commands)  # every one, imported on access
    for name in LAZY_COMMANDS:
        command = main.commands[name]
        assert command.name == name and command.help

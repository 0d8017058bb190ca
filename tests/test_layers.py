"""The layers hold: no module imports what its stage must not know (issue 11).

spec → providers → engine → report → cli, plus the sandbox beside them. Every
``import`` in ``reconciler/`` counts, at module level or inside a function, and
so does one under ``if TYPE_CHECKING:`` (none is needed across a forbidden
line). Dynamic imports go through one door only, the dialect registry
(:mod:`reconciler.dialects`), which the providers and the sandbox both read.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import reconciler

PACKAGE = Path(reconciler.__file__).parent

FORBIDDEN: dict[str, set[str]] = {
    "spec": {"engine", "providers", "report", "cli", "core", "session", "sandbox"},
    "providers": {"engine", "cli", "report", "core", "session", "sandbox"},
    "sandbox": {"providers", "engine", "report", "cli", "core", "session", "spec"},
    "report": {"providers", "core", "cli", "session", "sandbox"},
    "engine": {"cli", "report", "core", "session", "sandbox", "spec"},
    "export": {"core", "cli"},
    "registry": {"*"},
    "calls": {"*"},
    # dialect options are read by the spec language: they must stay as light as it
    "options": {"engine", "providers", "report", "cli", "core", "session", "sandbox", "spec"},
}
"""Stage → the stages it must not import (``*``: nothing from reconciler at all)."""

CORE_PARTS = {"preparing", "planning", "applying"}
"""The modules ``core`` is made of (it re-exports them): the same stage as ``core``."""


def stage(module: str) -> str | None:
    """The stage a module belongs to (``reconciler.cli_options`` → ``cli``), if any."""
    parts = module.split(".")
    if parts[0] != "reconciler" or len(parts) == 1:
        return None
    top = parts[1]
    if top == "cli" or top.startswith("cli_"):
        return "cli"
    if top == "dialects":
        return "registry"
    if top in CORE_PARTS:
        return "core"
    return top


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = ["reconciler", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = modules()


def imports(module: str, path: Path) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import in ``path``, however deep in the code."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield node.lineno, sub if sub in MODULES else base


def violations() -> list[str]:
    found = []
    for module, path in MODULES.items():
        mine = stage(module)
        banned = FORBIDDEN.get(mine or "", set())
        for line, target in imports(module, path):
            theirs = stage(target)
            if theirs is None or theirs == mine:
                continue
            if "*" in banned or theirs in banned:
                found.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {mine} imports {target}")
    return found


def test_no_stage_imports_what_it_must_not() -> None:
    assert violations() == []


def test_the_walk_sees_every_stage_and_every_kind_of_import() -> None:
    stages = {stage(m) for m in MODULES}
    assert {"spec", "providers", "sandbox", "report", "engine", "cli", "registry"} <= stages
    assert stage("reconciler.cli_report") == "cli" and stage("reconciler.cli") == "cli"
    assert {stage(f"reconciler.{part}") for part in CORE_PARTS} == {"core"}
    assert {m.split(".")[1] for m in MODULES if m.count(".") == 1} >= CORE_PARTS
    found = {target for _, target in imports("reconciler.cli", PACKAGE / "cli.py")}
    assert "reconciler.export" in found  # imported inside a function
    assert "reconciler.dialects" in found  # ``from reconciler import dialects``


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        (
            "from reconciler.providers import base",
            "reconciler.report.x",
            "reconciler.providers.base",
        ),
        ("from ..providers import http", "reconciler.report.x", "reconciler.providers.http"),
        ("from . import escape", "reconciler.report.x", "reconciler.report.escape"),
        ("def f():\n    import reconciler.core", "reconciler.report.x", "reconciler.core"),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from reconciler import core",
            "reconciler.report.x",
            "reconciler.core",
        ),
    ],
)
def test_every_form_of_import_is_resolved(
    source: str, module: str, expected: str, tmp_path: Path
) -> None:
    path = tmp_path / "x.py"
    path.write_text(source, encoding="utf-8")
    assert expected in [target for _, target in imports(module, path)]


def test_only_the_registry_imports_by_name() -> None:
    """No back doors: a module found by a string is found through the registry."""
    doors = []
    for module, path in MODULES.items():
        if module == "reconciler.dialects":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = None
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in ("import_module", "__import__"):
                doors.append(f"{module}:{node.lineno}")
    assert doors == []


def test_importing_the_spec_language_loads_no_http_and_no_engine() -> None:
    """Only light leaves come along (errors' one-line escaping is ``report.escape``)."""
    import json
    import subprocess
    import sys

    code = (
        "import json, sys, reconciler.spec, reconciler.rules; print(json.dumps(list(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    heavy = {"httpx", "fastapi", "uvicorn", "jinja2"} & loaded
    assert heavy == set()
    stages = {m for m in loaded if stage(m) in {"engine", "providers", "sandbox", "report"}}
    assert stages <= {"reconciler.report", "reconciler.report.escape"}


def test_the_reports_render_plain_data_without_the_http_client() -> None:
    """Renderers take plans and results as data: no executor, provider or httpx comes along."""
    import json
    import subprocess
    import sys

    code = (
        "import json, sys, reconciler.report.text, reconciler.report.json_report, "
        "reconciler.report.markdown, reconciler.progress; print(json.dumps(list(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert {"httpx", "fastapi", "uvicorn"} & loaded == set()
    assert {m for m in loaded if stage(m) in {"providers", "sandbox"}} == set()
    assert "reconciler.engine.executor" not in loaded

"""The action installs pinned versions: a pull request's plan and its apply run the same code."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path
from types import ModuleType

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([a-z0-9][a-z0-9-]*)==([A-Za-z0-9.+!-]+)$")


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("constraints", ROOT / ".github/constraints.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pins() -> dict[str, str]:
    found = {}
    for line in (ROOT / ".github/constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            match = PIN.match(line)
            assert match, f"not an exact pin: {line!r}"
            found[match.group(1)] = match.group(2)
    return found


def test_every_runtime_dependency_is_pinned_within_what_reconciler_allows() -> None:
    pinned = pins()
    direct = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for line in direct:
        requirement = Requirement(line)
        name = generator().canonical(requirement.name)
        assert name in pinned, f"{name} is not pinned"
        assert requirement.specifier.contains(pinned[name]), f"{name}=={pinned[name]}: {line}"
    closure = generator().runtime_closure()
    assert set(closure) <= set(pinned), f"not pinned: {sorted(set(closure) - set(pinned))}"
    assert not {"pytest", "mypy", "ruff", "zizmor"} & set(pinned)  # runtime only


def test_the_generator_writes_what_it_read() -> None:
    module = generator()
    text = module.render({"b-lib": "2.0", "a-lib": "1.0"})
    assert text.endswith("a-lib==1.0\nb-lib==2.0\n") and text.startswith("# ")

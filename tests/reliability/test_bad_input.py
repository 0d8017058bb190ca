"""Every malformed input: exit 1, one clear message per problem with its place, no
traceback, and not a single API call (proved by the sandbox's request log: one server
for the module, its database new for each case)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import request_log
from tests.integration.helpers import run_cli, target_args
from tests.spec.helpers import INVALID

PLACE = re.compile(r"^error: (\S+?):(\d+):(\d+): \S")
FIXTURES = sorted(p.name for p in INVALID.iterdir() if p.is_dir())
HEADER = "apiVersion: reconciler.dev/v1\n"


def _huge(root: Path) -> None:
    (root / "huge.yaml").write_text(HEADER + "kind: Tenant\nname: x\n# " + "x" * 11_000_000)


def _alias_bomb(root: Path) -> None:
    lines = [HEADER + "kind: Tenant\nname: bomb\nconfiguration:", '  a0: &a0 ["x","x","x"]']
    lines += [f"  a{i}: &a{i} [*a{i - 1},*a{i - 1},*a{i - 1}]" for i in range(1, 12)]
    (root / "bomb.yaml").write_text("\n".join(lines) + "\n")


def _deep(root: Path) -> None:
    (root / "deep.yaml").write_text(
        HEADER + "kind: Tenant\nname: d\nconfiguration: " + "{a: " * 200 + "1" + "}" * 200 + "\n"
    )


def _symlink_loop(root: Path) -> None:
    (root / "ok.yaml").write_text(HEADER + "kind: Tenant\nname: fine\n")
    os.symlink(root, root / "loop")


def _unreadable(root: Path) -> None:
    bad = root / "secret.yaml"
    bad.write_text(HEADER + "kind: Tenant\nname: x\n")
    bad.chmod(0)


def _bad_config(root: Path) -> None:
    (root / "ok.yaml").write_text(HEADER + "kind: Tenant\nname: fine\n")
    (root / "reconciler.yaml").write_text(HEADER + "prune: {Tenant: nuke}\n")


GENERATED: dict[str, Callable[[Path], None]] = {
    "huge_file": _huge,
    "alias_bomb": _alias_bomb,
    "very_deep": _deep,
    "symlink_loop": _symlink_loop,
    "unreadable": _unreadable,
    "bad_reconciler_yaml": _bad_config,
}


def _check(sandbox: Any, specs: Path) -> str:
    result = run_cli(["plan", str(specs), *target_args(sandbox)], sandbox.token)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors, result.stderr
    for line in errors:
        if "no spec documents found" in line or "symlink loop: '" in line:
            continue  # about the tree, not a line in a file: the message names the path
        assert PLACE.match(line), f"no file:line:column in: {line}"
    assert request_log(sandbox.db_path) == [], "not a single API call"
    return result.stderr


def test_the_corpus_has_at_least_40_cases() -> None:
    assert len(FIXTURES) + len(GENERATED) >= 40


@pytest.mark.parametrize("case", FIXTURES)
def test_fixture_case(sandbox: Any, tmp_path: Path, case: str) -> None:
    specs = tmp_path / case
    shutil.copytree(INVALID / case, specs, symlinks=True)
    _check(sandbox, specs)


@pytest.mark.parametrize("case", sorted(GENERATED))
def test_generated_case(sandbox: Any, tmp_path: Path, case: str) -> None:
    if case == "unreadable" and os.geteuid() == 0:
        pytest.skip("root reads every file: an unreadable file cannot be made")
    specs = tmp_path / case
    specs.mkdir()
    GENERATED[case](specs)
    _check(sandbox, specs)

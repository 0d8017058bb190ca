"""The README stays true: its commands are the ones CI runs, every command is documented."""

from __future__ import annotations

import re
from pathlib import Path

import click
from click.testing import CliRunner

from reconciler.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def marked_block(mark: str) -> str:
    match = re.search(rf"<!-- {mark} -->\n```[a-z]*\n(.*?)\n```", README, re.S)
    assert match, f"README has no block marked {mark}"
    return match.group(1).strip()


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert marked_block("test-command") in ci.splitlines()


def test_main_command_plans_and_applies_the_specs_directory() -> None:
    cmd = marked_block("main-command")
    assert "reconciler plan specs" in cmd and "reconciler apply specs --auto-approve" in cmd


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, cmd in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        if isinstance(cmd, click.Group):
            found.extend(_commands(cmd, f"{full} "))
        else:
            found.append((full, cmd))
    return found


def test_every_command_has_help_with_an_example_and_is_in_the_readme() -> None:
    runner = CliRunner()
    for name, cmd in _commands(main):
        assert cmd.help and "Example:" in cmd.help, f"{name} help needs an example"
        result = runner.invoke(main, [*name.split(), "--help"])
        assert result.exit_code == 0, result.output
        assert f"reconciler {name}" in README, f"README does not document 'reconciler {name}'"


def test_every_test_named_in_the_reliability_doc_exists() -> None:
    """docs/reliability.md cites tests as proof; a renamed or deleted test must fail here."""
    import re

    text = (ROOT / "docs" / "reliability.md").read_text()
    current = ""
    cited = 0
    for token in re.findall(r"`([^`]+)`", text):
        if token.startswith("tests/") and ".py" in token:
            current, _, name = token.partition("::")
            assert (ROOT / current).is_file(), token
        elif token.startswith("::"):
            name = token[2:]
        else:
            continue
        if name:
            cited += 1
            assert f"def {name}(" in (ROOT / current).read_text(), f"{current}::{name}"
    assert cited >= 15

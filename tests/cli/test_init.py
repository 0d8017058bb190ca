"""``reconciler init``: a starter spec directory that validates and plans at once (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import dialects
from tests.integration.helpers import run_cli

BUILT_IN = [line.name for line in dialects.REGISTRY]


@pytest.mark.parametrize("dialect", BUILT_IN)
def test_the_starter_validates_for_every_built_in_dialect(tmp_path: Path, dialect: str) -> None:
    made = run_cli(["init", str(tmp_path / "specs"), "--api", dialect])
    assert made.exit_code == 0, made.output
    checked = run_cli(["validate", str(tmp_path / "specs"), "--api", dialect])
    assert checked.exit_code == 0, checked.output


def test_init_then_plan_against_the_embedded_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    made = run_cli(["init"])
    assert made.exit_code == 0, made.output
    assert "Next: reconciler plan specs" in made.output
    assert ".reconciler/" in (tmp_path / "specs" / ".gitignore").read_text().splitlines()
    planned = run_cli(["plan", "specs", "--detailed-exitcode"])
    assert planned.exit_code == 2, planned.output  # the examples would be created
    assert "Tenant/example" in planned.output


def test_init_keeps_what_exists_and_writes_a_target_without_its_token(tmp_path: Path) -> None:
    root = tmp_path / "specs"
    root.mkdir()
    (root / "plans.yaml").write_text("# mine\n")
    (root / ".gitignore").write_text("node_modules/")
    url = "https://platform.example.com"
    made = run_cli(["init", str(root), "--url", url, "--token-env", "PLATFORM_TOKEN"])
    assert made.exit_code == 0, made.output
    assert (root / "plans.yaml").read_text() == "# mine\n"
    assert "kept" in made.output and "plans.yaml" in made.output
    config = (root / "reconciler.yaml").read_text()
    assert f"url: {url}" in config and "tokenEnv: PLATFORM_TOKEN" in config
    assert (root / ".gitignore").read_text().splitlines()[0] == "node_modules/"
    again = run_cli(["init", str(root)])
    assert again.exit_code == 0 and "wrote" not in again.output  # nothing twice


def test_a_url_without_a_scheme_is_refused_up_front(tmp_path: Path) -> None:
    made = run_cli(["init", str(tmp_path / "s"), "--url", "127.0.0.1:9"])
    assert made.exit_code == 1
    assert "not an http(s) URL" in made.stderr
    assert not (tmp_path / "s").exists()

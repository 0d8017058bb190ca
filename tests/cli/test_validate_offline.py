"""``validate`` checks everything it can without a call or a token (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import dialects
from reconciler.model import Kind
from reconciler.providers import provider_class
from tests.integration.helpers import REPO, copy_tree, run_cli

WITHOUT_OPERATORS = next(
    line.name
    for line in dialects.REGISTRY
    if Kind.OPERATOR not in provider_class(line.name).capabilities.supports
)


def specs_with(tmp_path: Path, config: str) -> Path:
    root = Path(copy_tree(REPO / "specs", tmp_path / "specs"))
    (root / "reconciler.yaml").write_text("apiVersion: reconciler.dev/v1\n" + config)
    return root


@pytest.fixture(autouse=True)
def no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RECONCILER_TOKEN", "STAGING_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def test_the_default_targets_dialect_is_checked(tmp_path: Path) -> None:
    root = specs_with(
        tmp_path,
        f"defaultTarget: prod\ntargets:\n  prod:\n    api: {WITHOUT_OPERATORS}\n"
        "    url: https://platform.example\n",
    )
    result = run_cli(["validate", str(root)])
    assert result.exit_code == 1, result.output
    assert "operators.yaml:" in result.stderr and WITHOUT_OPERATORS in result.stderr


def test_an_unknown_dialect_is_found_on_a_target_nobody_chose(tmp_path: Path) -> None:
    root = specs_with(
        tmp_path,
        "defaultTarget: prod\ntargets:\n"
        "  prod:\n    api: reference\n    url: https://platform.example\n"
        "  staging:\n    api: referenc\n    url: https://staging.example\n",
    )
    result = run_cli(["validate", str(root)])
    assert result.exit_code == 1
    assert "reconciler.yaml:8:10: unknown API dialect 'referenc'" in result.stderr
    assert "did you mean 'reference'?" in result.stderr


def test_validate_needs_no_token_and_suggests_target_names(tmp_path: Path) -> None:
    root = specs_with(
        tmp_path,
        "targets:\n  staging:\n    api: reference\n    url: https://staging.example\n"
        "    tokenEnv: STAGING_TOKEN\n",
    )
    ok = run_cli(["validate", str(root), "-t", "staging"])
    assert ok.exit_code == 0, ok.output
    typo = run_cli(["validate", str(root), "-t", "stagign"])
    assert typo.exit_code == 1
    assert "unknown target 'stagign' (did you mean 'staging'?)" in typo.stderr


def test_did_you_mean_prefers_meaning_over_spelling() -> None:
    from reconciler.spec.problems import did_you_mean

    assert did_you_mean("enabled", ["active", "disabled"]) == " (did you mean 'active'?)"
    assert did_you_mean("suspendd", ["active", "suspended"]) == " (did you mean 'suspended'?)"
    assert did_you_mean("enabled", ["enabled", "x"]) == " (did you mean 'enabled'?)"

"""The platform token goes only to a target the trusted ref (the base branch) names, unchanged."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli_github import github
from reconciler.errors import ConfigError
from reconciler.github.trusted import TargetChanged, check_plan_target, checked_target, config_at
from reconciler.targets import Target
from tests.github.scenario import config, git

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

URL = "https://platform.example.com"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose main branch has specs/reconciler.yaml naming target production."""
    root = tmp_path / "repo"
    (root / "specs").mkdir(parents=True)
    (root / "specs" / "reconciler.yaml").write_text(config(URL))
    git(tmp_path, "init", "-q", "-b", "main", str(root))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    git(root, "checkout", "-q", "-b", "branch")
    return root


def branch_config(repo: Path, text: str) -> Path:
    (repo / "specs" / "reconciler.yaml").write_text(text)
    return repo / "specs"


def test_the_same_target_as_the_base_branch_gets_the_token(repo: Path) -> None:
    target = checked_target(repo / "specs", "production", "main")
    assert target is not None and target.url == URL and target.token_env == "PLATFORM_TOKEN"
    assert checked_target(repo / "specs", "", "main") == target  # the only target: the default


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (config("https://attacker.example"), "url 'https://attacker.example' (there: "),
        (
            config(URL, token_env="OTHER_SECRET"),
            "tokenEnv 'OTHER_SECRET' (there: 'PLATFORM_TOKEN')",
        ),
        (config(URL) + "    insecure: true\n", "insecure True (there: False)"),
        (config(URL).replace("api: reference", "api: iaas-v1"), "api 'iaas-v1'"),
    ],
)
def test_a_branch_that_reroutes_the_token_is_refused(repo: Path, text: str, named: str) -> None:
    specs = branch_config(repo, text)
    with pytest.raises(TargetChanged) as refused:
        checked_target(specs, "production", "main")
    assert named in str(refused.value)
    assert "change a target's api, url, tokenEnv or TLS settings in a pull request" in str(
        refused.value
    )


def test_a_target_the_base_branch_does_not_have_gets_no_token(repo: Path) -> None:
    specs = branch_config(repo, config(URL).replace("production:", "staging:"))
    with pytest.raises(TargetChanged, match=r"target 'staging' differs .* not configured there"):
        checked_target(specs, "staging", "main")
    (repo / "new").mkdir()
    (repo / "new" / "reconciler.yaml").write_text(config(URL))
    with pytest.raises(TargetChanged, match="not configured there"):
        checked_target(repo / "new", "production", "main")  # no such directory on main


def test_without_a_trusted_ref_or_a_target_nothing_is_compared(repo: Path) -> None:
    specs = branch_config(repo, config("https://elsewhere.example"))
    target = checked_target(specs, "production", None)
    assert target is not None and target.url == "https://elsewhere.example"
    branch_config(repo, "apiVersion: reconciler.dev/v1\n")
    assert checked_target(specs, "", "main") is None  # the embedded sandbox: no token at all


def test_a_bad_ref_is_an_error_not_a_pass(repo: Path) -> None:
    with pytest.raises(ConfigError, match="failed"):
        config_at("no-such-branch", repo / "specs")
    with pytest.raises(ConfigError, match="not a git ref"):
        config_at("--output=/tmp/x", repo / "specs")


def test_a_saved_plan_must_name_the_trusted_target() -> None:
    trusted = Target(name="production", dialect="reference", url=URL, token_env="PLATFORM_TOKEN")
    check_plan_target(
        Target(name="production", dialect="reference", url=URL, token_env="PLATFORM_TOKEN"),
        trusted,
    )
    forged = Target(name="production", dialect="reference", url="https://x.example")
    with pytest.raises(ConfigError, match=r"url 'https://x\.example'"):
        check_plan_target(forged, trusted)


def test_github_run_refuses_arguments_that_choose_a_target(repo: Path) -> None:
    runner = CliRunner()
    for args in (["--url", "https://x.example"], ["--api=reference"], ["--allow-http"]):
        result = runner.invoke(github, ["run", "--specs", str(repo / "specs"), "--", "plan", *args])
        assert result.exit_code == 2, result.output
        assert "come from the target input and reconciler.yaml" in result.output
    other = runner.invoke(github, ["run", "--", "apply", "plan.json"])
    assert other.exit_code == 2 and "runs plan or drift" in other.output

"""One target type: reconciler.yaml builds Targets without a token, resolving adds it."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import ConfigError
from reconciler.spec import load_config
from reconciler.targets import DEFAULT_PARALLELISM, Target, TargetChoice, resolve_target

TOKEN = "targets-test-token-7f3a"  # registered for redaction when read: unlike any other text
CONFIG = """\
apiVersion: reconciler.dev/v1
targets:
  staging: {api: reference, url: 'https://staging.example', tokenEnv: STAGING_TOKEN}
  prod: {api: operator-v1, url: 'https://prod.example', parallelism: 8}
"""


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    (tmp_path / "reconciler.yaml").write_text(CONFIG, encoding="utf-8")
    return tmp_path


def test_the_config_holds_targets_without_their_tokens(config_dir: Path) -> None:
    config = load_config(config_dir, env={})
    staging = config.targets["staging"]
    assert isinstance(staging, Target)
    assert (staging.dialect, staging.url, staging.token_env) == (
        "reference",
        "https://staging.example",
        "STAGING_TOKEN",
    )
    assert staging.token is None and staging.parallelism == DEFAULT_PARALLELISM
    assert config.targets["prod"].parallelism == 8


def test_resolving_adds_the_token_and_the_command_line_s_overrides(config_dir: Path) -> None:
    config = load_config(config_dir, env={})
    env = {"STAGING_TOKEN": TOKEN}
    resolved = resolve_target(config, TargetChoice(name="staging", parallelism=2), env)
    assert resolved.token == TOKEN and resolved.parallelism == 2
    assert resolved.dialect == "reference" and resolved.name == "staging"
    assert config.targets["staging"].token is None  # the configured target is left as it was
    prod = resolve_target(config, TargetChoice(name="prod"), {"RECONCILER_TOKEN": TOKEN})
    assert prod.parallelism == 8


def test_a_one_off_target_and_the_sandbox_take_the_dialect_from_the_choice() -> None:
    from reconciler.spec.config import Config

    one_off = TargetChoice(dialect="iaas-v1", url="https://x.example")
    target = resolve_target(Config(), one_off, {"RECONCILER_TOKEN": TOKEN})
    assert (target.name, target.dialect, target.url) == ("command line", "iaas-v1", one_off.url)
    sandbox = resolve_target(Config(), TargetChoice(dialect="tenants-v1"), {})
    assert sandbox.embedded and sandbox.dialect == "tenants-v1"
    with pytest.raises(ConfigError, match="--url needs --api"):
        resolve_target(Config(), TargetChoice(url="https://x.example"), {})


def test_a_choice_names_a_target_only_when_the_command_line_gave_one() -> None:
    assert not TargetChoice(parallelism=3, insecure=True).names_a_target
    assert TargetChoice(name="prod").names_a_target
    assert TargetChoice(dialect="reference").names_a_target
    assert TargetChoice(url="https://x.example").names_a_target

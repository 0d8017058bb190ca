"""reconciler.yaml: targets, merged prune policies, and every problem with its place."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import ConfigError, SpecError
from reconciler.model import Kind
from reconciler.rules import Rules
from reconciler.spec import Config, PrunePolicy, load_config
from reconciler.targets import DEFAULT_PARALLELISM, Target
from tests.spec.helpers import INVALID, VALID, VALID_ENV

IGNORE_ALL: dict[Kind, PrunePolicy] = {kind: "ignore" for kind in Kind}


def test_valid_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(VALID)
    config = load_config(Path("."), env=VALID_ENV)
    assert config.source == Path("reconciler.yaml")
    assert config.default_target == "staging"
    assert config.prune == {Kind.TENANT: "suspend", Kind.FEATURE_FLAG: "delete"}
    staging_prune: dict[Kind, PrunePolicy] = {
        **IGNORE_ALL,
        Kind.FEATURE_FLAG: "delete",
        Kind.OPERATOR: "suspend",
    }
    assert config.targets["staging"] == Target(
        name="staging",
        dialect="reference",
        url="https://staging.example.com",
        token_env="STAGING_TOKEN",
        parallelism=4,
        prune=staging_prune,
        rules=Rules(prune=staging_prune),
    )
    production = config.targets["production"]
    assert production.token_env == "RECONCILER_TOKEN"
    assert production.parallelism == DEFAULT_PARALLELISM
    assert production.token is None  # a run adds it when it resolves the target
    assert production.prune == {**IGNORE_ALL, Kind.TENANT: "suspend", Kind.FEATURE_FLAG: "delete"}


def test_prune_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(VALID)
    config = load_config(".", env=VALID_ENV)
    assert config.prune_for(None) == {
        **IGNORE_ALL,
        Kind.TENANT: "suspend",
        Kind.FEATURE_FLAG: "delete",
    }
    assert config.prune_for("staging")[Kind.TENANT] == "ignore"
    with pytest.raises(
        ConfigError, match="unknown target 'stagin' \\(did you mean 'staging'\\?\\)"
    ):
        config.prune_for("stagin")
    assert Config().prune_for(None) == IGNORE_ALL


def test_a_file_root_looks_in_its_directory() -> None:
    config = load_config(VALID / "plans.yaml", env=VALID_ENV)
    assert config.source == VALID / "reconciler.yaml" and set(config.targets) == {
        "staging",
        "production",
    }


def test_no_config_file_means_no_targets(tmp_path: Path) -> None:
    assert load_config(tmp_path) == Config()


def test_comment_only_config_is_empty(tmp_path: Path) -> None:
    (tmp_path / "reconciler.yml").write_text("# nothing configured yet\n", encoding="utf-8")
    assert load_config(tmp_path) == Config(source=tmp_path / "reconciler.yml")


CASES: dict[str, list[tuple[str, list[str]]]] = {
    "config_suspend_kind": [
        ("reconciler.yaml:3:9", ["'suspend' is only valid for Tenant, Operator", "Plan can be"]),
        ("reconciler.yaml:10:20", ["FeatureFlag can be 'ignore' or 'delete'"]),
    ],
    "config_unknown_field": [
        ("reconciler.yaml:6:5", ["unknown field 'targets.staging.tokenEnvv'", "'tokenEnv'?"]),
        ("reconciler.yaml:8:1", ["unknown field 'pruning'", "did you mean 'prune'?"]),
    ],
    "config_bad_values": [
        ("reconciler.yaml:3:3", ["key 'Tenants' in 'prune'", "did you mean 'Tenant'?"]),
        (
            "reconciler.yaml:4:13",
            ["'prune.Operator' must be 'ignore', 'suspend', 'delete' or 'suspend-then-delete'"],
        ),
        ("reconciler.yaml:8:10", ["'targets.staging.url' must be an http:// or https:// URL"]),
        ("reconciler.yaml:9:18", ["'targets.staging.parallelism' must be >= 1, not the number 0"]),
        ("reconciler.yaml:10:15", ["'targets.staging.tokenEnv' must be an environment variable"]),
        ("reconciler.yaml:12:5", ["missing required field 'targets.production.api'"]),
        ("reconciler.yaml:13:18", ["parallelism' must be a whole number, not the string '8'"]),
    ],
    "config_default_target": [
        ("reconciler.yaml:2:16", ["defaultTarget 'prod' is not a configured target", "production"]),
    ],
    "config_missing_env": [
        ("reconciler.yml:5:10", ["environment variable 'STAGING_URL' is not set"]),
    ],
    "config_broken": [("reconciler.yaml:4:1", ["invalid YAML"])],
    "config_no_api_version": [("reconciler.yaml:1:1", ["missing required field 'apiVersion'"])],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_invalid_config(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(INVALID / case)
    with pytest.raises(SpecError) as info:
        load_config(".", env={})
    problems = info.value.problems
    assert [str(p.location) for p in problems] == [where for where, _ in CASES[case]], str(
        info.value
    )
    for problem, (_, fragments) in zip(problems, CASES[case], strict=True):
        for fragment in fragments:
            assert fragment in problem.message, str(problem)


def test_config_values_are_interpolated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(INVALID / "config_missing_env")
    config = load_config(".", env={"STAGING_URL": "https://s.example.com"})
    assert config.targets["staging"].url == "https://s.example.com"

"""Finding the merged pull request and its plan artifact through the REST API (the fake)."""

from __future__ import annotations

import re

import pytest

from reconciler.errors import ConfigError
from reconciler.github import artifacts
from reconciler.github.client import GitHubClient
from reconciler.github.context import GitHubContext
from reconciler.github.pulls import merged_pull
from tests.github.fake_github import GH_TOKEN, FakeGitHub

HEAD, MERGE, OTHER = "a" * 40, "b" * 40, "c" * 40


def client(github: FakeGitHub) -> GitHubClient:
    slept: list[float] = []
    return GitHubClient(GitHubContext(github.url, github.repository, GH_TOKEN), sleep=slept.append)


def test_names_are_safe_and_one_per_target_and_spec_directory() -> None:
    names = {
        artifacts.artifact_name("plan", target, specs, 7)
        for target, specs in [
            ("production", "specs"),
            ("staging", "specs"),
            ("production", "envs/eu/specs"),
            ("production", "envs_eu/specs"),
            ("production", "envs/eu_specs"),
            ("", "specs"),
        ]
    }
    assert len(names) == 6
    assert all(re.fullmatch(r"reconciler-plan-[A-Za-z0-9._-]+-7", n) for n in names)
    same = {artifacts.artifact_name("plan", "p", s, 7) for s in ("specs", "./specs/", "specs/.")}
    assert len(same) == 1
    assert artifacts.artifact_name("plan", "production", "specs", 7).startswith(
        "reconciler-plan-production-specs-"
    )


def test_the_merged_pull_request_is_the_one_whose_merge_commit_this_is(
    github: FakeGitHub,
) -> None:
    github.add_pull(8, OTHER)  # open, and holds the commit too: not it
    github.add_pull(9, HEAD, merge_commit_sha=MERGE)
    with client(github) as gh:
        found = merged_pull(gh, MERGE, "main")
        assert found is not None and (found.number, found.head_sha) == (9, HEAD)
        assert merged_pull(gh, MERGE, "release") is None  # merged into another branch
        assert merged_pull(gh, OTHER, "main") is None  # contained, not merged
        with pytest.raises(ConfigError, match="full commit SHA"):
            merged_pull(gh, "main", "main")


def test_the_newest_unexpired_plan_of_the_pull_requests_head_is_found(
    github: FakeGitHub,
) -> None:
    name = artifacts.artifact_name("plan", "production", "specs", 9)
    github.add_artifact(name, {"plan.json": b"old"}, run_id=1, head_sha=HEAD)
    github.add_artifact(name, {"plan.json": b"newest"}, run_id=2, head_sha=HEAD)
    github.add_artifact(name, {"plan.json": b"expired"}, run_id=3, head_sha=HEAD, expired=True)
    github.add_artifact(name, {"plan.json": b"an earlier push"}, run_id=4, head_sha=OTHER)
    github.add_artifact(name + "0", {"plan.json": b"another PR"}, run_id=5, head_sha=HEAD)
    github.max_page = 1  # every listing over several pages
    with client(github) as gh:
        found = artifacts.latest_for_commit(gh, name, HEAD)
        assert found is not None and found.run_id == 2
        assert artifacts.read_files(gh, found, ("plan.json", "report.md")) == {
            "plan.json": b"newest"
        }
        assert artifacts.latest_for_commit(gh, name, MERGE) is None
    storage = [r for r in github.requests if r.path.startswith("/_storage/")]
    assert storage and all(r.authorization is None for r in storage)  # no token to storage


def test_an_artifact_is_read_by_name_never_extracted(github: FakeGitHub) -> None:
    name = artifacts.artifact_name("replan", "production", "specs", 1)
    github.add_artifact(
        name, {"../plan.json": b"escape", "sub/plan.json": b"nested"}, run_id=7, head_sha=HEAD
    )
    with client(github) as gh:
        found = artifacts.in_run(gh, 7, name)
        assert found is not None
        assert artifacts.read_files(gh, found, ("plan.json",)) == {}
        assert artifacts.in_run(gh, 8, name) is None


def test_the_secondary_rate_limit_of_the_fake_is_waited_out(github: FakeGitHub) -> None:
    github.add_pull(9, HEAD, merge_commit_sha=MERGE)
    github.rate_limited = 2
    slept: list[float] = []
    with GitHubClient(
        GitHubContext(github.url, github.repository, GH_TOKEN), sleep=slept.append
    ) as gh:
        found = merged_pull(gh, MERGE, "main")
    assert found is not None and found.number == 9
    assert slept == [1.0, 1.0]
    assert [r.status for r in github.requests] == [403, 403, 200]

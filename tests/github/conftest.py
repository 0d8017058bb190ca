"""A fake GitHub per test, and the Actions environment a command would see in a workflow.

``sandbox`` here: a running reference sandbox, new for each test, on a server the
module's tests share (no start and stop per test; see ``fresh_sandbox``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler.cli import main
from tests.conftest import FreshSandbox, Pool, SharedSandbox
from tests.github.fake_github import GH_TOKEN, FakeGitHub, RunGh, RunningFake
from tests.github.scenario import Gateway, Platform, SpecsRepo

ACTIONS_VARIABLES = (
    "GITHUB_TOKEN",
    "GITHUB_REPOSITORY",
    "GITHUB_API_URL",
    "GITHUB_EVENT_PATH",
    "GITHUB_EVENT_NAME",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_SERVER_URL",
    "GITHUB_RUN_ID",
)


@pytest.fixture
def sandbox(fresh_sandbox: FreshSandbox) -> SharedSandbox:
    return fresh_sandbox("reference")


@pytest.fixture(scope="module")
def platform(
    shared_sandboxes: Pool[SharedSandbox], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    """The gateway and the starter state of the module's end-to-end tests (scenario.py)."""
    made = Platform(shared_sandboxes.get("reference", 0), tmp_path_factory.mktemp("platform"))
    yield made
    made.close()


@pytest.fixture
def repo(
    tmp_path: Path, github: FakeGitHub, sandbox: SharedSandbox, platform: Platform
) -> SpecsRepo:
    """The specs repository with pull request #7 to come, the platform as its main says."""
    return SpecsRepo(tmp_path, github, sandbox, platform)


@pytest.fixture
def gateway(repo: SpecsRepo, platform: Platform) -> tuple[Gateway, str]:
    """The gateway in front of the sandbox (nothing seen yet this test) and its URL."""
    return platform.gateway, platform.gateway_url


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    """A running fake holding pull request #7 of octo/app."""
    fake = FakeGitHub(token=GH_TOKEN)
    fake.add_issue(7, pull_request=True, title="Add tenants")
    with RunningFake(fake):
        yield fake


def actions_env(
    fake: FakeGitHub, tmp_path: Path, event: object = None, **overrides: str | None
) -> dict[str, str | None]:
    """The environment of a pull_request run; every other Actions variable unset (None)."""
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(event or {"pull_request": {"number": 7}}), encoding="utf-8")
    env: dict[str, str | None] = dict.fromkeys(ACTIONS_VARIABLES)
    env.update(
        GITHUB_TOKEN=GH_TOKEN,
        GITHUB_REPOSITORY=fake.repository,
        GITHUB_API_URL=fake.url,
        GITHUB_EVENT_PATH=str(event_file),
        GITHUB_EVENT_NAME="pull_request",
    )
    env.update(overrides)
    return env


@pytest.fixture
def run_gh(github: FakeGitHub, tmp_path: Path) -> RunGh:
    """``run_gh(args, input=None, event=None, **env)``: the CLI in a pull_request run."""

    def run(
        args: list[str], input: str | None = None, event: object = None, **env: str | None
    ) -> Result:
        environ = actions_env(github, tmp_path, event, **env)
        return CliRunner().invoke(main, args, input=input, env=environ, catch_exceptions=False)

    return run

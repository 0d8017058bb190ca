"""A pull request cannot send the platform token anywhere the base branch does not name.

The branch controls its ``reconciler.yaml``; a second local server stands in
for the host it points to and records every request, with its Authorization
header: it must see none at all, least of all with the write token.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.github.fake_github import FakeGitHub
from tests.github.scenario import PR, READ_TOKEN, Recorder, SpecsRepo, config, serve

pytestmark = pytest.mark.skipif(
    shutil.which("bash") is None or shutil.which("git") is None, reason="needs bash and git"
)


@pytest.fixture
def elsewhere() -> Iterator[tuple[Recorder, str]]:
    recorder = Recorder()
    server, url = serve(recorder.app(), "elsewhere")
    yield recorder, url
    server.stop()


def test_a_pull_request_pointing_the_target_elsewhere_never_gets_a_token_there(
    repo: SpecsRepo, github: FakeGitHub, sandbox: Any, elsewhere: tuple[Recorder, str]
) -> None:
    recorder, url = elsewhere

    def redirect(specs: Path) -> None:
        (specs / "reconciler.yaml").write_text(config(url))
        acme = specs / "tenants" / "acme.yaml"
        acme.write_text(acme.read_text().replace("Acme Corporation", "Acme Group"))

    checkout = repo.open_pull_request(redirect)
    plan = repo.plan_job(checkout)
    assert plan.rc == 1
    assert "target 'production' differs from the one at origin/main: url" in plan.stderr
    assert "plan.json" not in {p.name for p in Path(plan.outputs["dir"]).iterdir()}
    assert github.artifacts == []  # nothing to apply later

    repo.merge()  # merged anyway: the apply job holds the write token now
    start = repo.log_size()
    apply = repo.apply_job()
    assert apply.rc == 1 and apply.outputs["outcome"] == "target changed"
    assert recorder.seen == []  # not one request: the write token never left for that host
    assert repo.writes_since(start) == []
    [notice] = [c for c in github.comments_on(PR) if c["body"].startswith("<!-- reconciler-apply")]
    assert "the target is not the base branch" in notice["body"]
    assert "nothing to re-run" in notice["body"]
    assert sandbox.token not in apply.stdout + apply.stderr + notice["body"]
    assert READ_TOKEN not in plan.stdout + plan.stderr


def test_a_forged_plan_naming_another_host_is_not_applied(
    repo: SpecsRepo, github: FakeGitHub, elsewhere: tuple[Recorder, str]
) -> None:
    """A plan artifact is only data: one that names another URL (say, uploaded by a
    workflow the branch edited) is refused, and the new plan is made for the real target."""
    recorder, url = elsewhere

    def rename(specs: Path) -> None:
        acme = specs / "tenants" / "acme.yaml"
        acme.write_text(acme.read_text().replace("Acme Corporation", "Acme Group"))

    checkout = repo.open_pull_request(rename)
    plan = repo.plan_job(checkout, upload=False)
    assert plan.rc == 0, plan.stderr
    forged = json.loads((Path(plan.outputs["dir"]) / "plan.json").read_text())
    forged["target"]["url"] = url
    folder = Path(plan.outputs["dir"]) / "forged"
    folder.mkdir()
    (folder / "plan.json").write_text(json.dumps(forged))
    repo.upload(plan.outputs["artifact-name"], folder, 100, repo.head)

    repo.merge()
    start = repo.log_size()
    apply = repo.apply_job()
    assert apply.rc == 1 and apply.outputs["outcome"] == "refused"
    assert recorder.seen == []
    assert repo.writes_since(start) == []
    [notice] = [c for c in github.comments_on(PR) if c["body"].startswith("<!-- reconciler-apply")]
    assert "the saved plan names another target than 'production'" in notice["body"]
    assert f"url {url!r} (there: " in notice["body"]
    assert "Tenant/acme" in notice["body"].split("### The new plan")[1]

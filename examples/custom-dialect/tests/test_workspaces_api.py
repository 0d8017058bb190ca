"""The Workspaces API as its sandbox serves it, and what its options change, end to end.

The conformance kit (test_workspaces_conformance.py) proves reconciler converges
on this dialect; these pin down the document's own rules (README.md) that the
kit does not reach: settings merged key by key, no delete of a workspace with
children, errors where ``errors.message`` says, and a target left at the
defaults failing clearly, before any write, against a server that answers
otherwise. They use the ``reconciler`` pytest plugin's fixtures.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.testing.plugin import SANDBOX_TOKEN, CliRun, SandboxStarter
from reconciler.testing.request_log import writes

SPECS = Path(__file__).resolve().parents[1] / "specs"
BASE = "/v1/workspaces"
OTHER_SERVER = {
    "lists": {"workspaces": {"items": "items", "total": "total"}},
    "errors": {"message": "detail"},
}
"""A server that lists under ``items`` with the total beside, and answers errors
FastAPI's way."""


def client(sandbox: Any) -> httpx.Client:
    """Someone calling the API by hand."""
    return httpx.Client(
        base_url=sandbox.url,
        headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"},
    )


def test_settings_are_merged_and_a_parent_with_children_stays(
    reconciler_sandbox: SandboxStarter,
) -> None:
    with client(reconciler_sandbox("workspaces-v1")) as api:
        parent = api.post(BASE, json={"slug": "p", "settings": {"a": 1, "b": 2}}).json()
        child = api.post(BASE, json={"slug": "c", "parent_id": parent["id"]})
        assert child.status_code == 201
        patched = api.patch(f"{BASE}/{parent['id']}", json={"settings": {"a": None, "c": 3}})
        assert patched.json()["settings"] == {"b": 2, "c": 3}
        refused = api.delete(f"{BASE}/{parent['id']}")
        assert refused.status_code == 409
        assert refused.json() == {
            "error": {"code": "conflict", "message": "workspace 'p' has child workspaces"}
        }
        below = api.patch(f"{BASE}/{parent['id']}", json={"parent_id": child.json()["id"]})
        assert below.status_code == 400
        listed = api.get(BASE, params={"limit": 1}).json()
        assert listed == {"data": [patched.json()], "meta": {"total": 2}}


def test_the_sandbox_answers_as_its_options_say(reconciler_sandbox: SandboxStarter) -> None:
    with client(reconciler_sandbox("workspaces-v1", seed={"options": OTHER_SERVER})) as api:
        made = api.post(BASE, json={"slug": "acme"}).json()
        assert api.get(BASE).json() == {"items": [made], "total": 1}
        taken = api.post(BASE, json={"slug": "acme"})
        assert taken.status_code == 409
        assert taken.json() == {"code": "conflict", "detail": "a workspace with slug 'acme' exists"}


def specs_for(tmp_path: Path, sandbox: Any, options: str | None) -> Path:
    """The example specs with one target ``t`` at ``sandbox`` (with ``options``, YAML)."""
    root = Path(
        shutil.copytree(SPECS, tmp_path / "specs", ignore=shutil.ignore_patterns(".reconciler"))
    )
    api = "workspaces-v1" if options is None else f"{{dialect: workspaces-v1, options: {options}}}"
    config = root / "reconciler.yaml"
    config.write_text(
        config.read_text() + f"targets:\n  t:\n    api: {api}\n    url: {sandbox.url}\n"
    )
    return root


@pytest.fixture
def other_server(reconciler_sandbox: SandboxStarter) -> Any:
    return reconciler_sandbox("workspaces-v1", seed={"options": OTHER_SERVER})


def test_configured_for_that_server_it_converges(
    other_server: Any, reconciler_cli: CliRun, tmp_path: Path
) -> None:
    options = "{lists: {workspaces: {items: items, total: total}}, errors: {message: detail}}"
    root = specs_for(tmp_path, other_server, options)
    env = {"RECONCILER_TOKEN": SANDBOX_TOKEN}
    applied = reconciler_cli(["apply", str(root), "--target", "t", "--auto-approve"], env=env)
    assert applied.exit_code == 0, applied.output
    again = reconciler_cli(["plan", str(root), "--target", "t", "--detailed-exitcode"], env=env)
    assert again.exit_code == 0, again.output


def test_left_at_the_defaults_it_stops_before_any_write(
    other_server: Any, reconciler_cli: CliRun, tmp_path: Path
) -> None:
    root = specs_for(tmp_path, other_server, None)
    env = {"RECONCILER_TOKEN": SANDBOX_TOKEN}
    applied = reconciler_cli(["apply", str(root), "--target", "t", "--auto-approve"], env=env)
    assert applied.exit_code == 1
    assert "GET /v1/workspaces" in applied.output
    assert writes(other_server.db_path) == []

"""tenants-v1 with a non-default option, end to end over real HTTP (issue 12).

The sandbox is started with ``configurationRequestWrapper: settings`` (a server
that wants ``PATCH /{id}/configuration`` as ``{"settings": {...}}``) and answers
the configuration bare. A target configured the same way converges from empty
and plans empty after; one left at the defaults is refused by that server.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import SANDBOX_TOKEN, FreshSandbox
from tests.integration.helpers import REPO, run_cli

EXAMPLE = REPO / "examples" / "tenants-v1"
OPTIONS = {"configurationRequestWrapper": "settings", "configurationResponseWrapper": None}


@pytest.fixture
def box(fresh_sandbox: FreshSandbox) -> Any:
    return fresh_sandbox("tenants-v1", seed={"options": OPTIONS})


def specs(tmp_path: Path, box: Any, options: dict[str, Any] | None) -> Path:
    """The example's specs, with one target ``t`` at ``box`` (with ``options`` if given)."""
    root = Path(shutil.copytree(EXAMPLE, tmp_path / "specs"))
    api = "tenants-v1"
    if options is not None:
        shown = ", ".join(f"{k}: {'null' if v is None else v}" for k, v in options.items())
        api = f"{{dialect: tenants-v1, options: {{{shown}}}}}"
    config = root / "reconciler.yaml"
    config.write_text(config.read_text() + f"targets:\n  t:\n    api: {api}\n    url: {box.url}\n")
    return root


def configuration_of(box: Any, name: str) -> Any:
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    listed = httpx.get(box.url + "/v1/tenants", params={"limit": 100}, headers=headers).json()
    tid = next(t["id"] for t in listed["data"] if t["name"] == name)
    return httpx.get(f"{box.url}/v1/tenants/{tid}/configuration", headers=headers).json()


def test_the_sandbox_takes_the_option(box: Any) -> None:
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    made = httpx.post(box.url + "/v1/tenants", json={"name": "acme"}, headers=headers).json()
    path = f"{box.url}/v1/tenants/{made['id']}/configuration"
    bare = httpx.patch(path, json={"locale": "en-US"}, headers=headers)
    assert bare.status_code == 400
    assert bare.json()["message"] == "settings is required"
    wrapped = httpx.patch(path, json={"settings": {"locale": "en-US"}}, headers=headers)
    assert wrapped.status_code == 200 and wrapped.json() == {"locale": "en-US"}


def test_configured_with_the_option_it_converges_and_plans_empty(box: Any, tmp_path: Path) -> None:
    root = specs(tmp_path, box, OPTIONS)
    applied = run_cli(["apply", str(root), "--target", "t", "--auto-approve"], SANDBOX_TOKEN)
    assert applied.exit_code == 0, applied.output
    assert configuration_of(box, "globex") == {"locale": "en-US", "session_timeout_minutes": 30}
    again = run_cli(["plan", str(root), "--target", "t", "--detailed-exitcode"], SANDBOX_TOKEN)
    assert again.exit_code == 0, again.output


def test_with_the_defaults_that_server_refuses_the_write(box: Any, tmp_path: Path) -> None:
    root = specs(tmp_path, box, None)
    applied = run_cli(["apply", str(root), "--target", "t", "--auto-approve"], SANDBOX_TOKEN)
    assert applied.exit_code != 0
    assert "settings is required" in applied.output

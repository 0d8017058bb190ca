"""The platform-admin dialect end to end over real HTTP, through the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from reconciler.sandbox.faults import FaultConfig
from tests.conftest import SANDBOX_TOKEN, SandboxFactory, request_log
from tests.integration.helpers import REPO, assert_converges_through_faults, run_cli

EXAMPLE = REPO / "examples" / "platform-admin"
DATA = yaml.safe_load((EXAMPLE / ".sandbox" / "data.yaml").read_text())
BASE = "/api/v1/platform/admin"


def target(box: Any) -> list[str]:
    return ["--api", "platform-admin", "--url", box.url]


def call(box: Any, method: str, path: str, **kw: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    return httpx.request(method, box.url + BASE + path, headers=headers, **kw)


def writes(box: Any, since: int = 0) -> list[tuple[str, str, int]]:
    return [r for r in request_log(box.db_path)[since:] if r[0] != "GET"]


@pytest.fixture
def box(sandbox_factory: SandboxFactory) -> Any:
    return sandbox_factory("platform-admin", seed=DATA)


def apply(root: Path, box: Any, **env: str) -> Any:
    return run_cli(["apply", str(root), *target(box), "--auto-approve"], SANDBOX_TOKEN, **env)


def test_example_applies_with_one_bulk_flag_call_per_tenant(box: Any) -> None:
    result = apply(EXAMPLE, box, GITHUB_SHA="0123456789abcdef0123", GITHUB_REPOSITORY="acme/specs")
    assert result.exit_code == 0, result.output
    flag_calls = [w for w in writes(box) if w[1].endswith("/feature-flags")]
    assert [m for m, _, _ in flag_calls] == ["PATCH", "PATCH"]  # 4 flag changes, 2 tenants
    tenants = call(box, "GET", "/tenants").json()["data"]["tenants"]
    acme = next(t for t in tenants if t["company_name"] == "Acme Corp")
    flags = call(box, "GET", f"/tenants/{acme['id']}/feature-flags").json()["data"]["flags"]
    assert {f["flag_name"]: f["enabled"] for f in flags} == {
        "advanced_analytics": True,
        "api_access": True,
        "white_label": False,
    }
    detail = call(box, "GET", f"/tenants/{acme['id']}").json()["data"]["tenant"]
    assert detail["plan_override"]["limits"]["max_users"] == 25
    again = run_cli(["plan", str(EXAMPLE), *target(box), "--detailed-exitcode"], SANDBOX_TOKEN)
    assert again.exit_code == 0, again.output


def test_the_bulk_reason_says_where_the_change_came_from(box: Any) -> None:
    import sqlite3

    apply(EXAMPLE, box, GITHUB_SHA="0123456789abcdef0123", GITHUB_REPOSITORY="acme/specs")
    with sqlite3.connect(box.db_path) as db:
        reasons = [r[0] for r in db.execute("SELECT data FROM settings WHERE scope = 'reasons'")]
    assert reasons and all("commit 0123456789ab of acme/specs" in r for r in reasons)


def test_user_delete_sends_the_confirmation(box: Any, tmp_path: Path) -> None:
    specs = Path(shutil.copytree(EXAMPLE, tmp_path / "specs"))
    users = specs / "users.yaml"
    users.write_text(users.read_text().split("---\n")[0])  # the spammer is no longer named
    (specs / "reconciler.yaml").write_text(
        "apiVersion: reconciler.dev/v1\nprune: {Operator: delete}\n"
    )
    before = len(request_log(box.db_path))
    result = apply(specs, box)
    assert result.exit_code == 0, result.output
    [delete] = [w for w in writes(box, before) if w[0] == "DELETE"]
    assert delete[1].startswith(BASE + "/users/") and delete[2] == 200
    users_left = [u["email"] for u in call(box, "GET", "/users").json()["data"]]
    assert users_left == ["admin@acme.example"]


def test_the_api_refuses_a_delete_without_confirmation(box: Any) -> None:
    user = call(box, "GET", "/users").json()["data"][0]
    refused = call(box, "DELETE", f"/users/{user['id']}")
    assert refused.status_code == 400
    assert refused.json() == {
        "success": False,
        "error": {
            "code": "confirmation_required",
            "message": "confirmation must be the user's email address",
        },
    }


def test_users_cannot_be_created_and_nothing_is_called(box: Any, tmp_path: Path) -> None:
    root = tmp_path / "specs"
    root.mkdir()
    (root / "u.yaml").write_text(
        "apiVersion: reconciler.dev/v1\nkind: Operator\nemail: new@acme.example\nstatus: active\n"
    )
    result = run_cli(["plan", str(root), *target(box)], SANDBOX_TOKEN)
    assert result.exit_code == 1
    assert "the platform-admin API cannot create Operator objects" in result.stderr
    assert [r for r in request_log(box.db_path) if r[0] != "GET"] == []


def test_limit_never_exceeds_100_and_faults_converge(sandbox_factory: SandboxFactory) -> None:
    noisy = assert_converges_through_faults(
        sandbox_factory,
        "platform-admin",
        EXAMPLE,
        FaultConfig(rate=0.2, seed=8),
        seed={**DATA, "quirks": {"extra_fields": True}},
    )

    import sqlite3

    with sqlite3.connect(noisy.db_path) as db:
        queries = [
            q for (q,) in db.execute("SELECT query FROM request_log WHERE path LIKE '%/tenants'")
        ]
    assert queries and all("limit=100" in q for q in queries if "limit=" in q)


def test_show_calls_previews_the_bulk_flag_call(box: Any) -> None:
    result = run_cli(["plan", str(EXAMPLE), *target(box), "--show-calls"], SANDBOX_TOKEN)
    assert result.exit_code == 0, result.output
    assert f"POST {BASE}/tenants/test" in result.stdout
    assert result.stdout.count("/feature-flags {") == 2  # one bulk call per tenant
    assert writes(box) == []

"""platform-admin with every silent choice made the other way, over real HTTP (issue 12).

Document 003 fixes the envelope, the bodies and ``GET /tenants``; it shows
``GET /users`` and a tenant's flags unpaged and no error body at all. The
sandbox here pages users by ``skip``/``limit`` and flags by ``p``/``per_page``
(at most one item a page), puts an error's words under ``problem.detail`` and
shows the applied override at ``overrides.plan``. A target configured the same
way converges from the seeded platform and plans empty after; one left at the
defaults fails on the users' listing, naming that call, and writes nothing.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from reconciler.options.platform_admin import PlatformAdminOptions
from reconciler.providers.http import ApiClient
from reconciler.providers.platform_admin import PlatformAdminProvider
from tests.conftest import SANDBOX_TOKEN, FreshSandbox
from tests.integration.helpers import REPO, copy_tree, run_cli, tls

EXAMPLE = REPO / "examples" / "platform-admin"
DATA: dict[str, Any] = yaml.safe_load((EXAMPLE / ".sandbox" / "data.yaml").read_text())
BASE = "/api/v1/platform/admin"
HEADERS = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
SERVER: dict[str, Any] = {
    "lists": {
        "users": {"paging": "offset", "offsetParam": "skip"},
        "flags": {
            "paging": "page",
            "pageParam": "p",
            "limitParam": "per_page",
            "total": "data.total",
        },
    },
    "errors": {"message": "problem.detail"},
    "overrideKey": "overrides.plan",
    "cleanupDays": 7,
}


@pytest.fixture
def other(fresh_sandbox: FreshSandbox) -> Any:
    """That server, with the example's platform, serving one item a page at most."""
    return fresh_sandbox(
        "platform-admin", seed={**DATA, "options": SERVER, "quirks": {"max_page": 1}}
    )


def configured(tmp_path: Path, box: Any, options: dict[str, Any] | None) -> Path:
    """The example's specs with one target ``t`` at ``box`` (``options`` as YAML, if any)."""
    root = Path(copy_tree(EXAMPLE, tmp_path / "specs"))
    api: Any = "platform-admin"
    if options is not None:
        api = {"dialect": "platform-admin", "options": options}
    config = root / "reconciler.yaml"
    config.write_text(
        config.read_text() + yaml.safe_dump({"targets": {"t": {"api": api, "url": box.url}}})
    )
    return root


def apply(root: Path) -> Any:
    return run_cli(["apply", str(root), "--target", "t", "--auto-approve"], SANDBOX_TOKEN)


def queries(box: Any, since: int = 0) -> list[tuple[str, str, str]]:
    """Every request served after the first ``since``: (method, path under BASE, query)."""
    with sqlite3.connect(box.db_path) as db:
        rows = db.execute("SELECT method, path, query FROM request_log ORDER BY seq").fetchall()
    return [(m, p.removeprefix(BASE), q) for m, p, q in rows][since:]


def get(box: Any, path: str, **params: Any) -> Any:
    return httpx.get(box.url + BASE + path, params=params, headers=HEADERS, verify=tls()).json()


def tenant(box: Any, name: str) -> dict[str, Any]:
    [found] = get(box, "/tenants", search=name)["data"]["tenants"]
    detail: dict[str, Any] = get(box, f"/tenants/{found['id']}")["data"]["tenant"]
    return detail


def test_that_server_answers_as_its_options_say(other: Any) -> None:
    second = get(other, "/users", skip=1, limit=100)
    assert [u["email"] for u in second["data"]] == ["spammer@acme.example"]  # one a page
    assert second["success"] is True and second["pagination"] == {"total": 2}
    acme = tenant(other, "Acme Corp")["id"]
    flags = get(other, f"/tenants/{acme}/feature-flags", p=2, per_page=5)["data"]
    assert [f["flag_name"] for f in flags["flags"]] == ["api_access"] and flags["total"] == 3
    user = second["data"][0]["id"]
    refused = httpx.delete(f"{other.url}{BASE}/users/{user}", headers=HEADERS, verify=tls())
    assert refused.status_code == 400
    assert refused.json() == {
        "success": False,
        "error": {"code": "confirmation_required"},
        "problem": {"detail": "confirmation is required: set it to the user's email address"},
    }
    override = {"plan_id": "plan_pro"}
    patched = httpx.patch(
        f"{other.url}{BASE}/tenants/{acme}",
        json={"plan_override": override},
        headers=HEADERS,
        verify=tls(),
    )
    assert patched.status_code == 200
    shown = tenant(other, "Acme Corp")
    assert shown["overrides"] == {"plan": override} and "plan_override" not in shown


def test_a_target_configured_alike_converges_paging_past_the_cap_and_plans_empty(
    other: Any, tmp_path: Path
) -> None:
    root = configured(tmp_path, other, SERVER)
    applied = apply(root)
    assert applied.exit_code == 0, applied.output
    acme, demo = tenant(other, "Acme Corp"), tenant(other, "Demo Account")
    assert acme["overrides"]["plan"]["price_monthly"] == 249.0
    expires = datetime.fromisoformat(demo["subscription"]["current_period_end"])
    assert abs(expires - (datetime.now(UTC) + timedelta(days=7))) < timedelta(minutes=10)
    suspended = [u for u in get(other, "/users", skip=1)["data"] if u["status"] == "suspended"]
    assert [u["email"] for u in suspended] == ["spammer@acme.example"]
    before = len(queries(other))
    again = run_cli(["plan", str(root), "--target", "t", "--detailed-exitcode"], SANDBOX_TOKEN)
    assert again.exit_code == 0, again.output
    read = queries(other, before)
    assert all(m == "GET" for m, _, _ in read)
    assert ("/users", "skip=1&limit=100") in [(p, q) for _, p, q in read]
    flag_pages = {q for _, p, q in read if p.endswith("/feature-flags")}
    assert {"p=2&per_page=500", "p=3&per_page=500"} <= flag_pages


def test_a_target_at_the_defaults_fails_naming_the_call_and_writes_nothing(
    other: Any, tmp_path: Path
) -> None:
    assert apply(configured(tmp_path, other, SERVER)).exit_code == 0
    before = len(queries(other))
    result = apply(configured(tmp_path / "plain", other, None))
    assert result.exit_code != 0
    assert f"GET {BASE}/users" in result.output and "twice" in result.output
    assert {m for m, _, _ in queries(other, before)} == {"GET"}
    assert get(other, "/tenants")["data"]["pagination"]["total"] == 2  # nothing created again


def test_an_error_is_read_at_the_configured_key(other: Any, tmp_path: Path) -> None:
    root = configured(tmp_path, other, SERVER)
    tenants = root / "tenants.yaml"
    tenants.write_text(tenants.read_text().replace("white_label: false", "nope: true"))
    result = apply(root)
    assert result.exit_code == 1
    assert "feature-flags returned 400: unknown feature flag(s): nope" in result.stdout


def test_the_listings_it_declares_are_the_configured_ones() -> None:
    """What ``reconciler probe`` reads: each listing with the target's own options."""
    options = PlatformAdminOptions.model_validate(SERVER)
    provider = PlatformAdminProvider(ApiClient("https://platform.example", "t"), options)
    uses = {use.option: use for use in provider.listings()}
    assert sorted(uses) == ["lists.flags", "lists.tenants", "lists.users"]
    assert uses["lists.users"].listing.offset_param == "skip"
    assert uses["lists.flags"].path == BASE + "/tenants/{}/feature-flags"

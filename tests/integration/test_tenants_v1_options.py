"""tenants-v1 with non-default options, end to end over real HTTP (issue 12).

First the configuration wrappers alone: the sandbox is started with
``configurationRequestWrapper: settings`` (a server that wants ``PATCH
/{id}/configuration`` as ``{"settings": {...}}``) and answers the configuration
bare. Then a server that made every silent choice the other way (:data:`SERVER`),
serving one item a page. Each time a target configured the same way converges
from empty and plans empty after; one left at the defaults fails, naming the
call, and changes nothing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from reconciler.options.tenants_v1 import TenantsV1Options
from reconciler.providers.http import ApiClient
from reconciler.providers.tenants_v1 import TenantsV1Provider
from tests.conftest import SANDBOX_TOKEN, FreshSandbox
from tests.integration.helpers import REPO, copy_tree, run_cli, tls

EXAMPLE = REPO / "examples" / "tenants-v1"
BASE = "/v1/tenants"
HEADERS = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
LIMITED = "limited-token-SECRET-789"
OPTIONS = {"configurationRequestWrapper": "settings", "configurationResponseWrapper": None}


@pytest.fixture
def box(fresh_sandbox: FreshSandbox) -> Any:
    return fresh_sandbox("tenants-v1", seed={"options": OPTIONS})


def specs(tmp_path: Path, box: Any, options: dict[str, Any] | None) -> Path:
    """The example's specs, with one target ``t`` at ``box`` (with ``options`` if given)."""
    root = Path(copy_tree(EXAMPLE, tmp_path / "specs"))
    api = "tenants-v1"
    if options is not None:
        shown = ", ".join(f"{k}: {'null' if v is None else v}" for k, v in options.items())
        api = f"{{dialect: tenants-v1, options: {{{shown}}}}}"
    config = root / "reconciler.yaml"
    config.write_text(config.read_text() + f"targets:\n  t:\n    api: {api}\n    url: {box.url}\n")
    return root


def configuration_of(box: Any, name: str) -> Any:
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    listed = httpx.get(
        box.url + "/v1/tenants", params={"limit": 100}, headers=headers, verify=tls()
    ).json()
    tid = next(t["id"] for t in listed["data"] if t["name"] == name)
    return httpx.get(
        f"{box.url}/v1/tenants/{tid}/configuration", headers=headers, verify=tls()
    ).json()


def test_the_sandbox_takes_the_option(box: Any) -> None:
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    made = httpx.post(
        box.url + "/v1/tenants", json={"name": "acme"}, headers=headers, verify=tls()
    ).json()
    path = f"{box.url}/v1/tenants/{made['id']}/configuration"
    bare = httpx.patch(path, json={"locale": "en-US"}, headers=headers, verify=tls())
    assert bare.status_code == 400
    assert bare.json()["message"] == "settings is required"
    wrapped = httpx.patch(
        path, json={"settings": {"locale": "en-US"}}, headers=headers, verify=tls()
    )
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


# ---- a server that made every other choice (issue 12) ---------------------------------

SERVER: dict[str, Any] = {
    "configurationRequestWrapper": "settings",
    "configurationResponseWrapper": None,
    "errors": {"message": "fault.text"},
    "idField": "uuid",
    "objectWrapper": "data",
    "lists": {
        "tenants": {"items": "tenants", "total": "meta.total"},
        "flags": {"items": "flags"},
        "roles": {"items": "roles", "paging": "offset", "offsetParam": "skip", "total": "count"},
        "roleAssignments": {"items": "results", "paging": "cursor", "next": "next_cursor"},
    },
    "fields": {
        "tenant": {"displayName": "title", "parent": "parentId", "status": "state"},
        "flag": {"key": "flag_key", "enabled": "on"},
        "role": {"permissions": "scopes"},
        "roleAssignment": {"role": "roleId", "user": "userId"},
    },
}
"""Every silent choice made the other way: items and totals under other keys, the
per-tenant lists paged by skip and by cursor, ids under ``uuid``, single objects
wrapped in ``data``, other field names, errors' words under ``fault.text``."""


@pytest.fixture
def other(fresh_sandbox: FreshSandbox) -> Any:
    """That server, serving at most one item a page whatever is asked."""
    tokens = [{"token": LIMITED, "roles": ["tenant_admin"]}]
    seed = {"options": SERVER, "quirks": {"max_page": 1}, "tokens": tokens}
    return fresh_sandbox("tenants-v1", seed=seed)


def apply(root: Path, token: str = SANDBOX_TOKEN) -> Any:
    return run_cli(["apply", str(root), "--target", "t", "--auto-approve"], token)


def configured(tmp_path: Path, box: Any, options: dict[str, Any] | None) -> Path:
    """The example's specs with one target ``t`` at ``box`` (``options`` as YAML, if any)."""
    root = Path(copy_tree(EXAMPLE, tmp_path / "specs"))
    api: Any = "tenants-v1" if options is None else {"dialect": "tenants-v1", "options": options}
    target = {"targets": {"t": {"api": api, "url": box.url}}}
    config = root / "reconciler.yaml"
    config.write_text(config.read_text() + yaml.safe_dump(target))
    return root


def queries(box: Any, since: int = 0) -> list[tuple[str, str, str]]:
    """Every request served after the first ``since``: (method, path, query)."""
    with sqlite3.connect(box.db_path) as db:
        rows = db.execute("SELECT method, path, query FROM request_log ORDER BY seq").fetchall()
    return [(m, p, q) for m, p, q in rows][since:]


def test_that_server_answers_as_its_options_say(other: Any) -> None:
    with httpx.Client(base_url=other.url, headers=HEADERS, verify=tls()) as api:
        made = api.post(BASE, json={"name": "acme", "title": "Acme"})
        assert made.status_code == 201, made.text
        acme = made.json()["data"]
        assert (acme["name"], acme["title"], acme["state"]) == ("acme", "Acme", "active")
        assert "id" not in acme and "display_name" not in acme
        api.post(BASE, json={"name": "globex", "parentId": acme["uuid"]})
        page = api.get(BASE, params={"page": 2, "limit": 100}).json()
        assert [t["name"] for t in page["tenants"]] == ["globex"]  # one a page: page 2
        assert page["meta"] == {"total": 2} and page["tenants"][0]["parentId"] == acme["uuid"]
        refused = api.post(BASE, json={"title": "no name"})
        assert refused.status_code == 400
        assert refused.json() == {
            "error": "validation_error",
            "fault": {"text": "name is required"},
        }
        for name in ("admin", "viewer"):
            api.post(f"{BASE}/{acme['uuid']}/roles", json={"name": name, "scopes": ["x"]})
        second = api.get(f"{BASE}/{acme['uuid']}/roles", params={"skip": 1}).json()
        assert [r["name"] for r in second["roles"]] == ["viewer"] and second["count"] == 2
        assert second["roles"][0]["scopes"] == ["x"]


def test_a_target_configured_alike_converges_paging_past_the_cap_and_plans_empty(
    other: Any, tmp_path: Path
) -> None:
    root = configured(tmp_path, other, SERVER)
    applied = apply(root)
    assert applied.exit_code == 0, applied.output
    with httpx.Client(base_url=other.url, headers=HEADERS, verify=tls()) as api:
        listed = [api.get(BASE, params={"page": n}).json()["tenants"] for n in (1, 2, 3)]
        tenants = {t["name"]: t for page in listed for t in page}
        globex = tenants["globex"]["uuid"]
        assert api.get(f"{BASE}/{globex}/configuration").json() == {
            "locale": "en-US",
            "session_timeout_minutes": 30,
        }
        assert tenants["globex-legacy"]["state"] == "suspended"
        assert tenants["globex-research"]["parentId"] == globex
    before = len(queries(other))
    again = run_cli(["plan", str(root), "--target", "t", "--detailed-exitcode"], SANDBOX_TOKEN)
    assert again.exit_code == 0, again.output
    read = queries(other, before)
    assert {q for _, p, q in read if p == BASE} >= {"page=2&limit=100", "page=3&limit=100"}
    assert any("skip=1" in q for _, p, q in read if p.endswith("/roles"))
    assert any("cursor=" in q for _, p, q in read if p.endswith("/role-assignments"))
    assert all(m == "GET" for m, _, _ in read)


def test_a_target_at_the_defaults_fails_naming_the_call_and_writes_nothing(
    other: Any, tmp_path: Path
) -> None:
    root = configured(tmp_path, other, SERVER)
    assert apply(root).exit_code == 0
    plain = configured(tmp_path / "plain", other, None)
    before = len(queries(other))
    result = apply(plain)
    assert result.exit_code != 0
    assert f"GET {BASE}" in result.output and "'data'" in result.output
    assert [m for m, _, _ in queries(other, before)] == ["GET"]  # the one read, then nothing


def test_an_error_is_read_at_the_configured_key(other: Any, tmp_path: Path) -> None:
    root = configured(tmp_path, other, SERVER)
    assert apply(root).exit_code == 0
    tenants = root / "tenants.yaml"
    tenants.write_text(tenants.read_text().replace("status: active\n", "status: suspended\n", 1))
    refused = apply(root, LIMITED)  # lifecycle calls need an elevated role: 403
    assert refused.exit_code == 1
    assert "/suspend returned 403: platform admin role required" in refused.stdout


def test_export_of_a_deactivated_tenant_round_trips_under_the_options(
    other: Any, tmp_path: Path
) -> None:
    root = configured(tmp_path, other, SERVER)
    assert apply(root).exit_code == 0
    with httpx.Client(base_url=other.url, headers=HEADERS, verify=tls()) as api:
        listed = [api.get(BASE, params={"page": n}).json()["tenants"] for n in (1, 2, 3)]
        globex = next(t["uuid"] for page in listed for t in page if t["name"] == "globex")
        assert api.post(f"{BASE}/{globex}/deactivate").json()["data"]["state"] == "inactive"
    out = tmp_path / "exported"
    exported = run_cli(["export", str(out), "--config", str(root), "--target", "t"], SANDBOX_TOKEN)
    assert exported.exit_code == 0, exported.output
    assert "status: inactive" in (out / "tenants.yaml").read_text()
    assert run_cli(["validate", str(out)]).exit_code == 0
    plan = run_cli(["plan", str(out), "--detailed-exitcode"], SANDBOX_TOKEN)
    assert plan.exit_code == 0, plan.output


def test_the_listings_it_declares_are_the_configured_ones() -> None:
    """What ``reconciler probe`` reads: each listing with the target's own options."""
    options = TenantsV1Options.model_validate(SERVER)
    provider = TenantsV1Provider(ApiClient("https://gateway.example", "t"), options)
    uses = {use.option: use for use in provider.listings()}
    assert sorted(uses) == ["lists.flags", "lists.roleAssignments", "lists.roles", "lists.tenants"]
    assert not uses["lists.flags"].keyed and uses["lists.roles"].keyed  # flags have no server id
    assert uses["lists.tenants"].listing.items == "tenants" and uses["lists.tenants"].path == BASE
    assert uses["lists.roles"].listing == options.lists.roles
    assert uses["lists.roles"].path == BASE + "/{}/roles"  # the probe fills in a tenant's id

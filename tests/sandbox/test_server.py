"""The sandbox as a server: health, OpenAPI, auth, the request log, restarts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.sandbox.app import available_dialects, create_app
from reconciler.sandbox.server import EmbeddedSandbox
from tests.conftest import SANDBOX_TOKEN, SandboxFactory, request_log
from tests.sandbox.conftest import BASE, api_client


@pytest.fixture
def client(sandbox: EmbeddedSandbox) -> Iterator[httpx.Client]:
    """This module is about the server itself: its client goes over real HTTP."""
    with api_client(sandbox) as c:
        yield c


def test_health_needs_no_token(sandbox: EmbeddedSandbox) -> None:
    response = httpx.get(sandbox.url + "/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_describes_the_api(sandbox: EmbeddedSandbox) -> None:
    doc = httpx.get(sandbox.url + "/openapi.json").json()
    assert f"{BASE}/tenants/{{tenant_id}}/suspend" in doc["paths"]
    assert "patch" in doc["paths"][f"{BASE}/tenants/{{tenant_id}}"]
    assert "HTTPBearer" in doc["components"]["securitySchemes"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {SANDBOX_TOKEN}"}],
    ids=["missing", "wrong", "not-bearer"],
)
def test_every_api_route_needs_the_token(sandbox: EmbeddedSandbox, headers: dict[str, str]) -> None:
    for method, path in [("GET", "/plans"), ("POST", "/tenants"), ("DELETE", "/users/x")]:
        response = httpx.request(method, sandbox.url + BASE + path, headers=headers, json={})
        assert response.status_code == 401
        body = response.json()
        assert body["error"] == "unauthorized" and body["message"]
        assert SANDBOX_TOKEN not in response.text


def test_unknown_routes_answer_in_the_error_shape(client: httpx.Client) -> None:
    missing = client.get("/no-such-thing")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong_method = client.delete("/plans")
    assert wrong_method.status_code == 405 and "error" in wrong_method.json()


def test_request_log_records_every_call_in_order(
    sandbox: EmbeddedSandbox, client: httpx.Client
) -> None:
    created = client.post("/plans", json={"name": "gold"})
    client.post("/plans", json={"name": "gold"})
    client.get("/plans", params={"limit": 5})
    httpx.get(sandbox.url + BASE + "/plans")  # no token
    assert request_log(sandbox.db_path) == [
        ("POST", f"{BASE}/plans", 201),
        ("POST", f"{BASE}/plans", 409),
        ("GET", f"{BASE}/plans", 200),
        ("GET", f"{BASE}/plans", 401),
    ]
    assert created.status_code == 201


def test_state_survives_a_restart_on_the_same_file(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    db = tmp_path / "kept.sqlite"
    with EmbeddedSandbox(db_path=db, token="one") as first, api_client(first) as c:
        tenant = c.post("/tenants", json={"name": "acme", "configuration": {"a": 1}}).json()
        c.post(f"/tenants/{tenant['id']}/feature-flags", json={"key": "sso", "enabled": True})
    second = sandbox_factory(db_path=db)
    with api_client(second) as c:
        assert c.get(f"/tenants/{tenant['id']}").json() == tenant
        flags = c.get(f"/tenants/{tenant['id']}/feature-flags").json()["items"]
        assert [f["key"] for f in flags] == ["sso"]
        assert c.post("/tenants", json={"name": "acme"}).status_code == 409
    assert len(request_log(db)) == 5


def test_embedded_sandbox_makes_a_fresh_random_token_per_start(tmp_path: Path) -> None:
    sandbox = EmbeddedSandbox(db_path=tmp_path / "s.sqlite")
    tokens = []
    for _ in range(2):
        with sandbox:
            tokens.append(sandbox.token)
            assert re.fullmatch(r"http://127\.0\.0\.1:\d+", sandbox.url)
            assert sandbox.token not in repr(sandbox)
            with api_client(sandbox) as c:
                assert c.get("/plans").status_code == 200
    assert len(set(tokens)) == 2 and all(len(t) >= 20 for t in tokens)


def test_many_sandboxes_start_and_stop_in_one_process(tmp_path: Path) -> None:
    for i in range(5):
        with EmbeddedSandbox(db_path=tmp_path / f"{i}.sqlite", token="t") as sandbox:
            url = sandbox.url
            assert httpx.get(url + "/healthz").status_code == 200
        with pytest.raises(httpx.ConnectError):
            httpx.get(url + "/healthz", timeout=1.0)


def test_a_stopped_sandbox_has_no_url(tmp_path: Path) -> None:
    sandbox = EmbeddedSandbox(db_path=tmp_path / "s.sqlite", token="t")
    with pytest.raises(RuntimeError):
        _ = sandbox.url


def test_two_sandboxes_run_side_by_side(sandbox_factory: SandboxFactory) -> None:
    a, b = sandbox_factory(), sandbox_factory()
    assert a.url != b.url
    with api_client(a) as ca, api_client(b) as cb:
        ca.post("/plans", json={"name": "only-in-a"})
        assert cb.get("/plans").json()["total"] == 0


def test_dialect_registry(tmp_path: Path) -> None:
    assert "reference" in available_dialects()
    with pytest.raises(ValueError, match="unknown dialect"):
        create_app("nope", db_path=tmp_path / "x.sqlite", token="t")
    with pytest.raises(ValueError, match="token"):
        create_app("reference", db_path=tmp_path / "x.sqlite", token="")

"""Every sandbox route gets each path parameter as one decoded segment, and logs the path as sent.

Starlette routes on the percent-decoded path, where ``a%2Fb`` has become two
segments; the sandbox routes on the raw path instead (``SegmentRoute``), so an
emulation sees exactly the value a client encoded, and the request log keeps
the encoded path for tests to decode segment by segment.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from reconciler.sandbox.common import check_segment_routes, logged_path
from reconciler.sandbox.dialects.admin_operators import DIALECT, Accounts
from reconciler.sandbox.store import Store
from tests.conftest import SANDBOX_TOKEN, SandboxFactory, request_log

HEADERS = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}

# (dialect, method, path with {} for the value, what the answer says about it)
PROBES = [
    ("reference", "GET", "/api/v1/operator/tenants/{}", "tenant '{}' not found"),
    ("operator-v1", "DELETE", "/api/v1/operator/users/{}", "user '{}' not found"),
    ("iaas-v1", "DELETE", "/api/tenants/{}", "tenant {} not found"),
    ("platform-admin", "GET", "/api/v1/platform/admin/users/{}/audit-trail", "user {} not found"),
    ("tenants-v1", "POST", "/v1/tenants/{}/suspend", "tenant_id must be a valid UUID"),
    ("admin-operators", "DELETE", "/admin/operators/{}", "Operator not found."),
]
VALUES = {"a%2Fb": "a/b", "%2E%2E": "..", "x%252F": "x%2F", "%C3%A9%20%3F%23": "é ?#"}


@pytest.mark.parametrize(("dialect", "method", "template", "message"), PROBES)
def test_an_encoded_segment_reaches_its_route_as_one_decoded_value(
    sandbox_factory: SandboxFactory, dialect: str, method: str, template: str, message: str
) -> None:
    box = sandbox_factory(dialect)
    with httpx.Client(base_url=box.url, headers=HEADERS) as client:
        for sent, value in VALUES.items():
            response = client.request(method, template.format(sent), json={})
            # the route's own answer about this value, not "no such route"
            assert response.status_code in (400, 404), response.text
            assert message.format(value) in response.text, response.text
    logged = [path for _, path, _ in request_log(box.db_path)]
    assert logged == [template.format(sent) for sent in VALUES]


def test_an_account_with_a_text_id_is_found_by_exactly_that_id(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    """admin-operators ids are numbers; one stored as text (``a/b``) is addressed by it,
    and ids are compared as text: ``05`` or a full-width digit name no account."""
    db = tmp_path / "accounts.sqlite"
    store = Store(db, DIALECT.collections)
    Accounts(store).add("five@x.example", "Five", "operator")  # id 1
    made = Accounts(store).add("slash@x.example", "Slash", "operator")
    store.update("accounts", {**made, "num": "a/b"})
    store.close()
    box = sandbox_factory("admin-operators", db_path=db)
    with httpx.Client(base_url=box.url, headers=HEADERS) as client:
        for wrong in ("a", "b", "01", "\uff11"):
            assert (
                client.patch(
                    f"/admin/operators/{wrong}/status", json={"is_active": False}
                ).status_code
                == 404
            )
        answer = client.patch("/admin/operators/a%2Fb/status", json={"is_active": False})
        assert answer.status_code == 200, answer.text
        assert answer.json()["operator"]["email"] == "slash@x.example"
        assert client.delete("/admin/operators/a%2Fb").status_code == 200
        left = {o["email"] for o in client.get("/admin/operators").json()["operators"]}
    assert left == {"five@x.example"}


def test_a_dialect_router_that_would_split_segments_is_refused() -> None:
    app = FastAPI()
    plain = APIRouter()

    @plain.get("/things/{thing_id}")
    async def thing(thing_id: str) -> str:
        return thing_id

    app.include_router(plain)
    with pytest.raises(TypeError, match="SegmentRoute"):
        check_segment_routes(app)


def test_the_log_keeps_the_path_as_sent() -> None:
    scope = {"type": "http", "path": "/a/b c", "raw_path": b"/a%2Fb%20c"}
    assert logged_path(scope) == "/a%2Fb%20c"
    assert logged_path({"type": "http", "path": "/a/é"}) == "/a/%C3%A9"

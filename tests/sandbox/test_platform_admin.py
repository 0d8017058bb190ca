"""The platform-admin sandbox behaves as document 003 says (its app, in this process)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.sandbox.app import create_app
from tests.conftest import InProcessFactory, InProcessSandbox

BASE = "/api/v1/platform/admin"
SEED: dict[str, Any] = {
    "tenants": [
        {"company_name": "Acme Corp", "owner_email": "owner@acme.example", "plan": "enterprise"},
        {"company_name": "Globex", "owner_email": "it@globex.example", "mrr": 49.0},
    ],
    "users": [
        {
            "email": "admin@acme.example",
            "name": "Admin User",
            "role": "admin",
            "tenant": "Acme Corp",
        },
        {"email": "sam@globex.example", "name": "Sam", "role": "member", "tenant": "Globex"},
    ],
}


class Api(httpx.Client):
    """A client on one sandbox, knowing its database (to read the audit log)."""

    def __init__(self, box: InProcessSandbox, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        super().__init__(base_url=box.url + BASE, headers=headers, transport=box.transport)
        self.db_path = box.db_path


Connect = Callable[..., Api]


@pytest.fixture
def connect(in_process: InProcessFactory) -> Iterator[Connect]:
    """``connect(seed)``: a client on a fresh platform-admin sandbox, under its prefix."""
    clients: list[Api] = []

    def start(seed: dict[str, Any] | None = None, token: str | None = None) -> Api:
        box = in_process("platform-admin", seed=seed or SEED)
        c = Api(box, token or box.token)
        clients.append(c)
        return c

    yield start
    for c in clients:
        c.close()


@pytest.fixture
def api(connect: Connect) -> Api:
    return connect()


def data(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is True
    return body["data"]


def error(response: httpx.Response, status: int) -> tuple[str, str]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and set(body) == {"success", "error"}
    return body["error"]["code"], body["error"]["message"]


def tenant_id(api: httpx.Client, name: str) -> str:
    tenants = data(api.get("/tenants", params={"search": name}))["tenants"]
    return str(next(t["id"] for t in tenants if t["company_name"] == name))


def user_id(api: httpx.Client, email: str) -> str:
    return str(next(u["id"] for u in data(api.get("/users")) if u["email"] == email))


def audit(api: Api) -> list[dict[str, Any]]:
    with sqlite3.connect(api.db_path) as db:
        return [json.loads(r) for (r,) in db.execute("SELECT data FROM audit ORDER BY seq")]


# ---- envelope, auth, errors ------------------------------------------------------


def test_answers_and_errors_are_in_the_envelope(connect: Connect) -> None:
    api = connect()
    listed = data(api.get("/tenants"))
    assert [t["company_name"] for t in listed["tenants"]] == ["Acme Corp", "Globex"]
    assert listed["tenants"][0]["plan"] == {"name": "Enterprise", "slug": "enterprise"}
    assert listed["tenants"][0]["users"] == 1
    assert listed["pagination"] == {"total": 2, "limit": 50, "offset": 0}
    assert error(api.get("/tenants/nope"), 404) == ("not_found", "tenant nope not found")
    assert error(api.get("/no-such-route"), 404)[0] == "not_found"
    assert error(connect(token="wrong").get("/tenants"), 401)[0] == "unauthorized"


def test_limit_defaults_to_50_and_is_served_as_100_above_that(connect: Connect) -> None:
    many = [{"company_name": f"T{i:03}", "owner_email": f"o{i}@x.example"} for i in range(130)]
    api = connect({"tenants": many})
    assert len(data(api.get("/tenants"))["tenants"]) == 50
    big = data(api.get("/tenants", params={"limit": 500}))
    assert len(big["tenants"]) == 100
    assert big["pagination"] == {"total": 130, "limit": 100, "offset": 0}
    rest = data(api.get("/tenants", params={"limit": 100, "offset": 100}))
    assert [t["company_name"] for t in rest["tenants"]][:2] == ["T100", "T101"]
    assert len(rest["tenants"]) == 30
    assert error(api.get("/tenants", params={"limit": 0}), 400)[0] == "validation_error"
    assert error(api.get("/tenants", params={"offset": -1}), 400)[0] == "validation_error"
    assert error(api.get("/tenants", params={"limit": "ten"}), 400)[1] == "limit must be an integer"


def test_tenant_filters(api: Api) -> None:
    def names(**params: Any) -> list[str]:
        return [t["company_name"] for t in data(api.get("/tenants", params=params))["tenants"]]

    assert names(search="ACME") == ["Acme Corp"]
    assert names(search="globex.example") == ["Globex"]
    assert names(plan="free") == ["Globex"]
    assert names(status="active") == ["Acme Corp", "Globex"]
    assert names(mrr_min=10) == ["Globex"]
    assert names(mrr_max=10) == ["Acme Corp"]
    assert error(api.get("/tenants", params={"mrr_min": "lots"}), 400)[0] == "validation_error"


# ---- tenants -----------------------------------------------------------------------


def test_test_tenants_are_the_only_create(api: Api) -> None:
    body = {
        "company_name": "Demo Account",
        "owner_email": "demo@example.com",
        "plan": "pro",
        "auto_cleanup_days": 30,
    }
    made = data(api.post("/tenants/test", json=body), 201)
    assert set(made) == {"tenant_id", "login_url", "expires_at"} and made["expires_at"]
    detail = data(api.get(f"/tenants/{made['tenant_id']}"))["tenant"]
    assert (detail["company_name"], detail["plan"], detail["status"]) == (
        "Demo Account",
        "pro",
        "trial",
    )
    assert error(api.post("/tenants/test", json=body), 409) == (
        "conflict",
        "a tenant named 'Demo Account' exists already",
    )
    assert error(api.post("/tenants/test", json={**body, "plan": "gold"}), 400)[1] == (
        "plan must be one of free, pro, enterprise"
    )
    no_owner = {"company_name": "X", "plan": "pro"}
    assert error(api.post("/tenants/test", json=no_owner), 400)[0] == "validation_error"
    bad_days = {**body, "company_name": "Y", "auto_cleanup_days": 0}
    assert error(api.post("/tenants/test", json=bad_days), 400)[0] == "validation_error"
    assert error(api.delete(f"/tenants/{made['tenant_id']}"), 405)[0] == "method_not_allowed"


def test_plan_overrides_are_patched_and_shown_on_the_tenant(api: Api) -> None:
    tid = tenant_id(api, "Acme Corp")
    override = {"plan_id": "plan_enterprise", "limits": {"max_users": 25}}
    done = data(api.patch(f"/tenants/{tid}", json={"plan_override": override}))
    assert done["tenant_id"] == tid and done["overrides_applied"] is True
    again = {"price_monthly": 249.0}
    data(api.patch(f"/tenants/{tid}", json={"plan_override": again, "billing_override": {}}))
    detail = data(api.get(f"/tenants/{tid}"))["tenant"]
    assert detail["plan_override"] == again  # replaced as a whole
    assert detail["billing_override"] == {}
    assert error(api.patch(f"/tenants/{tid}", json={}), 400)[0] == "validation_error"
    assert error(api.patch(f"/tenants/{tid}", json={"plan_override": 5}), 400)[0] == (
        "validation_error"
    )


# ---- feature flags -------------------------------------------------------------------


def test_flags_list_the_catalog_and_change_in_one_bulk_call(connect: Connect) -> None:
    api = connect({**SEED, "flags": ["advanced_analytics", "api_access", "white_label"]})
    tid = tenant_id(api, "Acme Corp")
    flags = data(api.get(f"/tenants/{tid}/feature-flags"))["flags"]
    assert flags[2] == {"flag_name": "white_label", "enabled": False, "updated_at": None}
    change = {
        "flags": [
            {"flag_name": "advanced_analytics", "enabled": True},
            {"flag_name": "white_label", "enabled": False},
        ],
        "reason": "Beta program enrollment",
    }
    done = data(api.patch(f"/tenants/{tid}/feature-flags", json=change))
    assert done["tenant_id"] == tid and done["flags_updated"] == 2
    after = {f["flag_name"]: f for f in data(api.get(f"/tenants/{tid}/feature-flags"))["flags"]}
    assert after["advanced_analytics"]["enabled"] is True
    assert after["white_label"]["updated_at"] is not None  # set now, although still off
    [entry] = audit(api)
    assert entry["reason"] == "Beta program enrollment"
    assert entry["flags"] == {"advanced_analytics": True, "white_label": False}


def test_a_bulk_flag_call_is_refused_whole(api: Api) -> None:
    tid = tenant_id(api, "Acme Corp")
    url = f"/tenants/{tid}/feature-flags"
    good = {"flag_name": "api_access", "enabled": True}
    no_reason = api.patch(url, json={"flags": [good]})
    assert error(no_reason, 400) == (
        "validation_error",
        "reason is required: say why the flags change",
    )
    unknown = api.patch(
        url, json={"flags": [good, {"flag_name": "nope", "enabled": True}], "reason": "r"}
    )
    assert error(unknown, 400) == ("unknown_flag", "unknown feature flag(s): nope")
    twice = api.patch(url, json={"flags": [good, good], "reason": "r"})
    assert error(twice, 400)[1] == "flag 'api_access' is listed twice"
    not_bool = api.patch(
        url, json={"flags": [{"flag_name": "api_access", "enabled": 1}], "reason": "r"}
    )
    assert error(not_bool, 400)[0] == "validation_error"
    assert error(api.patch(url, json={"flags": [], "reason": "r"}), 400)[0] == "validation_error"
    flags = data(api.get(url))["flags"]
    assert all(f["enabled"] is False for f in flags)  # nothing of the refused calls landed
    assert audit(api) == []


# ---- users ---------------------------------------------------------------------------------


def test_users_are_one_list_in_data_with_filters(api: Api) -> None:
    body = api.get("/users").json()
    assert set(body) == {"success", "data"}  # the document's answer: no pagination
    assert [u["email"] for u in body["data"]] == ["admin@acme.example", "sam@globex.example"]
    assert set(body["data"][0]) >= {"id", "email", "name", "role", "tenant_id", "created_at"}
    acme = tenant_id(api, "Acme Corp")
    assert [u["email"] for u in data(api.get("/users", params={"tenant_id": acme}))] == [
        "admin@acme.example"
    ]
    assert [u["email"] for u in data(api.get("/users", params={"role": "member"}))] == [
        "sam@globex.example"
    ]
    assert [u["name"] for u in data(api.get("/users", params={"search": "admin"}))] == [
        "Admin User"
    ]
    uid = user_id(api, "sam@globex.example")
    assert data(api.get(f"/users/{uid}"))["email"] == "sam@globex.example"
    assert error(api.get("/users/nobody"), 404)[0] == "not_found"


def test_suspend_needs_a_reason_and_is_kept_in_the_audit_trail(api: Api) -> None:
    uid = user_id(api, "sam@globex.example")
    assert error(api.post(f"/users/{uid}/suspend", json={}), 400)[0] == "validation_error"
    done = data(api.post(f"/users/{uid}/suspend", json={"reason": "Policy violation"}))
    assert done["user_id"] == uid and done["status"] == "suspended"
    again = data(api.post(f"/users/{uid}/suspend", json={"reason": "again"}))
    assert again["suspended_at"] == done["suspended_at"]  # suspending twice changes nothing
    assert data(api.get(f"/users/{uid}"))["status"] == "suspended"
    reset = data(api.post(f"/users/{uid}/reset-password"))
    assert reset["reset_email_sent"] is True
    trail = api.get(f"/users/{uid}/audit-trail", params={"limit": 1}).json()
    assert trail["pagination"] == {"total": 2, "limit": 1, "offset": 0}
    assert trail["data"][0]["action"] == "account_suspended"
    assert trail["data"][0]["reason"] == "Policy violation"
    only = data(api.get(f"/users/{uid}/audit-trail", params={"action_type": "password_reset_sent"}))
    assert [e["action"] for e in only] == ["password_reset_sent"]


def test_delete_needs_the_users_email_as_confirmation(api: Api) -> None:
    uid = user_id(api, "sam@globex.example")
    assert error(api.delete(f"/users/{uid}"), 400) == (
        "confirmation_required",
        "confirmation is required: set it to the user's email address",
    )
    wrong = api.delete(f"/users/{uid}", params={"confirmation": "admin@acme.example"})
    assert error(wrong, 400) == (
        "confirmation_mismatch",
        "confirmation does not match the user's email address",
    )
    assert data(api.get(f"/users/{uid}"))["email"] == "sam@globex.example"  # still there
    done = data(api.delete(f"/users/{uid}", params={"confirmation": "sam@globex.example"}))
    assert done["user_id"] == uid and done["data_removed"] is True
    assert error(api.get(f"/users/{uid}"), 404)[0] == "not_found"


# ---- quirks and seed -------------------------------------------------------------------------


def test_quirks_cap_pages_and_add_fields(connect: Connect) -> None:
    api = connect({**SEED, "quirks": {"max_page": 1, "extra_fields": True}})
    first = data(api.get("/tenants", params={"limit": 100}))
    assert len(first["tenants"]) == 1 and first["pagination"]["total"] == 2
    assert "region" in first["tenants"][0]
    users = api.get("/users").json()
    assert len(users["data"]) == 1
    assert users["pagination"] == {"total": 2, "limit": 1, "offset": 0}
    second = api.get("/users", params={"offset": 1}).json()["data"]
    assert [u["email"] for u in second] == ["sam@globex.example"]
    tid = first["tenants"][0]["id"]
    assert "region" in data(api.get(f"/tenants/{tid}/feature-flags"))["flags"][0]


@pytest.mark.parametrize(
    "bad",
    [
        {"admins": []},
        {"quirks": {"slow": True}},
        {"users": [{"email": "a@x.example", "tenant": "Nowhere"}]},
        {"tenants": [{"company_name": "A", "owner_email": "a@x.example", "plan": "gold"}]},
    ],
)
def test_a_bad_seed_is_refused(bad: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        create_app("platform-admin", db_path=tmp_path / "s.sqlite", token="t", seed=bad)

"""The admin-operators sandbox behaves as document 002 says (its app, in this process)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.sandbox.app import create_app
from tests.conftest import InProcessFactory

SEED: dict[str, Any] = {
    "current_admin": {"email": "boss@plant.example.com", "name": "Boss"},  # id 1
    "admins": [{"email": "other-admin@plant.example.com"}],  # id 2
    "users": [{"email": "jane@plant.example.com", "name": "Jane Smith"}],  # id 3
    "operators": [
        {"email": "op@plant.example.com", "name": "Operator One"},  # id 4
        {"email": "pending@plant.example.com", "verified": False},  # id 5
    ],
}

P = "/admin/operators"
Connect = Callable[..., httpx.Client]


@pytest.fixture
def connect(in_process: InProcessFactory) -> Iterator[Connect]:
    """``connect(seed=..., token=...)``: a client on a fresh admin-operators sandbox."""
    clients: list[httpx.Client] = []

    def start(seed: dict[str, Any] | None = None, token: str | None = None) -> httpx.Client:
        c = in_process("admin-operators", seed=seed).client(token=token)
        clients.append(c)
        return c

    yield start
    for c in clients:
        c.close()


@pytest.fixture
def api(connect: Connect) -> httpx.Client:
    return connect(SEED)


def operators(api: httpx.Client) -> dict[str, dict[str, Any]]:
    body = api.get(P).json()
    return {o["email"]: o for o in body["operators"]}


def test_every_call_needs_the_admin_token(connect: Connect) -> None:
    wrong = connect(SEED, token="not-the-token")
    for method, path, body in [
        ("GET", "", None),
        ("POST", "", {"email": "new@plant.example.com"}),
        ("PATCH", "/4/status", {"is_active": False}),
        ("DELETE", "/4", None),
    ]:
        answer = wrong.request(method, P + path, json=body)
        assert answer.status_code == 401
        assert answer.json() == {"error": "invalid bearer token"}


def test_the_list_holds_the_admin_and_only_the_operators(api: httpx.Client) -> None:
    body = api.get(P).json()
    assert set(body) == {"current_admin", "operators"}
    assert body["current_admin"] == {
        "id": 1,
        "name": "Boss",
        "email": "boss@plant.example.com",
        "role": "admin",
        "is_active": True,
        "email_verified": True,
    }
    assert [(o["id"], o["email"], o["email_verified"]) for o in body["operators"]] == [
        (4, "op@plant.example.com", True),
        (5, "pending@plant.example.com", False),
    ]
    assert all(o["role"] == "operator" for o in body["operators"])


def test_a_fresh_sandbox_has_a_default_admin_and_no_operators(connect: Connect) -> None:
    body = connect().get(P).json()
    assert body["current_admin"]["email"] == "admin@sandbox.local"
    assert body["current_admin"]["id"] == 1 and body["operators"] == []


def test_a_new_email_is_invited_as_a_pending_operator(api: httpx.Client) -> None:
    made = api.post(P, json={"email": "new@plant.example.com"})
    assert made.status_code == 201
    assert made.json() == {
        "message": "Operator invited successfully. Invitation email has been sent.",
        "operator": {
            "id": 6,
            "name": "Operator",
            "email": "new@plant.example.com",
            "role": "operator",
            "is_active": True,
            "email_verified": False,
        },
    }
    assert operators(api)["new@plant.example.com"] == made.json()["operator"]


def test_an_existing_user_is_promoted_and_keeps_its_name(api: httpx.Client) -> None:
    promoted = api.post(P, json={"email": "jane@plant.example.com"})
    assert promoted.status_code == 200
    assert promoted.json()["message"] == "Existing user promoted to operator successfully."
    assert promoted.json()["operator"] == {
        "id": 3,
        "name": "Jane Smith",
        "email": "jane@plant.example.com",
        "role": "operator",
        "is_active": True,
        "email_verified": True,
    }
    assert "jane@plant.example.com" in operators(api)


def test_existing_operators_are_confirmed_or_invited_again(api: httpx.Client) -> None:
    confirmed = api.post(P, json={"email": "OP@plant.example.com"})
    resent = api.post(P, json={"email": "pending@plant.example.com"})
    assert (confirmed.status_code, resent.status_code) == (200, 200)
    assert confirmed.json()["message"] != resent.json()["message"]
    assert "resent" in resent.json()["message"]
    assert (confirmed.json()["operator"]["id"], resent.json()["operator"]["id"]) == (4, 5)
    assert len(operators(api)) == 2  # no duplicates


@pytest.mark.parametrize("email", ["boss@plant.example.com", "other-admin@plant.example.com"])
def test_an_admin_account_cannot_become_an_operator(api: httpx.Client, email: str) -> None:
    refused = api.post(P, json={"email": email})
    assert refused.status_code == 409
    assert refused.json() == {"error": "Admin accounts cannot be converted into operators."}
    assert email not in operators(api)


@pytest.mark.parametrize("body", [{}, {"email": "not-an-email"}, {"email": 7}, []])
def test_a_missing_or_invalid_email_is_400(api: httpx.Client, body: Any) -> None:
    refused = api.post(P, json=body)
    assert refused.status_code == 400 and set(refused.json()) == {"error"}


def test_deactivation_makes_a_normal_user_who_is_no_longer_listed(api: httpx.Client) -> None:
    off = api.patch(P + "/4/status", json={"is_active": False})
    assert off.status_code == 200
    assert off.json()["message"] == (
        "Operator access removed successfully. The account is now a normal user."
    )
    assert off.json()["operator"]["role"] == "user"
    assert off.json()["operator"]["is_active"] is True  # as in the document's example
    assert "op@plant.example.com" not in operators(api)


def test_reactivation_by_patch_or_by_post(api: httpx.Client) -> None:
    for user_id in ("4", "5"):
        api.patch(f"{P}/{user_id}/status", json={"is_active": False})
    back = api.patch(P + "/4/status", json={"is_active": True})
    assert back.status_code == 200
    assert back.json()["message"] == "Operator status updated successfully."
    assert back.json()["operator"]["role"] == "operator"
    again = api.post(P, json={"email": "pending@plant.example.com"})
    assert again.status_code == 200 and again.json()["operator"]["id"] == 5
    assert set(operators(api)) == {"op@plant.example.com", "pending@plant.example.com"}


@pytest.mark.parametrize(
    "user_id", ["999", "abc", "1", "2"], ids=["unknown", "text", "me", "admin"]
)
def test_status_of_an_unknown_or_admin_account_is_404(api: httpx.Client, user_id: str) -> None:
    missing = api.patch(f"{P}/{user_id}/status", json={"is_active": False})
    assert missing.status_code == 404 and missing.json() == {"error": "Operator not found."}


@pytest.mark.parametrize("body", [{}, {"is_active": "no"}, {"is_active": None}])
def test_status_needs_a_boolean(api: httpx.Client, body: dict[str, Any]) -> None:
    refused = api.patch(P + "/4/status", json=body)
    assert refused.status_code == 400 and set(refused.json()) == {"error"}
    assert operators(api)["op@plant.example.com"]["role"] == "operator"


def test_an_active_operator_cannot_be_deleted(api: httpx.Client) -> None:
    refused = api.delete(P + "/4")
    assert refused.status_code == 400
    assert refused.json() == {"error": "Deactivate the operator before deleting the account."}
    assert "op@plant.example.com" in operators(api)


def test_a_deactivated_operator_is_deleted_for_good(api: httpx.Client) -> None:
    api.patch(P + "/4/status", json={"is_active": False})
    deleted = api.delete(P + "/4")
    assert deleted.status_code == 200
    assert deleted.json() == {"message": "Operator deleted successfully."}
    assert api.delete(P + "/4").json() == {"error": "Operator not found."}
    assert api.patch(P + "/4/status", json={"is_active": True}).status_code == 404
    # the email is free again: a new invitation makes a new account
    assert api.post(P, json={"email": "op@plant.example.com"}).status_code == 201


@pytest.mark.parametrize("user_id", ["1", "2", "999"])
def test_admins_and_unknown_ids_are_not_deleted(api: httpx.Client, user_id: str) -> None:
    missing = api.delete(f"{P}/{user_id}")
    assert missing.status_code == 404 and missing.json() == {"error": "Operator not found."}
    assert api.get(P).json()["current_admin"]["id"] == 1


def test_quirks_add_fields_and_the_list_has_no_pages(connect: Connect) -> None:
    quirky = connect({**SEED, "quirks": {"extra_fields": True, "max_page": 1}})
    body = quirky.get(P, params={"limit": 1}).json()
    assert len(body["operators"]) == 2  # no paging: max_page has nothing to cap
    assert "avatar_url" in body["current_admin"]
    assert all("last_login_at" in o for o in body["operators"])
    made = quirky.post(P, json={"email": "new@plant.example.com"}).json()
    assert "avatar_url" in made["operator"]


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        ({"owners": []}, "unknown admin-operators seed keys: owners"),
        ({"users": [{"email": "a@x.example"}, {"email": "A@x.example"}]}, "listed twice"),
        ({"quirks": {"slow": True}}, "unknown quirks: slow"),
    ],
)
def test_bad_seeds_are_refused(tmp_path: Path, seed: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        create_app("admin-operators", db_path=tmp_path / "s.sqlite", token="t", seed=seed)

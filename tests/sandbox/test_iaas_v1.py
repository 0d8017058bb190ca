"""The iaas-v1 sandbox behaves as document 001 says (its app, in this process)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import InProcessFactory

KEY = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
OTHER_KEY = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="

Connect = Callable[..., httpx.Client]


@pytest.fixture
def connect(in_process: InProcessFactory) -> Iterator[Connect]:
    """``connect(seed=...)``: a client on a fresh iaas-v1 sandbox, under ``/api``."""
    clients: list[httpx.Client] = []

    def start(seed: dict[str, Any] | None = None, token: str | None = None) -> httpx.Client:
        c = in_process("iaas-v1", seed=seed).client("/api", token=token)
        clients.append(c)
        return c

    yield start
    for c in clients:
        c.close()


@pytest.fixture
def api(connect: Connect) -> httpx.Client:
    return connect()


def user(api: httpx.Client, email: str, role: str = "member") -> dict[str, Any]:
    made = api.post("/users", json={"email": email, "role": role, "ssh_key_id": None})
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return body


def tenant(api: httpx.Client, name: str, users: list[dict[str, str]] | None = None) -> Any:
    made = api.post("/tenants", json={"name": name, "users": users or []})
    assert made.status_code == 201, made.text
    return made.json()


def membership(api: httpx.Client) -> dict[str, list[tuple[str, str]]]:
    """tenant name → [(user id, pubkey)]."""
    return {
        t["name"]: [(m["user_id"], m["pubkey"]) for m in t["users"]]
        for t in api.get("/tenants").json()
    }


def test_every_call_needs_the_bearer_token(connect: Connect) -> None:
    wrong = connect(token="not-the-token")
    for method, path in [("GET", "/users"), ("GET", "/tenants"), ("DELETE", "/users/x")]:
        answer = wrong.request(method, path)
        assert answer.status_code == 401
        assert answer.json() == {"detail": "invalid bearer token"}


def test_users_are_created_listed_replaced_and_deleted(api: httpx.Client) -> None:
    ann = user(api, "ann@company.example")
    assert {k: ann[k] for k in ("email", "role", "ssh_key_id")} == {
        "email": "ann@company.example",
        "role": "member",
        "ssh_key_id": None,
    }
    assert api.get("/users").json() == [ann]  # a plain array, no envelope
    replaced = api.put(
        f"/users/{ann['id']}",
        json={"email": "ann@company.example", "role": "operator", "ssh_key_id": "key-1"},
    )
    assert replaced.status_code == 200
    assert replaced.json()["role"] == "operator" and replaced.json()["ssh_key_id"] == "key-1"
    assert api.delete(f"/users/{ann['id']}").status_code == 204
    assert api.get("/users").json() == []
    assert api.delete(f"/users/{ann['id']}").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "role": "member"},
        {"email": "ann@company.example", "role": "admin"},
        {"email": "ann@company.example"},
        {"email": "ann@company.example", "role": "member", "ssh_key_id": 7},
    ],
    ids=["email", "role", "role-missing", "ssh-key-id"],
)
def test_bad_users_are_400_with_a_detail(api: httpx.Client, body: dict[str, Any]) -> None:
    answer = api.post("/users", json=body)
    assert answer.status_code == 400
    assert isinstance(answer.json()["detail"], str)


def test_put_takes_the_whole_user(api: httpx.Client) -> None:
    ann = user(api, "ann@company.example")
    partial = api.put(f"/users/{ann['id']}", json={"role": "operator"})
    assert partial.status_code == 400 and "email" in partial.json()["detail"]
    assert api.put("/users/nope", json={"email": "a@b.example", "role": "member"}).status_code == (
        404
    )


def test_emails_are_unique_whatever_their_case(api: httpx.Client) -> None:
    ann = user(api, "ann@company.example")
    again = api.post("/users", json={"email": "ANN@company.example", "role": "member"})
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    bob = user(api, "bob@company.example")
    taken = api.put(f"/users/{bob['id']}", json={"email": "Ann@company.example", "role": "member"})
    assert taken.status_code == 409
    assert [u["id"] for u in api.get("/users").json()] == [ann["id"], bob["id"]]


def test_a_tenant_is_created_with_its_members(api: httpx.Client) -> None:
    ann, bob = user(api, "ann@company.example"), user(api, "bob@company.example")
    made = tenant(
        api,
        "project-alpha",
        [{"user_id": ann["id"], "pubkey": KEY}, {"user_id": bob["id"], "pubkey": OTHER_KEY}],
    )
    assert made["name"] == "project-alpha"
    assert made["users"] == [
        {"user_id": ann["id"], "pubkey": KEY},
        {"user_id": bob["id"], "pubkey": OTHER_KEY},
    ]
    assert api.get("/tenants").json() == [made]
    duplicate = api.post("/tenants", json={"name": "project-alpha", "users": []})
    assert duplicate.status_code == 409


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"name": "Project Alpha", "users": []}, 400),
        ({"users": []}, 400),
        ({"name": "alpha", "users": [{"user_id": "nope", "pubkey": KEY}]}, 404),
        ({"name": "alpha", "users": [{"user_id": "{ann}"}]}, 400),
        ({"name": "alpha", "users": [{"user_id": "{ann}", "pubkey": "not-a-key"}]}, 400),
        (
            {
                "name": "alpha",
                "users": [{"user_id": "{ann}", "pubkey": KEY}, {"user_id": "{ann}", "pubkey": KEY}],
            },
            400,
        ),
    ],
    ids=["name", "no-name", "unknown-user", "no-pubkey", "bad-pubkey", "listed-twice"],
)
def test_bad_tenants_are_refused_and_nothing_is_made(
    api: httpx.Client, body: dict[str, Any], status: int
) -> None:
    ann = user(api, "ann@company.example")
    for member in body.get("users", []):
        member["user_id"] = member["user_id"].format(ann=ann["id"])
    answer = api.post("/tenants", json=body)
    assert answer.status_code == status, answer.text
    assert api.get("/tenants").json() == []


def test_one_tenant_per_user(api: httpx.Client) -> None:
    ann = user(api, "ann@company.example")
    alpha = tenant(api, "project-alpha", [{"user_id": ann["id"], "pubkey": KEY}])
    beta = tenant(api, "project-beta")
    second = api.put(f"/tenants/{beta['id']}/users/{ann['id']}", json={"pubkey": KEY})
    assert second.status_code == 409
    assert second.json() == {"detail": f"user {ann['id']} already belongs to tenant {alpha['id']}"}
    in_create = api.post(
        "/tenants", json={"name": "gamma", "users": [{"user_id": ann["id"], "pubkey": KEY}]}
    )
    assert in_create.status_code == 409
    assert membership(api) == {"project-alpha": [(ann["id"], KEY)], "project-beta": []}


def test_membership_is_put_again_for_a_new_key_and_deleted_to_leave(api: httpx.Client) -> None:
    ann = user(api, "ann@company.example")
    alpha, beta = tenant(api, "project-alpha"), tenant(api, "project-beta")
    path = f"/tenants/{alpha['id']}/users/{ann['id']}"
    joined = api.put(path, json={"pubkey": KEY})
    assert joined.status_code == 200 and joined.json()["users"] == [
        {"user_id": ann["id"], "pubkey": KEY}
    ]
    assert api.put(path, json={"pubkey": OTHER_KEY}).status_code == 200
    assert membership(api)["project-alpha"] == [(ann["id"], OTHER_KEY)]
    # the document's move: leave the old tenant, then join the new one
    assert api.delete(path).status_code == 204
    assert api.delete(path).status_code == 404  # not a member any more
    moved = api.put(f"/tenants/{beta['id']}/users/{ann['id']}", json={"pubkey": KEY})
    assert moved.status_code == 200
    assert membership(api) == {"project-alpha": [], "project-beta": [(ann["id"], KEY)]}


@pytest.mark.parametrize(
    ("body", "status"), [({}, 400), ({"pubkey": ""}, 400), ({"pubkey": "abc="}, 400)]
)
def test_joining_needs_a_wireguard_key(
    api: httpx.Client, body: dict[str, Any], status: int
) -> None:
    ann = user(api, "ann@company.example")
    alpha = tenant(api, "project-alpha")
    answer = api.put(f"/tenants/{alpha['id']}/users/{ann['id']}", json=body)
    assert answer.status_code == status and "pubkey" in answer.json()["detail"]
    assert api.put(f"/tenants/nope/users/{ann['id']}", json={"pubkey": KEY}).status_code == 404
    assert api.put(f"/tenants/{alpha['id']}/users/nope", json={"pubkey": KEY}).status_code == 404


def test_deleting_a_user_removes_it_from_its_tenant(api: httpx.Client) -> None:
    ann, bob = user(api, "ann@company.example"), user(api, "bob@company.example")
    tenant(
        api,
        "project-alpha",
        [{"user_id": ann["id"], "pubkey": KEY}, {"user_id": bob["id"], "pubkey": OTHER_KEY}],
    )
    assert api.delete(f"/users/{ann['id']}").status_code == 204
    assert membership(api) == {"project-alpha": [(bob["id"], OTHER_KEY)]}


def test_deleting_a_tenant_keeps_its_users_free_to_join_another(api: httpx.Client) -> None:
    ann = user(api, "ann@company.example")
    alpha = tenant(api, "project-alpha", [{"user_id": ann["id"], "pubkey": KEY}])
    beta = tenant(api, "project-beta")
    assert api.delete(f"/tenants/{alpha['id']}").status_code == 204
    assert api.delete(f"/tenants/{alpha['id']}").status_code == 404
    assert [u["id"] for u in api.get("/users").json()] == [ann["id"]]
    rejoin = api.put(f"/tenants/{beta['id']}/users/{ann['id']}", json={"pubkey": KEY})
    assert rejoin.status_code == 200


def test_there_is_no_tenant_update(api: httpx.Client) -> None:
    alpha = tenant(api, "project-alpha")
    for method in ("PUT", "PATCH"):
        answer = api.request(method, f"/tenants/{alpha['id']}", json={"name": "renamed"})
        assert answer.status_code == 405


def test_lists_take_skip_and_limit_and_serve_everything_without(api: httpx.Client) -> None:
    made = [user(api, f"u{i}@company.example")["id"] for i in range(5)]
    assert [u["id"] for u in api.get("/users").json()] == made
    page = api.get("/users", params={"skip": 1, "limit": 2}).json()
    assert [u["id"] for u in page] == made[1:3]
    assert api.get("/users", params={"skip": 5}).json() == []
    bad = api.get("/users", params={"limit": -1})
    assert bad.status_code == 400 and "limit" in bad.json()["detail"]


def test_quirks_cap_pages_and_add_unknown_fields(connect: Connect) -> None:
    api = connect(seed={"quirks": {"max_page": 2, "extra_fields": True}})
    made = [user(api, f"u{i}@company.example")["id"] for i in range(3)]
    tenant(api, "project-alpha", [{"user_id": made[0], "pubkey": KEY}])
    first = api.get("/users", params={"limit": 100}).json()
    assert [u["id"] for u in first] == made[:2]  # whatever the client asks
    assert [u["id"] for u in api.get("/users").json()] == made[:2]
    assert [u["id"] for u in api.get("/users", params={"skip": 2}).json()] == made[2:]
    assert "last_login" in first[0]
    (alpha,) = api.get("/tenants").json()
    assert "subnet" in alpha and "allowed_ips" in alpha["users"][0]


def test_me_is_the_seeded_user_listed_like_any_other(connect: Connect) -> None:
    assert connect().get("/users/me").json()["role"] == "operator"
    api = connect(
        seed={"me": {"email": "ops@company.example"}, "users": [{"email": "x@y.example"}]}
    )
    me = api.get("/users/me").json()
    assert me["email"] == "ops@company.example" and me["role"] == "operator"
    listed = {u["email"]: u["role"] for u in api.get("/users").json()}
    assert listed == {"ops@company.example": "operator", "x@y.example": "member"}

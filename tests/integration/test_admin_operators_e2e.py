"""The admin-operators dialect end to end over real HTTP, through the CLI."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from reconciler.model import Action, Change, Kind, Resource, ResourceId
from reconciler.providers.admin_operators import PROVIDER
from reconciler.providers.base import ApplyContext
from reconciler.providers.http import ApiClient
from reconciler.sandbox.faults import FaultConfig
from tests.conftest import SANDBOX_TOKEN, FreshSandbox, SandboxFactory, request_log
from tests.integration.helpers import REPO, assert_converges_through_faults, run_cli, tls

EXAMPLE = REPO / "examples" / "admin-operators"
# ids: 1 the current admin, 2 maintenance (a plain user), 3 former-contractor (an operator)
DATA = yaml.safe_load((EXAMPLE / ".sandbox" / "data.yaml").read_text())
HEADER = "apiVersion: reconciler.dev/v1\nkind: Operator\n"
PATH = "/admin/operators"


def target(box: Any) -> list[str]:
    return ["--api", "admin-operators", "--url", box.url]


def by_hand(box: Any) -> httpx.Client:
    """A person at the admin console, changing accounts without reconciler."""
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    return httpx.Client(base_url=box.url, headers=headers, timeout=10.0, verify=tls())


def listing(box: Any) -> dict[str, dict[str, Any]]:
    with by_hand(box) as api:
        body = api.get(PATH).json()
    return {o["email"]: o for o in body["operators"]}


def writes(box: Any, since: int = 0) -> list[tuple[str, str, int]]:
    return [r for r in request_log(box.db_path)[since:] if r[0] != "GET"]


@pytest.fixture
def box(fresh_sandbox: FreshSandbox) -> Any:
    return fresh_sandbox("admin-operators", seed=DATA)


def specs(tmp_path: Path, text: str, prune: str | None = None) -> Path:
    root = tmp_path / "specs"
    root.mkdir(exist_ok=True)
    (root / "ops.yaml").write_text(text)
    if prune:
        (root / "reconciler.yaml").write_text(
            f"apiVersion: reconciler.dev/v1\nprune: {{Operator: {prune}}}\n"
        )
    return root


def operator(email: str, status: str = "active") -> str:
    return f"{HEADER}email: {email}\nstatus: {status}\n"


def apply(root: Path, box: Any) -> Any:
    return run_cli(["apply", str(root), *target(box), "--auto-approve"], SANDBOX_TOKEN)


def test_example_applies_and_a_second_plan_is_empty(box: Any) -> None:
    applied = apply(EXAMPLE, box)
    assert applied.exit_code == 0, applied.output
    ops = listing(box)
    assert set(ops) == {
        "line-lead@plant.example.com",
        "maintenance@plant.example.com",
        "night-shift@plant.example.com",
    }
    # invited (201, a new pending account) vs promoted (200, the user keeps id and name)
    assert ops["line-lead@plant.example.com"]["email_verified"] is False
    assert ops["maintenance@plant.example.com"]["id"] == 2
    assert ops["maintenance@plant.example.com"]["name"] == "Maintenance Team"
    assert sorted(w for w in writes(box) if w[0] == "POST") == [
        ("POST", PATH, 200),
        ("POST", PATH, 201),
        ("POST", PATH, 201),
    ]
    # the former contractor was deactivated: one PATCH, no delete
    assert [w for w in writes(box) if w[0] != "POST"] == [("PATCH", f"{PATH}/3/status", 200)]
    again = run_cli(["plan", str(EXAMPLE), *target(box), "--detailed-exitcode"], SANDBOX_TOKEN)
    assert again.exit_code == 0, again.output


def test_disabling_one_operator_is_one_patch(box: Any, tmp_path: Path) -> None:
    root = specs(
        tmp_path, operator("a@plant.example.com") + "---\n" + operator("b@plant.example.com")
    )
    assert apply(root, box).exit_code == 0
    b_id = listing(box)["b@plant.example.com"]["id"]
    (root / "ops.yaml").write_text(
        operator("a@plant.example.com") + "---\n" + operator("b@plant.example.com", "disabled")
    )
    before = len(request_log(box.db_path))
    result = apply(root, box)
    assert result.exit_code == 0, result.output
    assert writes(box, before) == [("PATCH", f"{PATH}/{b_id}/status", 200)]
    assert "b@plant.example.com" not in listing(box)
    # disabled is met by the account no longer being listed: nothing left to do
    plan = run_cli(["plan", str(root), *target(box), "--detailed-exitcode"], SANDBOX_TOKEN)
    assert plan.exit_code == 0, plan.output


def test_prune_suspend_only_deactivates(box: Any, tmp_path: Path) -> None:
    root = specs(tmp_path, operator("keep@plant.example.com"), prune="suspend")
    before = len(request_log(box.db_path))
    assert apply(root, box).exit_code == 0
    assert [w for w in writes(box, before) if w[1] != PATH] == [("PATCH", f"{PATH}/3/status", 200)]
    assert set(listing(box)) == {"keep@plant.example.com"}


def test_prune_delete_deactivates_then_deletes_in_that_order(box: Any, tmp_path: Path) -> None:
    root = specs(tmp_path, operator("keep@plant.example.com"), prune="delete")
    before = len(request_log(box.db_path))
    result = apply(root, box)
    assert result.exit_code == 0, result.output
    assert [w for w in writes(box, before) if w[1] != PATH] == [
        ("PATCH", f"{PATH}/3/status", 200),
        ("DELETE", f"{PATH}/3", 200),
    ]
    assert set(listing(box)) == {"keep@plant.example.com"}
    with by_hand(box) as api:  # the account is gone, not only demoted
        assert api.patch(f"{PATH}/3/status", json={"is_active": True}).status_code == 404


def test_a_delete_of_an_inactive_operator_skips_the_patch(box: Any) -> None:
    """A server that lists a deactivated operator (is_active false) needs only the DELETE."""
    with by_hand(box) as api:
        assert api.patch(f"{PATH}/3/status", json={"is_active": False}).status_code == 200
    rid = ResourceId(Kind.OPERATOR, "former-contractor@plant.example.com")
    live = Resource(rid, {"status": "disabled"}, server={"id": "3"})
    before = len(request_log(box.db_path))

    async def delete() -> None:
        async with ApiClient(box.url, SANDBOX_TOKEN) as client:
            change = Change(Action.DELETE, rid, live=live)
            await PROVIDER(client).apply(change, ApplyContext(ids={rid: "3"}))

    asyncio.run(delete())
    assert writes(box, before) == [("DELETE", f"{PATH}/3", 200)]


def test_existing_operators_and_users_are_adopted_not_duplicated(box: Any, tmp_path: Path) -> None:
    root = specs(
        tmp_path,
        operator("Former-Contractor@plant.example.com")  # listed already, any case
        + "---\n"
        + operator("maintenance@plant.example.com"),  # a plain user: promoted, same account
    )
    result = apply(root, box)
    assert result.exit_code == 0, result.output
    assert writes(box) == [("POST", PATH, 200)]
    ops = listing(box)
    assert {o["id"] for o in ops.values()} == {2, 3}


def test_an_admin_account_is_refused_with_the_servers_words(box: Any, tmp_path: Path) -> None:
    root = specs(
        tmp_path, operator("admin@plant.example.com") + "---\n" + operator("new@plant.example.com")
    )
    result = apply(root, box)
    assert result.exit_code == 1
    assert (
        "Operator/admin@plant.example.com: POST /admin/operators returned 409: "
        "Admin accounts cannot be converted into operators." in result.stdout
    )
    log = request_log(box.db_path)
    # adopt-on-409 re-read the list, found no operator by that email, and stopped there
    refused = log.index(("POST", PATH, 409))
    assert ("GET", PATH, 200) in log[refused + 1 :]
    assert sorted(w for w in writes(box)) == [("POST", PATH, 201), ("POST", PATH, 409)]
    assert set(listing(box)) == {"former-contractor@plant.example.com", "new@plant.example.com"}


def test_reactivation_promotes_the_same_account_again(box: Any, tmp_path: Path) -> None:
    root = specs(tmp_path, operator("former-contractor@plant.example.com", "disabled"))
    assert apply(root, box).exit_code == 0
    assert "former-contractor@plant.example.com" not in listing(box)
    (root / "ops.yaml").write_text(operator("former-contractor@plant.example.com"))
    before = len(request_log(box.db_path))
    back = apply(root, box)
    assert back.exit_code == 0, back.output
    # the document's way back: POST with the same email, answered 200 (no new account)
    assert writes(box, before) == [("POST", PATH, 200)]
    assert listing(box)["former-contractor@plant.example.com"]["id"] == 3


def test_show_calls_lists_the_writes_without_sending_them(box: Any, tmp_path: Path) -> None:
    root = specs(tmp_path, operator("new@plant.example.com"), prune="delete")
    result = run_cli(["plan", str(root), *target(box), "--show-calls"], SANDBOX_TOKEN)
    assert result.exit_code == 0, result.output
    assert 'POST /admin/operators {"email": "new@plant.example.com"}' in result.output
    patch = result.output.index('PATCH /admin/operators/3/status {"is_active": false}')
    assert result.output.index("DELETE /admin/operators/3") > patch
    assert writes(box) == []


@pytest.mark.parametrize(
    ("text", "complaints"),
    [
        (
            HEADER + "email: a@plant.example.com\nname: A\nrole: operator\n",
            [
                "Operator/a@plant.example.com: field 'name' cannot be set through the "
                "admin-operators API",
                "Operator/a@plant.example.com: field 'role' cannot be set through the "
                "admin-operators API",
                "ops.yaml:4:",  # where name: was written
            ],
        ),
        (
            "apiVersion: reconciler.dev/v1\nkind: Plan\nname: gold\n",
            ["Plan/gold: the admin-operators API does not manage Plan objects"],
        ),
    ],
    ids=["name-and-role", "other-kind"],
)
def test_what_the_api_cannot_do_fails_before_any_call(
    box: Any, tmp_path: Path, text: str, complaints: list[str]
) -> None:
    root = specs(tmp_path, text)
    for extra in (["plan"], ["apply", "--auto-approve"]):
        result = run_cli([*extra, str(root), *target(box)], SANDBOX_TOKEN)
        assert result.exit_code == 1
        for complaint in complaints:
            assert complaint in result.stderr
    assert request_log(box.db_path) == []


def test_quirks_and_faults_still_converge(sandbox_factory: SandboxFactory) -> None:
    assert_converges_through_faults(
        sandbox_factory,
        "admin-operators",
        EXAMPLE,
        FaultConfig(rate=0.2, seed=3),
        seed={**DATA, "quirks": {"extra_fields": True, "max_page": 1}},
    )

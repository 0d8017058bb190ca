"""iaas-v1 with non-default options, end to end over real HTTP (issue 12).

The sandbox is seeded as a server that wraps its lists (users paged by page
number under ``data`` with the total at ``meta.total``, tenants by cursor
under ``results``), keys ids as ``uuid``, lists a tenant's members under
``team`` with the user's id as ``account``, words errors under ``error.text``
and caps pages at 2. A target configured the same way converges the example
from empty and plans empty after; one left at the defaults is refused naming
its call, and writes nothing.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.errors import ApiError
from reconciler.options.iaas_v1 import BARE_ARRAY, IaasV1Options
from reconciler.providers.http import ApiClient, url_path
from reconciler.providers.iaas_v1 import IaasProvider
from tests.conftest import SANDBOX_TOKEN, FreshSandbox, request_log
from tests.integration.helpers import REPO, copy_tree, run_cli, tls

EXAMPLE = REPO / "examples" / "iaas-v1"
KEY = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
CAP = 2
OPTIONS: dict[str, Any] = {
    "lists": {
        "users": {
            "items": "data",
            "total": "meta.total",
            "paging": "page",
            "limitParam": "per_page",
        },
        "tenants": {"items": "results", "total": None, "paging": "cursor"},
    },
    "errors": {"message": "error.text"},
    "idField": "uuid",
    "tenantMembers": ["team"],
    "memberUserId": ["account"],
}


@pytest.fixture
def box(fresh_sandbox: FreshSandbox) -> Any:
    return fresh_sandbox("iaas-v1", seed={"options": OPTIONS, "quirks": {"max_page": CAP}})


def specs(tmp_path: Path, box: Any, options: dict[str, Any] | None) -> Path:
    """The example's specs, with one target ``t`` at ``box`` (with ``options`` if given)."""
    root = Path(copy_tree(EXAMPLE, tmp_path / "specs"))
    api: Any = "iaas-v1" if options is None else {"dialect": "iaas-v1", "options": options}
    config = root / "reconciler.yaml"
    target = f"targets:\n  t:\n    api: {json.dumps(api)}\n    url: {box.url}/api\n"
    config.write_text(config.read_text() + target)
    return root


def client(box: Any) -> httpx.Client:
    return httpx.Client(
        base_url=box.url + "/api",
        headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"},
        verify=tls(),
    )


def apply(root: Path) -> Any:
    return run_cli(["apply", str(root), "--target", "t", "--auto-approve"], SANDBOX_TOKEN)


def every(api: httpx.Client, path: str, listing: str) -> list[dict[str, Any]]:
    """Every object of a listing of ``box``, following its cursor or its pages."""
    found: list[dict[str, Any]] = []
    query: dict[str, Any] = {"page": 1} if listing == "data" else {}
    while True:
        body = api.get(path, params=query).json()
        found += body[listing]
        if listing == "data" and len(found) < body["meta"]["total"]:
            query["page"] += 1
        elif listing == "results" and body["next"]:
            query = {"cursor": body["next"]}
        else:
            return found


def test_the_sandbox_answers_as_seeded(box: Any) -> None:
    with client(box) as api:
        made = api.post("/users", json={"email": "a@company.example", "role": "member"}).json()
        team = {"name": "alpha", "users": [{"user_id": made["uuid"], "pubkey": KEY}]}
        assert api.post("/tenants", json=team).status_code == 201
        listed = api.get("/tenants").json()
        missing = api.delete("/users/nope")
    assert listed["next"] is None
    assert listed["results"][0]["team"] == [{"account": made["uuid"], "pubkey": KEY}]
    assert "id" not in made and "id" not in listed["results"][0]
    assert missing.status_code == 404
    assert missing.json() == {"error": {"text": "user nope not found"}}


def test_configured_the_same_way_it_converges_and_plans_empty(box: Any, tmp_path: Path) -> None:
    root = specs(tmp_path, box, OPTIONS)
    applied = apply(root)
    assert applied.exit_code == 0, applied.output
    with client(box) as api:  # more of each than one page holds: read past the cap
        users = {u["uuid"]: u["email"] for u in every(api, "/users", "data")}
        tenants = every(api, "/tenants", "results")
    assert len(users) == 5 and len(tenants) == 3
    alpha = next(t for t in tenants if t["name"] == "project-alpha")
    assert {users[m["account"]] for m in alpha["team"]} == {
        "alice.smith@company.example",
        "bob.jones@company.example",
    }
    again = run_cli(["plan", str(root), "--target", "t", "--detailed-exitcode"], SANDBOX_TOKEN)
    assert again.exit_code == 0, again.output


def test_at_the_defaults_the_read_fails_naming_its_call_and_writes_nothing(
    box: Any, tmp_path: Path
) -> None:
    assert apply(specs(tmp_path, box, OPTIONS)).exit_code == 0
    before = len(request_log(box.db_path))
    refused = apply(specs(tmp_path / "defaults", box, None))
    assert refused.exit_code != 0
    assert "GET /users" in refused.output or "GET /tenants" in refused.output
    assert "'id'" in refused.output  # the default id key, which this server does not use
    assert [r for r in request_log(box.db_path)[before:] if r[0] != "GET"] == []


def test_error_messages_are_read_at_the_configured_key(box: Any) -> None:
    async def refusal(options: IaasV1Options) -> str:
        client = ApiClient(box.url + "/api", SANDBOX_TOKEN)
        IaasProvider(client, options)  # sets the client's error key
        async with client:
            with pytest.raises(ApiError) as caught:
                await client.call("DELETE", url_path("/users/{}", "nope"))
        return caught.value.server_message

    assert asyncio.run(refusal(IaasV1Options.model_validate(OPTIONS))) == "user nope not found"
    assert asyncio.run(refusal(IaasV1Options())).startswith('{"error"')


def test_each_listing_it_reads_is_one_option_as_configured() -> None:
    """What ``reconciler probe`` reads: every listing, named by its option, as set."""
    uses = IaasProvider(
        ApiClient("http://x.test", None), IaasV1Options.model_validate(OPTIONS)
    ).listings()
    names = {row["name"] for row in IaasV1Options.describe()}
    assert {use.option.split(".")[1] for use in uses} == set(OPTIONS["lists"])
    for use in uses:
        assert f"{use.option}.items" in names and use.decode is not None
        configured = OPTIONS["lists"][use.option.split(".")[1]]
        assert use.listing.as_data() == {**use.listing.as_data(), **configured}


def test_a_listing_set_in_part_keeps_the_dialects_other_choices() -> None:
    users = IaasV1Options.model_validate({"lists": {"users": {"pageSize": 50}}}).lists.users
    assert users.as_data() == {**BARE_ARRAY.as_data(), "pageSize": 50}  # skip, bare array

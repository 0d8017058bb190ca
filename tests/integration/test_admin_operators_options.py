"""admin-operators with non-default options, end to end over real HTTP (issue 12).

The document shows ``GET /admin/operators`` unpaged. Here the sandbox is seeded
as a server that pages it by ``page``/``per_page`` (at most 1 per page), lists
the operators under ``accounts`` with the total at ``count``, and words errors
under ``fault.reason``. A target configured the same way converges the example
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
import yaml

from reconciler.errors import ApiError
from reconciler.options.admin_operators import AdminOperatorsOptions
from reconciler.providers.admin_operators import AdminOperatorsProvider
from reconciler.providers.http import ApiClient, url_path
from tests.conftest import SANDBOX_TOKEN, FreshSandbox, request_log
from tests.integration.helpers import REPO, copy_tree, run_cli, tls

EXAMPLE = REPO / "examples" / "admin-operators"
CAP = 1
OPTIONS: dict[str, Any] = {
    "lists": {
        "operators": {
            "items": "accounts",
            "total": "count",
            "paging": "page",
            "limitParam": "per_page",
        }
    },
    "errors": {"message": "fault.reason"},
}


@pytest.fixture
def box(fresh_sandbox: FreshSandbox) -> Any:
    data = yaml.safe_load((EXAMPLE / ".sandbox" / "data.yaml").read_text())
    seed = {**data, "options": OPTIONS, "quirks": {"max_page": CAP}}
    return fresh_sandbox("admin-operators", seed=seed)


def specs(tmp_path: Path, box: Any, options: dict[str, Any] | None) -> Path:
    """The example's specs, with one target ``t`` at ``box`` (with ``options`` if given)."""
    root = Path(copy_tree(EXAMPLE, tmp_path / "specs"))
    api: Any = (
        "admin-operators" if options is None else {"dialect": "admin-operators", "options": options}
    )
    config = root / "reconciler.yaml"
    target = f"targets:\n  t:\n    api: {json.dumps(api)}\n    url: {box.url}\n"
    config.write_text(config.read_text() + target)
    return root


def client(box: Any) -> httpx.Client:
    return httpx.Client(
        base_url=box.url, headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"}, verify=tls()
    )


def apply(root: Path) -> Any:
    return run_cli(["apply", str(root), "--target", "t", "--auto-approve"], SANDBOX_TOKEN)


def operators(box: Any) -> list[str]:
    """Every listed operator's email, page by page."""
    found: list[str] = []
    with client(box) as api:
        page = 1
        while True:
            body = api.get("/admin/operators", params={"page": page}).json()
            found += [o["email"] for o in body["accounts"]]
            if len(found) >= body["count"]:
                return found
            page += 1


def test_the_sandbox_answers_as_seeded(box: Any) -> None:
    with client(box) as api:
        second = api.get("/admin/operators", params={"page": 2, "per_page": 50}).json()
        missing = api.delete("/admin/operators/999")
    assert second["accounts"] == [] and second["count"] == 1  # one per page
    assert second["current_admin"]["email"] == "admin@plant.example.com"
    assert missing.status_code == 404
    assert missing.json() == {"fault": {"reason": "Operator not found."}}


def test_configured_the_same_way_it_converges_and_plans_empty(box: Any, tmp_path: Path) -> None:
    root = specs(tmp_path, box, OPTIONS)
    applied = apply(root)
    assert applied.exit_code == 0, applied.output
    listed = operators(box)  # more than one page holds: read past the cap
    assert sorted(listed) == [
        "line-lead@plant.example.com",
        "maintenance@plant.example.com",
        "night-shift@plant.example.com",
    ]
    again = run_cli(["plan", str(root), "--target", "t", "--detailed-exitcode"], SANDBOX_TOKEN)
    assert again.exit_code == 0, again.output


def test_at_the_defaults_the_read_fails_naming_its_call_and_writes_nothing(
    box: Any, tmp_path: Path
) -> None:
    assert apply(specs(tmp_path, box, OPTIONS)).exit_code == 0
    before = len(request_log(box.db_path))
    refused = apply(specs(tmp_path / "defaults", box, None))
    assert refused.exit_code != 0
    assert "GET /admin/operators" in refused.output and "'operators'" in refused.output
    assert [r for r in request_log(box.db_path)[before:] if r[0] != "GET"] == []


def test_error_messages_are_read_at_the_configured_key(box: Any) -> None:
    async def refusal(options: AdminOperatorsOptions) -> str:
        client = ApiClient(box.url, SANDBOX_TOKEN)
        AdminOperatorsProvider(client, options)  # sets the client's error key
        async with client:
            with pytest.raises(ApiError) as caught:
                await client.call("DELETE", url_path("/admin/operators/{}", "999"))
        return caught.value.server_message

    configured = AdminOperatorsOptions.model_validate(OPTIONS)
    assert asyncio.run(refusal(configured)) == "Operator not found."
    assert asyncio.run(refusal(AdminOperatorsOptions())).startswith('{"fault"')


def test_each_listing_it_reads_is_one_option_as_configured() -> None:
    """What ``reconciler probe`` reads: every listing, named by its option, as set."""
    uses = AdminOperatorsProvider(
        ApiClient("http://x.test", None), AdminOperatorsOptions.model_validate(OPTIONS)
    ).listings()
    names = {row["name"] for row in AdminOperatorsOptions.describe()}
    assert {use.option.split(".")[1] for use in uses} == set(OPTIONS["lists"])
    for use in uses:
        assert f"{use.option}.items" in names and use.decode is not None
        configured = OPTIONS["lists"][use.option.split(".")[1]]
        assert use.listing.as_data() == {**use.listing.as_data(), **configured}

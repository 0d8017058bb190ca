"""reference with non-default options, end to end over real HTTP (issue 12).

The sandbox is seeded with a listing style per listing (cursor, page numbers
from 0, next links, ``skip`` offsets), items and totals under other keys,
error messages under ``problem.detail`` and a page cap of 2. A target
configured the same way converges the repository's ``specs/`` from empty and
plans empty after; one left at the defaults is refused naming its call, and
writes nothing.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.errors import ApiError
from reconciler.options.reference import ReferenceOptions
from reconciler.providers.http import ApiClient, url_path
from reconciler.providers.reference import ReferenceProvider
from tests.conftest import SANDBOX_TOKEN, FreshSandbox, request_log
from tests.integration.helpers import REPO, copy_tree, run_cli, tls

BASE = "/api/v1/operator"
CAP = 2
OPTIONS: dict[str, Any] = {
    "lists": {
        "plans": {"items": "plans", "total": None, "paging": "cursor", "next": "next_cursor"},
        "tenants": {
            "items": "data",
            "total": "meta.total",
            "paging": "page",
            "limitParam": "per_page",
            "firstPage": 0,
        },
        "featureFlags": {
            "items": "results",
            "total": "count",
            "paging": "link",
            "next": "links.next",
        },
        "users": {"items": "users", "offsetParam": "skip"},
    },
    "errors": {"message": "problem.detail"},
}


@pytest.fixture
def box(fresh_sandbox: FreshSandbox) -> Any:
    return fresh_sandbox("reference", seed={"options": OPTIONS, "quirks": {"max_page": CAP}})


def specs(tmp_path: Path, box: Any, options: dict[str, Any] | None) -> Path:
    """The repository's specs, with one target ``t`` at ``box`` (with ``options`` if given)."""
    root = Path(copy_tree(REPO / "specs", tmp_path / "specs"))
    api: Any = "reference" if options is None else {"dialect": "reference", "options": options}
    config = root / "reconciler.yaml"
    target = f"targets:\n  t:\n    api: {json.dumps(api)}\n    url: {box.url}\n"
    config.write_text(config.read_text() + target)
    return root


def client(box: Any) -> httpx.Client:
    return httpx.Client(
        base_url=box.url + BASE, headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"}, verify=tls()
    )


def apply(root: Path) -> Any:
    return run_cli(["apply", str(root), "--target", "t", "--auto-approve"], SANDBOX_TOKEN)


def test_the_sandbox_answers_as_seeded(box: Any) -> None:
    with client(box) as api:
        for name in ("a", "b", "c"):
            assert api.post("/tenants", json={"name": name}).status_code == 201
        second = api.get("/tenants", params={"page": 1, "per_page": 50}).json()
        missing = api.get("/plans/nope")
    assert [t["name"] for t in second["data"]] == ["c"]  # pages from 0, capped at 2
    assert second["meta"] == {"total": 3}
    assert missing.status_code == 404
    assert missing.json() == {"problem": {"detail": "plan 'nope' not found"}}


def test_configured_the_same_way_it_converges_and_plans_empty(box: Any, tmp_path: Path) -> None:
    root = specs(tmp_path, box, OPTIONS)
    applied = apply(root)
    assert applied.exit_code == 0, applied.output
    with client(box) as api:  # more of each than one page holds: read past the cap
        tenants = api.get("/tenants", params={"page": 0}).json()["meta"]["total"]
        flags = api.get("/feature-flags").json()["count"]
    assert (tenants, flags) == (5, 8) and min(tenants, flags) > CAP
    again = run_cli(["plan", str(root), "--target", "t", "--detailed-exitcode"], SANDBOX_TOKEN)
    assert again.exit_code == 0, again.output


def test_at_the_defaults_the_read_fails_naming_its_call_and_writes_nothing(
    box: Any, tmp_path: Path
) -> None:
    assert apply(specs(tmp_path, box, OPTIONS)).exit_code == 0
    before = len(request_log(box.db_path))
    refused = apply(specs(tmp_path / "defaults", box, None))
    assert refused.exit_code != 0
    assert f"GET {BASE}/" in refused.output and "unexpected answer shape" in refused.output
    assert [r for r in request_log(box.db_path)[before:] if r[0] != "GET"] == []


def test_error_messages_are_read_at_the_configured_key(box: Any) -> None:
    async def refusal(options: ReferenceOptions) -> str:
        client = ApiClient(box.url, SANDBOX_TOKEN)
        ReferenceProvider(client, options)  # sets the client's error key
        async with client:
            with pytest.raises(ApiError) as caught:
                await client.call("GET", url_path("/plans/{}", "nope", base=BASE))
        return caught.value.server_message

    configured = asyncio.run(refusal(ReferenceOptions.model_validate(OPTIONS)))
    assert configured.startswith("plan 'nope' not found")
    assert asyncio.run(refusal(ReferenceOptions())).startswith('{"problem"')


def test_each_listing_it_reads_is_one_option_as_configured() -> None:
    """What ``reconciler probe`` reads: every listing, named by its option, as set."""
    uses = ReferenceProvider(
        ApiClient("http://x.test", None), ReferenceOptions.model_validate(OPTIONS)
    ).listings()
    names = {row["name"] for row in ReferenceOptions.describe()}
    assert {use.option.split(".")[1] for use in uses} == set(OPTIONS["lists"])
    for use in uses:
        assert f"{use.option}.items" in names and use.decode is not None
        configured = OPTIONS["lists"][use.option.split(".")[1]]
        assert use.listing.as_data() == {**use.listing.as_data(), **configured}

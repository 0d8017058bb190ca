"""The flags listing skips the page-wide sharing of texts: the reader shares what it keeps.

A flag keeps three texts of its row: its key, interned (one object for every
tenant's copy, and the one the specs' flag names are), and its two timestamps,
one object while they are equal. Every guard of the listing still holds without
the sharing pass: a repeated or skipped flag and a malformed one are refused,
naming the call.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import httpx
import pytest

from reconciler.errors import MalformedResponse
from reconciler.model import Kind, Resource
from reconciler.providers.base import ReadScope
from reconciler.providers.http import ApiClient, InconsistentRead
from reconciler.providers.reference import ReferenceProvider

BASE = "/api/v1/operator"
TENANT_ROWS = [{"id": "t1", "name": "acme"}, {"id": "t2", "name": "beta"}]
TENANTS = {"items": TENANT_ROWS, "total": 2}


def fresh(text: str) -> str:
    """An equal text that is a new object, as the JSON decoder makes one per occurrence."""
    return "".join(list(text))


class Key(str):
    """A key of a str subclass: accepted by the decoder, and it cannot be interned."""


def flag(ident: str, tenant: str, key: str, created: str, updated: str) -> dict[str, Any]:
    return {
        "id": ident,
        "tenant_id": tenant,
        "key": key,
        "enabled": True,
        "created_at": created,
        "updated_at": updated,
    }


class OnePage:
    """A stand-in client: the tenants, then the flags as one page of rows made here."""

    error_key = "message"
    limiter = None

    def __init__(self, flags: list[dict[str, Any]]) -> None:
        self.flags = flags
        self.shared: list[bool] = []

    async def paginate(self, path: str, listing: Any, **kwargs: Any) -> Any:
        decode = kwargs["decode"]
        if path.endswith("/feature-flags"):
            self.shared.append(kwargs.get("share_text", True))
        for row in TENANT_ROWS if path.endswith("/tenants") else self.flags:
            yield decode(row)


def built(flags: list[dict[str, Any]]) -> tuple[list[Resource], OnePage]:
    client = OnePage(flags)
    provider = ReferenceProvider(client)  # type: ignore[arg-type]  # it only pages

    async def go() -> list[Resource]:
        return await provider._read_flags(ReadScope({Kind.TENANT, Kind.FEATURE_FLAG}))

    return asyncio.run(go()), client


def test_a_flag_keeps_its_key_interned_and_equal_timestamps_as_one_object() -> None:
    stamp, later = "2026-11-30T19:21:34.623181Z", "2026-12-01T08:00:00.000001Z"
    flags, client = built(
        [
            flag("f1", fresh("t1"), fresh("new_ui"), fresh(stamp), fresh(stamp)),
            flag("f2", fresh("t2"), fresh("new_ui"), fresh(stamp), fresh(later)),
            flag("f3", "t2", Key("beta_api"), stamp, stamp),
        ]
    )
    assert client.shared == [False]  # the listing skipped the page-wide pass
    assert [str(f.id) for f in flags] == [
        "FeatureFlag/acme/new_ui",
        "FeatureFlag/beta/new_ui",
        "FeatureFlag/beta/beta_api",
    ]
    first, second, odd = flags
    interned = sys.intern("new_ui")
    assert first.fields["flag"] is interned and second.fields["flag"] is interned
    assert first.server["id"] is interned
    assert first.server["created_at"] is first.server["updated_at"]
    assert first.server == {"id": "new_ui", "created_at": stamp, "updated_at": stamp}
    assert second.server == {"id": "new_ui", "created_at": stamp, "updated_at": later}
    assert type(odd.fields["flag"]) is Key  # kept as it came: a subclass cannot be interned
    assert odd.fields == {"tenant": "beta", "flag": "beta_api", "enabled": True}


def test_a_timestamp_the_row_lacks_is_not_made_up() -> None:
    rows = [
        {"id": "f1", "tenant_id": "t1", "key": "a", "created_at": "c"},
        {"id": "f2", "tenant_id": "t1", "key": "b", "updated_at": "u"},
        {"id": "f3", "tenant_id": "t1", "key": "c"},
    ]
    assert [f.server for f in built(rows)[0]] == [
        {"id": "a", "created_at": "c"},
        {"id": "b", "updated_at": "u"},
        {"id": "c"},
    ]


def serving(flag_pages: list[dict[str, Any]]) -> ApiClient:
    """The reference listings over MockTransport (a unit test of the client's paging):
    flags by offset, one answer of ``flag_pages`` per page."""

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix(BASE)
        if path == "/feature-flags":
            offset = int(request.url.params.get("offset", "0"))
            sizes = [len(page["items"]) for page in flag_pages]
            at = [sum(sizes[:i]) for i in range(len(sizes))]
            past = {"items": [], "total": flag_pages[0]["total"]}  # beyond the last page
            body = flag_pages[at.index(offset)] if offset in at else past
            return httpx.Response(200, json=body)
        return httpx.Response(200, json=TENANTS if path == "/tenants" else {"items": []})

    return ApiClient("http://api.test", "tok", transport=httpx.MockTransport(handler))


def read_flags(client: ApiClient) -> list[Resource]:
    provider = ReferenceProvider(client)

    async def go() -> list[Resource]:
        async with client:
            return await provider._read_flags(ReadScope({Kind.TENANT, Kind.FEATURE_FLAG}))

    return asyncio.run(go())


def test_the_unshared_flags_listing_reads_well_formed_pages() -> None:
    pages = [
        {"items": [flag("f1", "t1", "a", "c", "c"), flag("f2", "t2", "a", "c", "c")], "total": 3},
        {"items": [flag("f3", "t2", "b", "c", "c")], "total": 3},
    ]
    assert [str(f.id) for f in read_flags(serving(pages))] == [
        "FeatureFlag/acme/a",
        "FeatureFlag/beta/a",
        "FeatureFlag/beta/b",
    ]


@pytest.mark.parametrize(
    ("pages", "refused"),
    [
        (
            [
                {"items": [flag("f1", "t1", "a", "c", "c")], "total": 2},
                {"items": [flag("f1", "t1", "a", "c", "c")], "total": 2},
            ],
            "returned item f1 twice",
        ),
        ([{"items": [flag("f1", "t1", "a", "c", "c")], "total": 3}], "pages skip items"),
    ],
    ids=["repeated", "skipped"],
)
def test_a_flags_listing_that_repeats_or_skips_is_still_refused(
    pages: list[dict[str, Any]], refused: str
) -> None:
    with pytest.raises(InconsistentRead, match=refused) as raised:
        read_flags(serving(pages))
    assert raised.value.path == BASE + "/feature-flags"


def test_a_malformed_flag_is_still_refused_naming_the_call() -> None:
    pages = [{"items": [flag("f1", "t1", 7, "c", "c")], "total": 1}]  # type: ignore[arg-type]
    with pytest.raises(MalformedResponse) as raised:
        read_flags(serving(pages))
    assert (raised.value.method, raised.value.path) == ("GET", BASE + "/feature-flags")
    assert "'key'" in str(raised.value)

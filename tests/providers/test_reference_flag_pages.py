"""The reference reader builds each listed flag as its page arrives: no page of raw rows
waits for the listing's end (at 110,000 objects those rows were ~90 MB of the peak).

The client here is a stand-in that pages rows of a dict subclass (plain dicts take no
weak references), with the cyclic collector off: a row is gone exactly when nothing
refers to it any more.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from typing import Any

import pytest

from reconciler.model import Kind, ResourceId
from reconciler.providers.base import ReadScope
from reconciler.providers.reference import ReferenceProvider

PAGE = 4


class Row(dict[str, Any]):
    """A listed row that can be watched with a weak reference."""


class PagingClient:
    """Pages of rows, each page made when asked for; says how many earlier rows live on."""

    error_key = "message"
    limiter = None

    def __init__(self, tenants: int, flags: int) -> None:
        self.tenants = [Row(id=f"t{i}", name=f"tenant-{i}") for i in range(tenants)]
        self.flags = [(f"t{i}", f"flag_{j}") for i in range(tenants) for j in range(flags)]
        self.sent: list[weakref.ref[Row]] = []
        self.alive_at_each_page: list[int] = []

    async def paginate(self, path: str, listing: Any, **kwargs: Any) -> AsyncIterator[Any]:
        decode = kwargs.get("decode") or (lambda item: item)
        if path.endswith("/tenants"):
            for row in self.tenants:
                yield decode(row)
            return
        for start in range(0, len(self.flags), PAGE):
            await asyncio.sleep(0)  # a page's answer: the tenants' listing may run meanwhile
            self.alive_at_each_page.append(sum(ref() is not None for ref in self.sent))
            page = [
                Row(tenant_id=tenant, key=key, enabled=True, created_at="c", updated_at="u")
                for tenant, key in self.flags[start : start + PAGE]
            ]
            self.sent += [weakref.ref(row) for row in page]
            for row in page:
                yield decode(row)
            del page


@pytest.mark.usefixtures("collector_off")
def test_a_page_of_flags_is_freed_once_its_flags_are_built() -> None:
    client = PagingClient(tenants=3, flags=20)
    provider = ReferenceProvider(client)  # type: ignore[arg-type]  # it only pages

    async def read() -> list[Any]:
        scope = ReadScope({Kind.TENANT, Kind.FEATURE_FLAG})
        return await provider._read_flags(scope)

    flags = asyncio.run(read())
    assert len(flags) == 60
    assert flags[0].id == ResourceId(Kind.FEATURE_FLAG, "tenant-0/flag_0")
    assert flags[0].fields == {"tenant": "tenant-0", "flag": "flag_0", "enabled": True}
    assert flags[0].server == {"id": "flag_0", "created_at": "c", "updated_at": "u"}
    alive = client.alive_at_each_page
    assert len(alive) == 15
    # Rows wait only until the tenants' names are known (a few pages here); from then
    # on, before each page at most the last row of the page before is still referred
    # to (the reader's loop variable). Kept to the listing's end, all would be.
    assert max(alive[-8:]) <= 1, alive
    assert [ref() for ref in client.sent] == [None] * 60


@pytest.mark.usefixtures("collector_off")
def test_rows_listed_before_the_tenant_names_wait_then_are_built() -> None:
    """Flags that arrive before the tenants' names are known are built once they are."""
    client = PagingClient(tenants=2, flags=3)
    provider = ReferenceProvider(client)  # type: ignore[arg-type]

    async def read() -> list[Any]:
        scope = ReadScope({Kind.FEATURE_FLAG})
        names: asyncio.Future[dict[Any, str]] = asyncio.get_running_loop().create_future()

        async def late() -> dict[Any, str]:
            for _ in range(3):  # answers after the first pages of flags
                await asyncio.sleep(0)
            names.set_result({"t0": "tenant-0", "t1": "tenant-1"})
            return await names

        provider._tenant_names = lambda scope: late()  # type: ignore[method-assign]
        return await provider._read_flags(scope)

    flags = asyncio.run(read())
    assert [str(f.id) for f in flags] == [
        f"FeatureFlag/tenant-{i}/flag_{j}" for i in range(2) for j in range(3)
    ]

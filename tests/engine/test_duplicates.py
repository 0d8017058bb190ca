"""Two live objects under one natural key are ambiguous: a read refuses to plan from them."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from types import SimpleNamespace
from typing import Any

import pytest

from reconciler import core
from reconciler.errors import PlanError
from reconciler.model import Change, Kind, Resource, ResourceId, State
from reconciler.providers.base import ApplyContext, Capabilities, KindSupport, Provider


class TwinProvider(Provider):
    capabilities = Capabilities(
        dialect="twins",
        title="a server holding two tenants named acme",
        supports={Kind.TENANT: KindSupport(frozenset(), frozenset())},
    )

    async def read(self, kinds: Collection[Kind]) -> State:
        rid = ResourceId(Kind.TENANT, "acme")
        return State([Resource(rid, {}, server={"id": "1"}), Resource(rid, {}, server={"id": "2"})])

    async def apply(self, change: Change, ctx: ApplyContext) -> Resource | None:
        raise AssertionError("never called")


def test_duplicate_natural_keys_stop_the_read() -> None:
    session: Any = SimpleNamespace(
        provider=TwinProvider(None),  # type: ignore[arg-type]
        target=SimpleNamespace(dialect="twins"),
    )
    with pytest.raises(PlanError, match=r"Tenant/acme \(ids 1 and 2\)"):
        asyncio.run(core.read_live(session))

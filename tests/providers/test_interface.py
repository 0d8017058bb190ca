"""The provider interface: one frozen Capabilities value, handlers in a table (issue 11)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Collection

import httpx
import pytest

from reconciler import dialects as registry
from reconciler.engine.planner import PlannerCapabilities
from reconciler.errors import PlanError
from reconciler.model import Action, Change, Kind, Resource, ResourceId, State
from reconciler.providers import (
    Capabilities,
    KindHandlers,
    KindSupport,
    Provider,
    ReadScope,
    dialects,
    provider_class,
)
from reconciler.providers.http import ApiClient

LEGACY = ("dialect", "title", "supports", "absent_is_inactive", "sensitive_body_keys")
LEGACY += ("admin_role", "base_path")
"""What providers declared as class attributes before: now fields of ``capabilities``."""


def offline() -> ApiClient:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"no call expected: {request.method} {request.url}")

    return ApiClient("http://api.test", "tok", transport=httpx.MockTransport(refuse))


@pytest.mark.parametrize("dialect", dialects())
def test_the_handler_table_matches_the_declared_operations(dialect: str) -> None:
    provider = provider_class(dialect)(offline())
    declared = provider.capabilities.supports
    assert set(provider.table) == set(declared), dialect
    for kind, handlers in provider.table.items():
        ops = declared[kind].operations
        assert (handlers.create is not None) == (Action.CREATE in ops), (dialect, kind)
        assert (handlers.update is not None) == (Action.UPDATE in ops), (dialect, kind)
        lifecycle = bool(ops & {Action.SUSPEND, Action.RESUME})
        assert (handlers.lifecycle is not None) == lifecycle, (dialect, kind)
        assert (handlers.delete is not None) == (Action.DELETE in ops), (dialect, kind)


@pytest.mark.parametrize("dialect", dialects())
def test_each_provider_stands_on_its_own_behind_one_value(dialect: str) -> None:
    cls = provider_class(dialect)
    assert cls.__bases__ == (Provider,), f"{cls.__name__} inherits from another provider"
    assert isinstance(cls.capabilities, Capabilities)
    assert cls.capabilities.dialect == dialect
    assert "apply" not in vars(cls) and "read" not in vars(cls), "dispatch is the table's"
    for name in LEGACY:
        assert not hasattr(cls, name), f"{cls.__name__}.{name}: a field of capabilities now"


def test_operator_v1_does_not_inherit_from_reference() -> None:
    from reconciler.providers.operator_v1 import OperatorV1Provider
    from reconciler.providers.reference import ReferenceProvider

    assert not issubclass(OperatorV1Provider, ReferenceProvider)


def test_capabilities_are_one_frozen_value() -> None:
    caps = provider_class("iaas-v1").capabilities
    with pytest.raises(dataclasses.FrozenInstanceError):
        caps.admin_role = "root"  # type: ignore[misc]
    with pytest.raises(TypeError):
        caps.supports[Kind.SUBSCRIPTION_PLAN] = KindSupport(frozenset(), frozenset())  # type: ignore[index]
    assert list(caps.supports) == [Kind.TENANT, Kind.OPERATOR]  # kind order


def test_the_planner_reads_the_capabilities_value() -> None:
    class Declared(Provider):
        capabilities = Capabilities(
            dialect="declared",
            title="test",
            supports={Kind.OPERATOR: KindSupport(frozenset(), frozenset(), frozenset({"key"}))},
            absent_is_inactive=frozenset({Kind.OPERATOR}),
            admin_role="root",
        )

    planner = PlannerCapabilities.of(Declared)
    assert planner.admin_role == "root"
    assert planner.absent_is_inactive == frozenset({Kind.OPERATOR})
    assert planner.sensitive == {Kind.OPERATOR: frozenset({"key"})}
    assert planner.unaddressable is not None


class Tiny(Provider):
    """A provider from outside the package: a declaration and a table, nothing else."""

    capabilities = Capabilities(
        dialect="tiny",
        title="test",
        supports={Kind.TENANT: KindSupport(frozenset({Action.CREATE}), frozenset())},
    )

    def __init__(self, client: ApiClient) -> None:
        super().__init__(client)
        self.made: list[str] = []

    def handlers(self) -> dict[Kind, KindHandlers]:
        return {Kind.TENANT: KindHandlers(self._read, create=self._create)}

    async def _read(self, scope: ReadScope) -> list[Resource]:
        return [Resource(ResourceId(Kind.TENANT, key), {}) for key in self.made]

    async def _create(self, change: Change, ctx: object) -> Resource | None:
        self.made.append(change.id.key)
        return None


def test_a_provider_is_a_declaration_and_a_table() -> None:
    provider = Tiny(offline())
    rid = ResourceId(Kind.TENANT, "acme")
    create = Change(Action.CREATE, rid, desired=Resource(rid, {}))

    async def go(kinds: Collection[Kind]) -> State:
        await provider.apply(create, None)  # type: ignore[arg-type]
        return await provider.read(kinds)

    state = asyncio.run(go([Kind.TENANT, Kind.SUBSCRIPTION_PLAN]))
    assert [str(r.id) for r in state] == ["Tenant/acme"]
    delete = Change(Action.DELETE, rid, live=Resource(rid, {}))
    with pytest.raises(PlanError, match="the tiny API cannot delete Tenant objects"):
        asyncio.run(provider.apply(delete, None))  # type: ignore[arg-type]


def test_the_registry_is_one_line_per_dialect_with_both_halves() -> None:
    assert registry.names() == dialects()
    from reconciler.sandbox.app import available_dialects, load_dialect

    assert available_dialects() == dialects()
    for entry in registry.REGISTRY:
        assert provider_class(entry.name).capabilities.dialect == entry.name
        served = load_dialect(entry.name)
        assert served is not None and served.name == entry.name


def test_reading_the_registry_loads_no_provider_and_no_sandbox() -> None:
    import subprocess
    import sys

    code = (
        "import sys, reconciler.dialects as d; d.names(); "
        "print(sorted(m for m in sys.modules if m.startswith(('reconciler.', 'httpx', 'fastapi'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['reconciler.dialects']"

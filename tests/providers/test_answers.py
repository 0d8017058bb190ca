"""An answer travels with its call: a bad answer names the call it answered (issue 11).

With several reads in flight, the call *sent last* is not the one whose answer
was bad. Each provider decodes an answer where it arrives, so the error names
that answer's own method and path; an error in a provider's own code afterwards
is reported as a bug, not as a bad answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from reconciler import session as sessions
from reconciler.errors import MalformedResponse, ProviderBug
from reconciler.model import Kind, Resource
from reconciler.providers import ReadScope, provider_class
from reconciler.providers.http import ApiClient, InconsistentRead
from reconciler.providers.reference import ReferenceProvider

BASE = "/api/v1/operator"
GOOD: dict[str, Any] = {
    "/plans": {"items": [{"id": "p1", "name": "pro"}], "total": 1},
    "/tenants": {"items": [{"id": "t1", "name": "acme", "plan_id": "p1"}], "total": 1},
    "/feature-flags": {"items": [], "total": 0},
    "/users": {"items": [{"id": "u1", "email": "a@x.example", "roles": []}], "total": 1},
    "/plans/p1/tier-defaults": {"tier_defaults": [{"tier": "basic", "slot_limit": 3}]},
}
Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]


def serving(answers: dict[str, Any], hold: str | None = None) -> tuple[ApiClient, list[str]]:
    """A client over MockTransport answering ``answers`` by path (under BASE).

    ``hold``: that path's answer waits until every other listing has been asked
    for, so the call sent last is never the one held.
    """
    sent: list[str] = []
    others_asked = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix(BASE)
        sent.append(path)
        if {"/plans", "/tenants", "/feature-flags", "/users"} <= set(sent):
            others_asked.set()
        if path == hold:
            await asyncio.wait_for(others_asked.wait(), 5)
            await asyncio.sleep(0.01)  # the others are answered (and more may be sent) first
        return httpx.Response(200, json=answers[path])

    client = ApiClient("http://api.test", "tok", transport=httpx.MockTransport(handler))
    return client, sent


def read(provider: Any) -> Any:
    async def go() -> Any:
        async with provider.client:
            return await provider.read(list(provider.capabilities.supports))

    return asyncio.run(go())


def live(provider: Any) -> Any:
    """``read_live`` over a session holding ``provider``."""
    session: Any = SimpleNamespace(provider=provider, target=SimpleNamespace(dialect="reference"))

    async def go() -> Any:
        async with provider.client:
            return await sessions.read_live(session)

    return asyncio.run(go())


def test_a_bad_listing_is_named_though_another_call_was_sent_after_it() -> None:
    bad = {**GOOD, "/plans": {"items": [{"id": "p1", "name": 12345}], "total": 1}}
    client, sent = serving(bad, hold="/plans")
    with pytest.raises(MalformedResponse) as raised:
        live(ReferenceProvider(client))
    assert raised.value.method == "GET"
    assert raised.value.path == BASE + "/plans"
    assert "shape it does not document" in str(raised.value)
    assert "'name' is 12345" in str(raised.value)
    assert sent.index("/users") > sent.index("/plans")  # /users went out later


def test_each_of_two_listings_in_flight_is_blamed_for_its_own_answer() -> None:
    """Whichever listing is bad, the error names it, not the one sent last."""
    for path, item in [
        ("/users", {"id": "u1", "email": "a@x.example", "roles": "operator"}),
        ("/tenants", {"id": ["t1"], "name": "acme"}),
    ]:
        bad = {**GOOD, path: {"items": [item], "total": 1}}
        client, _ = serving(bad, hold=path)
        with pytest.raises(MalformedResponse) as raised:
            read(ReferenceProvider(client))
        assert raised.value.path == BASE + path, path


def test_a_bad_answer_to_a_per_object_read_names_that_object_s_path() -> None:
    bad = {**GOOD, "/plans/p1/tier-defaults": {"tier_defaults": [{"slot_limit": 3}]}}
    client, _ = serving(bad)
    with pytest.raises(MalformedResponse) as raised:
        read(ReferenceProvider(client))
    assert raised.value.path == BASE + "/plans/p1/tier-defaults"
    assert raised.value.resource == "TierDefaults/pro"


@pytest.mark.parametrize(
    ("dialect", "answers", "blamed"),
    [
        (
            "tenants-v1",
            {
                "/v1/tenants": {"data": [{"id": "t1", "name": "acme"}], "total": 1},
                "/v1/tenants/t1/configuration": {"configuration": {}},
                "/v1/tenants/t1/feature-flags": {"data": [{"enabled": True}]},  # no key
                "/v1/tenants/t1/roles": {"data": []},
                "/v1/tenants/t1/role-assignments": {"data": []},
            },
            "/v1/tenants/t1/feature-flags",
        ),
        (
            "platform-admin",
            {
                "/api/v1/platform/admin/tenants": {
                    "success": True,
                    "data": {
                        "tenants": [{"id": "t1", "company_name": "acme"}],
                        "pagination": {"total": 1},
                    },
                },
                "/api/v1/platform/admin/tenants/t1": {"success": True, "data": {"tenant": []}},
                "/api/v1/platform/admin/tenants/t1/feature-flags": {
                    "success": True,
                    "data": {"flags": []},
                },
                "/api/v1/platform/admin/users": {"success": True, "data": []},
            },
            "/api/v1/platform/admin/tenants/t1",
        ),
        (
            "operator-v1",
            {
                "/api/v1/operator/device-tiers": [],
                "/api/v1/operator/plans": [],
                "/api/v1/operator/tenants": [{"id": 1, "name": "acme"}],
                "/api/v1/operator/users": [{"id": 2, "email": "a@x", "name": 7}],
            },
            "/api/v1/operator/users",
        ),
        (
            "iaas-v1",
            {"/tenants": [{"id": "t1", "name": "acme", "users": "u1"}], "/users": []},
            "/tenants",
        ),
        ("admin-operators", {"/admin/operators": {"operators": [{"id": "1"}]}}, "/admin/operators"),
    ],
)
def test_every_dialect_names_the_call_whose_answer_was_bad(
    dialect: str, answers: dict[str, Any], blamed: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        first = params.get("offset", "0") == "0" and params.get("skip", "0") == "0"
        body = answers[request.url.path] if first and params.get("page", "1") == "1" else []
        return httpx.Response(200, json=body)

    client = ApiClient("http://api.test", "tok", transport=httpx.MockTransport(handler))
    with pytest.raises(MalformedResponse) as raised:
        read(provider_class(dialect)(client))
    assert (raised.value.method, raised.value.path) == ("GET", blamed)


def test_a_listing_that_contradicts_itself_still_names_its_path() -> None:
    repeated = {"items": [{"id": "p1", "name": "pro"}, {"id": "p1", "name": "pro"}], "total": 2}
    client, _ = serving({**GOOD, "/plans": repeated})
    with pytest.raises(InconsistentRead) as raised:
        read(ReferenceProvider(client))
    assert raised.value.path == BASE + "/plans"


class BuggyProvider(ReferenceProvider):
    """The reference provider with a slip in its own code: every answer is well-formed."""

    async def _read_subscription_plans(self, scope: ReadScope) -> list[Resource]:
        subscription_plans = await self._subscription_plans(scope)
        return [Resource(p["not-a-field"], {}) for p in subscription_plans]


def test_a_provider_bug_is_reported_as_a_bug_not_as_a_bad_answer() -> None:
    client, _ = serving(GOOD)
    with pytest.raises(ProviderBug) as raised:
        live(BuggyProvider(client))
    message = str(raised.value)
    assert "shape it does not document" not in message
    assert "the reference provider failed while reading the live state" in message
    assert "KeyError: 'not-a-field' at " in message  # where, for the report
    assert "bug in reconciler" in message and "please report it" in message
    assert isinstance(raised.value.error, KeyError)


def test_a_live_object_whose_key_is_no_name_is_the_provider_s_bug() -> None:
    """Decoders check names; a provider that builds a key from something else is wrong."""

    class Unchecked(ReferenceProvider):
        async def _read_subscription_plans(self, scope: ReadScope) -> list[Resource]:
            from reconciler.model import ResourceId

            listed = await self._subscription_plans(scope)
            return [Resource(ResourceId(Kind.SUBSCRIPTION_PLAN, 7), {}) for _ in listed]  # type: ignore[arg-type]

    client, _ = serving(GOOD)
    with pytest.raises(ProviderBug, match="key 7, not a name"):
        live(Unchecked(client))


def test_well_formed_answers_read_as_before() -> None:
    client, _ = serving(GOOD)
    state = live(ReferenceProvider(client))
    assert sorted(str(r.id) for r in state) == [
        "Operator/a@x.example",
        "Plan/pro",
        "Tenant/acme",
        "TierDefaults/pro",
    ]

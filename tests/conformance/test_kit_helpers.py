"""The conformance kit's own parts: its choices of objects, its reading of the request log."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

import pytest

from reconciler.calls import PlannedCall
from reconciler.model import Action, Change, Kind, Resource, ResourceId, State
from reconciler.providers.base import Capabilities, KindSupport, Provider
from reconciler.testing import choices
from reconciler.testing.conformance import _merged
from reconciler.testing.request_log import Request, call_mismatch, paged_paths

ALL = frozenset({Action.CREATE, Action.UPDATE, Action.SUSPEND, Action.RESUME, Action.DELETE})


class Toy(Provider):
    """A made-up API: plans it can only create and update, tenants with a choice field,
    operators whose ``name`` it refuses to update."""

    capabilities = Capabilities(
        dialect="toy",
        title="toy",
        supports={
            Kind.SUBSCRIPTION_PLAN: KindSupport(
                frozenset({Action.CREATE, Action.UPDATE}), frozenset({"display_name"})
            ),
            Kind.TENANT: KindSupport(
                ALL,
                frozenset({"plan", "status", "tier", "secret", "display_name"}),
                sensitive=frozenset({"secret"}),
                choices={"tier": ("gold", "silver")},
            ),
            Kind.OPERATOR: KindSupport(ALL, frozenset({"name", "tenant"})),
        },
    )

    @classmethod
    def change_problems(cls, change: Change) -> list[str]:
        names = {f.path for f in change.fields}
        if change.id.kind is Kind.OPERATOR and "name" in names:
            return ["name is set at creation only"]
        return []


def rid(kind: Kind, key: str) -> ResourceId:
    return ResourceId(kind, key)


PRO = Resource(rid(Kind.SUBSCRIPTION_PLAN, "pro"), {"display_name": "Pro"})
ACME = Resource(
    rid(Kind.TENANT, "acme"),
    {"plan": "pro", "status": "suspended", "tier": "gold", "secret": "s3", "display_name": "acme"},
)
ANN = Resource(rid(Kind.OPERATOR, "ann@example.com"), {"name": "Ann", "tenant": "acme"})
DESIRED = State([ANN, ACME, PRO])


def test_dependencies_are_followed_through_references() -> None:
    closure = choices.with_dependencies(DESIRED, ANN.id)
    assert [r.id for r in closure] == [PRO.id, ACME.id, ANN.id]  # dependency order
    assert [r.id for r in choices.with_dependencies(DESIRED, PRO.id)] == [PRO.id]


def test_the_differing_copy_changes_one_field_the_api_can_update_back() -> None:
    off = choices.differing(ACME, Toy)
    assert off is not None
    # not the reference (plan), the lifecycle (status), the sensitive field, nor a field
    # whose value is the key (display_name "acme"): the choice field, to another choice
    assert off.fields == {**ACME.fields, "tier": "silver"}
    assert choices.differing(ANN, Toy) is None  # its name cannot be updated, tenant is a ref
    assert choices.differing(PRO, Toy) == Resource(PRO.id, {"display_name": "Pro (by hand)"})


def test_the_adopted_object_is_the_one_with_the_most_dependencies() -> None:
    assert choices.adoptable(DESIRED, Toy) == (ACME, choices.differing(ACME, Toy))
    assert choices.adoptable(State([PRO]), Toy) == (PRO, choices.differing(PRO, Toy))
    assert choices.adoptable(State([ANN]), Toy) is None
    assert choices.creatable(DESIRED, Toy) == PRO


def test_the_unmanaged_object_is_of_a_removable_kind_and_active() -> None:
    extra = choices.unmanaged(DESIRED, Toy)
    assert extra is not None
    # plans come first in dependency order but cannot be removed: a tenant is chosen
    assert extra.id == rid(Kind.TENANT, "unmanaged-by-hand")
    assert extra.fields["status"] == "active" and extra.fields["display_name"] == extra.id.key
    only_operators = State([ANN])
    made = choices.unmanaged(only_operators, Toy)
    assert made is not None and made.id.key == "unmanaged-by-hand@example.com"
    assert choices.removal(Kind.TENANT, Toy) == ("delete", Action.DELETE)
    assert choices.removal(Kind.SUBSCRIPTION_PLAN, Toy) is None


def test_seeds_merge_their_mappings_one_level_deep() -> None:
    base = {"users": [1], "quirks": {"extra_fields": True}}
    assert _merged(base, None, {"quirks": {"max_page": 2}}) == {
        "users": [1],
        "quirks": {"extra_fields": True, "max_page": 2},
    }
    assert _merged(None, {}) is None


def call(method: str, path: str) -> PlannedCall:
    return PlannedCall("Tenant/x", method, path, None, None)


def sent(method: str, path: str, status: int = 200) -> Request:
    return Request(method, path, "", status)


def test_planned_calls_match_the_writes_sent_with_placeholders_bound_once() -> None:
    planned = [call("POST", "/tenants"), call("PATCH", "/tenants/<new-1>/config")]
    same = [sent("POST", "/api/tenants", 201), sent("PATCH", "/api/tenants/7/config")]
    assert call_mismatch(planned, same, "/api") is None
    assert call_mismatch(planned, same[:1], "/api") == "2 calls planned, 1 sent"
    wrong = [sent("POST", "/api/tenants"), sent("PUT", "/api/tenants/7/config")]
    assert "call 2" in (call_mismatch(planned, wrong, "/api") or "")
    twice = [*planned, call("DELETE", "/tenants/<new-1>")]
    other = [*same, sent("DELETE", "/api/tenants/8")]
    assert "<new-1> was 7 before" in (call_mismatch(twice, other, "/api") or "")


def test_a_listing_read_with_several_queries_was_paged() -> None:
    served = [
        Request("GET", "/tenants", "limit=100&offset=0", 200),
        Request("GET", "/tenants", "limit=100&offset=2", 200),
        Request("GET", "/plans", "limit=100", 200),
        Request("GET", "/plans", "limit=100", 200),  # read twice, one page: not paging
        Request("POST", "/users", "", 201),
    ]
    assert paged_paths(served) == ["/tenants"]


def test_the_plugin_is_installed_for_pytest_and_loads_nothing_heavy(
    pytestconfig: pytest.Config,
) -> None:
    points = [p for p in entry_points(group="pytest11") if p.name == "reconciler"]
    assert [p.value for p in points] == ["reconciler.testing.plugin"]
    assert pytestconfig.pluginmanager.get_plugin("reconciler") is not None
    heavy = ["fastapi", "uvicorn", "httpx", "starlette", "click", "reconciler.core"]
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, reconciler.testing.plugin; "
            f"print([m for m in {heavy!r} if m in sys.modules])",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "[]"

"""``ResourceId`` is a tuple (hashing and equality in C): it must still behave as the id it was.

Equal ids made apart are one dict key, ``str`` and ``parse`` invert each other,
ids order by (kind, key), and a saved plan or a JSON report names every id as
``"Kind/key"`` text: a tuple that reached ``json.dumps`` would be written as a list.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler import planfile, redact
from reconciler.cli_report import target_dict
from reconciler.engine.external import ExternalRef, Referrer
from reconciler.engine.plan import Plan, Selection
from reconciler.engine.results import ApplyResult
from reconciler.errors import SourceLocation
from reconciler.model import Action, Change, FieldChange, Kind, Resource, ResourceId, State
from reconciler.report import json_report
from reconciler.rules import Rules
from reconciler.runs import ApplyRun, PlanRun
from reconciler.targets import Target

T, F, P, D = Kind.TENANT, Kind.FEATURE_FLAG, Kind.SUBSCRIPTION_PLAN, Kind.TIER_DEFAULTS
HERE = SourceLocation("specs/t.yaml", 3, 1)


def test_equal_ids_made_apart_are_one_key() -> None:
    key = "".join(["ac", "me"])  # not the interned literal: equal, not identical
    a, b = ResourceId(T, "acme"), ResourceId.parse("Tenant/" + key)
    assert a == b and a is not b and a.key is not b.key and hash(a) == hash(b)
    table = {a: "first"}
    table[b] = "second"
    assert table == {ResourceId(T, "acme"): "second"}
    assert len({a, b, ResourceId(kind=T, key="acme")}) == 1
    assert b in State([Resource(a, {})])


def test_the_kind_and_the_key_both_tell_ids_apart() -> None:
    ids = {ResourceId(P, "gold"), ResourceId(D, "gold"), ResourceId(P, "Gold"), ResourceId(T, "")}
    assert len(ids) == 4
    assert ResourceId(P, "gold") != ResourceId(D, "gold")
    assert ResourceId(P, "gold") not in {ResourceId(D, "gold")}


@pytest.mark.parametrize(
    ("rid", "text"),
    [
        (ResourceId(T, "acme"), "Tenant/acme"),
        (ResourceId(F, "acme/sso"), "FeatureFlag/acme/sso"),
        (ResourceId(Kind.ROLE_ASSIGNMENT, "t/admin/ann@x.io"), "RoleAssignment/t/admin/ann@x.io"),
        (ResourceId(P, "a b é"), "Plan/a b é"),
    ],
)
def test_str_and_parse_invert_each_other(rid: ResourceId, text: str) -> None:
    assert str(rid) == f"{rid}" == text
    assert ResourceId.parse(text) == rid
    assert ResourceId.parse(text).kind is rid.kind


def test_repr_names_the_fields() -> None:
    assert repr(ResourceId(T, "acme")) == "ResourceId(kind=<Kind.TENANT: 'Tenant'>, key='acme')"


def test_ids_order_by_kind_then_key() -> None:
    ids = [ResourceId(T, "b"), ResourceId(F, "z/x"), ResourceId(T, "a"), ResourceId(P, "gold")]
    assert sorted(ids) == [
        ResourceId(F, "z/x"),
        ResourceId(P, "gold"),
        ResourceId(T, "a"),
        ResourceId(T, "b"),
    ]
    assert ResourceId(T, "a") < ResourceId(T, "b") <= ResourceId(T, "b")


# ---- JSON documents: ids as text ------------------------------------------------------


def ids_as_lists(node: Any) -> list[Any]:
    """Every list in a JSON document that looks like an id written as a tuple."""
    if isinstance(node, dict):
        return [found for value in node.values() for found in ids_as_lists(value)]
    if not isinstance(node, list):
        return []
    kinds = {k.value for k in Kind}
    looks = len(node) == 2 and all(isinstance(v, str) for v in node) and node[0] in kinds
    found = [node] if looks else []
    return found + [inner for item in node for inner in ids_as_lists(item)]


ACME, GONE, FLAG = ResourceId(T, "acme"), ResourceId(T, "gone"), ResourceId(F, "acme/sso")
GONE_FLAG, GOLD, SHARED = ResourceId(F, "gone/beta"), ResourceId(P, "gold"), ResourceId(P, "shared")


def sample_plan() -> Plan:
    """A plan with an id in every place a plan holds one."""
    desired = Resource(FLAG, {"tenant": "acme", "flag": "sso", "enabled": True}, source=HERE)
    live = Resource(FLAG, {"tenant": "acme", "flag": "sso", "enabled": False}, server={"id": "7"})
    return Plan(
        changes=[
            Change(
                Action.UPDATE,
                FLAG,
                desired=desired,
                live=live,
                fields=[FieldChange("enabled", False, True)],
                reason="fields differ: enabled",
                waits_for=frozenset({ACME}),
            ),
            Change(Action.DELETE, GONE, live=Resource(GONE, {}, server={"id": "9"})),
        ],
        unchanged=[ACME],
        unmanaged=[GONE_FLAG, ResourceId(T, "other")],
        desired_counts={T: 1, F: 1},
        live_counts={T: 2, F: 2},
        ignored={GOLD: ["display_name"]},
        notes={GONE: "not in specs"},
        unsafe={ResourceId(T, "a/b"): "its key holds '/'"},
        external={SHARED: ExternalRef(SHARED, HERE, True, (Referrer(ACME, "plan", HERE),))},
        selection=Selection(only=(FLAG,), needed=(ACME,), left_out=(GONE,), dependents=()),
    )


def test_a_saved_plan_names_every_id_as_text(tmp_path: Path) -> None:
    plan = sample_plan()
    target = Target(
        name="prod",
        dialect="reference",
        url="http://127.0.0.1:1",
        rules=Rules(protect=frozenset({ACME}), external={SHARED: HERE}),
    )
    desired = State(c.desired for c in plan.changes if c.desired is not None)
    live = State(c.live for c in plan.changes if c.live is not None)
    path = tmp_path / "plan.json"
    planfile.write(path, planfile.dump(plan, target, desired, live, str(tmp_path / "specs")))

    written = json.loads(path.read_text(encoding="utf-8"))
    assert ids_as_lists(written) == []
    saved = written["plan"]
    assert [c["id"] for c in saved["changes"]] == ["FeatureFlag/acme/sso", "Tenant/gone"]
    assert saved["changes"][0]["waits_for"] == ["Tenant/acme"]
    assert saved["changes"][0]["desired"]["id"] == "FeatureFlag/acme/sso"
    assert saved["unchanged"] == ["Tenant/acme"]
    assert saved["unmanaged"] == ["FeatureFlag/gone/beta", "Tenant/other"]
    assert list(saved["ignored"]) == ["Plan/gold"] and list(saved["notes"]) == ["Tenant/gone"]
    assert saved["external"][0]["id"] == "Plan/shared"
    assert saved["external"][0]["referrers"][0]["id"] == "Tenant/acme"
    assert saved["selection"]["only"] == ["FeatureFlag/acme/sso"]
    assert written["target"]["protect"] == ["Tenant/acme"]
    assert list(written["target"]["external"]) == ["Plan/shared"]
    assert [d["id"] for d in written["desired"]] == ["FeatureFlag/acme/sso"]
    assert set(written["fingerprints"]) == {"FeatureFlag/acme/sso", "Tenant/gone"}

    loaded = planfile.load(path)
    assert loaded.plan == plan
    assert loaded.target.rules.protect == {ACME}
    assert loaded.desired.get(ResourceId.parse("FeatureFlag/acme/sso")) is not None


def test_a_json_report_names_every_id_as_text() -> None:
    plan = sample_plan()
    target = Target(name="prod", dialect="reference", url="http://127.0.0.1:1")
    planned = PlanRun(target, State(), State(), plan)
    result = ApplyResult(
        applied=[FLAG],
        failed={GONE: "HTTP 500"},
        skipped={ACME: "after a failure"},
        not_started=[GOLD],
        unknown={SHARED: "timed out"},
    )
    run = ApplyRun(planned, result=result, remaining=plan)
    text = json_report.dumps(redact.scrub(json_report.apply_document(run, target_dict(planned))))

    report = json.loads(text)
    assert ids_as_lists(report) == []
    assert [c["id"] for c in report["changes"]] == ["FeatureFlag/acme/sso", "Tenant/gone"]
    assert report["changes"][0]["key"] == "acme/sso"
    assert report["unmanaged"] == ["Tenant/other"]
    assert report["deleted_with_owner"] == {"Tenant/gone": ["FeatureFlag/gone/beta"]}
    assert list(report["ignored"]) == ["Plan/gold"]
    assert list(report["notes"]) == ["Tenant/gone"]
    assert list(report["unsafe"]) == ["Tenant/a/b"]
    assert report["external"][0]["id"] == "Plan/shared"
    assert report["external"][0]["referred_by"] == ["Tenant/acme"]
    assert report["result"]["applied"] == ["FeatureFlag/acme/sso"]
    assert list(report["result"]["failed"]) == ["Tenant/gone"]
    assert list(report["result"]["skipped"]) == ["Tenant/acme"]
    assert report["result"]["not_started"] == ["Plan/gold"]
    assert list(report["result"]["unknown"]) == ["Plan/shared"]
    assert [c["id"] for c in report["remaining"]] == [c["id"] for c in report["changes"]]


def test_the_check_finds_an_id_written_as_a_list() -> None:
    """``ids_as_lists`` is what the two tests above rely on: it sees a bare id."""
    document = json.loads(json.dumps({"unchanged": [ACME], "x": {"y": [FLAG]}}, default=str))
    assert ids_as_lists(document) == [["Tenant", "acme"], ["FeatureFlag", "acme/sso"]]

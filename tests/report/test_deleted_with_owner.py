"""A deleted tenant's flags go with it: no report calls them "unmanaged, left alone"."""

from __future__ import annotations

import json

from reconciler.engine.plan import Plan
from reconciler.engine.planner import Planner
from reconciler.model import Kind, Resource, ResourceId, State
from reconciler.report import json_report, text
from reconciler.report.markdown import build_report
from reconciler.rules import Rules


def res(kind: Kind, key: str, **fields: object) -> Resource:
    return Resource(ResourceId(kind, key), dict(fields), server={"id": key})


def plan_deleting_old() -> Plan:
    live = State(
        [
            res(Kind.TENANT, "old", status="active"),
            res(Kind.FEATURE_FLAG, "old/sso", tenant="old", flag="sso", enabled=True),
            res(Kind.TENANT, "kept", status="active"),
            res(Kind.FEATURE_FLAG, "kept/beta", tenant="kept", flag="beta", enabled=True),
        ]
    )
    desired = State([res(Kind.TENANT, "kept", status="active")])
    return Planner(Rules(prune={Kind.TENANT: "delete"})).plan(desired, live)


def test_the_flags_of_a_deleted_tenant_go_with_it_in_every_format() -> None:
    plan = plan_deleting_old()
    assert plan.unmanaged == [
        ResourceId(Kind.FEATURE_FLAG, "kept/beta"),
        ResourceId(Kind.FEATURE_FLAG, "old/sso"),
    ]
    shown = text.render_plan(plan, "t")
    assert "left alone by the prune policy): FeatureFlag/kept/beta\n" in shown
    assert "Deleted with their owner" in shown and "  Tenant/old: FeatureFlag/old/sso" in shown
    assert shown.endswith("1 unmanaged left alone, 1 deleted with their owner.")
    document = json.loads(json_report.dumps(json_report.plan_dict(plan, {})))
    assert document["unmanaged"] == ["FeatureFlag/kept/beta"]
    assert document["deleted_with_owner"] == {"Tenant/old": ["FeatureFlag/old/sso"]}
    assert document["summary"]["unmanaged"] == 1
    markdown = build_report(title="p", target="t", specs="s", plan=plan).render()
    assert "Deleted with it (not in any spec): FeatureFlag/old/sso." in markdown

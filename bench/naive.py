"""A naive reconcile, for comparison: one request at a time, a GET per object,
a write per difference, as hand-written scripts and per-resource Terraform
providers do. It reaches the same state as reconciler for the bench specs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from bench.server import TOKEN
from reconciler.model import Kind
from reconciler.spec import load_specs

BASE = "/api/v1/operator"


def _list(client: httpx.Client, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = client.get(path, params={"limit": 100, "offset": len(items)}).json()["items"]
        if not page:
            return items
        items += page


def reconcile(url: str, specs: Path) -> float:
    """Wall time of a naive reconcile of ``specs`` against ``url``."""
    desired = load_specs(specs)
    started = time.perf_counter()
    with httpx.Client(base_url=url + BASE, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        subscription_plans = {}
        for p in _list(c, "/plans"):
            subscription_plans[p["name"]] = c.get(f"/plans/{p['id']}").json()
            c.get(f"/plans/{p['id']}/tier-defaults")
        tenants, flags = {}, {}
        for t in _list(c, "/tenants"):
            tenants[t["name"]] = c.get(f"/tenants/{t['id']}").json()
            for f in c.get(f"/tenants/{t['id']}/feature-flags").json()["items"]:
                flags[(t["name"], f["key"])] = f
        users = {u["email"]: c.get(f"/users/{u['id']}").json() for u in _list(c, "/users")}

        for r in desired.of_kind(Kind.SUBSCRIPTION_PLAN):
            if r.id.key not in subscription_plans:
                subscription_plans[r.id.key] = c.post(
                    "/plans", json={"name": r.id.key, **r.fields}
                ).json()
        for r in desired.of_kind(Kind.TIER_DEFAULTS):
            rows = [{"tier": k, "slot_limit": v} for k, v in r.fields["tiers"].items()]
            c.put(
                f"/plans/{subscription_plans[r.id.key]['id']}/tier-defaults",
                json={"tier_defaults": rows},
            )
        for r in sorted(desired.of_kind(Kind.TENANT), key=lambda r: r.fields.get("parent") or ""):
            f = r.fields
            body = {
                "display_name": f.get("display_name"),
                "plan_id": subscription_plans[f["plan"]]["id"],
                "configuration": f.get("configuration", {}),
            }
            if f.get("parent"):
                body["parent_id"] = tenants[f["parent"]]["id"]
            have = tenants.get(r.id.key)
            if have is None:
                tenants[r.id.key] = c.post("/tenants", json={"name": r.id.key, **body}).json()
            elif have.get("display_name") != f.get("display_name"):
                c.patch(f"/tenants/{have['id']}", json={"display_name": f.get("display_name")})
        for r in desired.of_kind(Kind.FEATURE_FLAG):
            tenant, key = r.fields["tenant"], r.fields["flag"]
            have = flags.get((tenant, key))
            tid = tenants[tenant]["id"]
            if have is None:
                c.post(
                    f"/tenants/{tid}/feature-flags",
                    json={"key": key, "enabled": r.fields["enabled"]},
                )
            elif have.get("enabled") != r.fields["enabled"]:
                c.put(f"/tenants/{tid}/feature-flags/{key}", json={"enabled": r.fields["enabled"]})
        for r in desired.of_kind(Kind.OPERATOR):
            if r.id.key not in users:
                f = r.fields
                c.post(
                    "/users",
                    json={
                        "email": r.id.key,
                        "name": f.get("name"),
                        "roles": [f["role"]],
                        "tenant_id": tenants[f["tenant"]]["id"],
                        "enabled": True,
                    },
                )
    return time.perf_counter() - started

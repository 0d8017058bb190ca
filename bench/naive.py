"""A naive reconcile, for comparison: one request at a time, a GET per object,
a write per difference, as hand-written scripts and per-resource Terraform
providers do. It reaches the same state as reconciler for the bench specs.

``reference`` only: it is written against that API. It is a floor candidate
(:mod:`bench.floor`), so it stops once it is slower than the best floor so far.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from bench.server import TOKEN
from reconciler.model import Kind, State
from reconciler.providers.paths import url_path
from reconciler.spec import load_specs

BASE = "/api/v1/operator"


class TooSlow(Exception):
    """The naive run passed its time limit: it cannot be the floor."""


def _list(client: httpx.Client, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = client.get(path, params={"limit": 100, "offset": len(items)}).json()["items"]
        if not page:
            return items
        items += page


def _set(fields: dict[str, Any], *names: str) -> dict[str, Any]:
    """The fields a spec sets: nothing is sent as null that the spec left out."""
    return {n: fields[n] for n in names if fields.get(n) is not None}


def reconcile(url: str, specs: Path, give_up_after: float | None = None) -> float | None:
    """Wall time of a naive reconcile of ``specs`` against the server at ``url``, or None
    once it has taken longer than ``give_up_after`` seconds (stopped there)."""
    desired = load_specs(specs)
    started = time.perf_counter()

    def in_time(request: httpx.Request) -> None:
        if give_up_after is not None and time.perf_counter() - started > give_up_after:
            raise TooSlow

    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=url, headers=headers, event_hooks={"request": [in_time]}) as c:
        try:
            _reconcile(c, desired)
        except TooSlow:
            return None
    return time.perf_counter() - started


def _reconcile(c: httpx.Client, desired: State) -> None:
    def path(template: str, *values: str) -> str:
        return url_path(template, *values, base=BASE)

    subscription_plans = {}
    for p in _list(c, path("/plans")):
        subscription_plans[p["name"]] = c.get(path("/plans/{}", p["id"])).json()
        c.get(path("/plans/{}/tier-defaults", p["id"]))
    tenants, flags = {}, {}
    for t in _list(c, path("/tenants")):
        tenants[t["name"]] = c.get(path("/tenants/{}", t["id"])).json()
        for f in c.get(path("/tenants/{}/feature-flags", t["id"])).json()["items"]:
            flags[(t["name"], f["key"])] = f
    users = {u["email"]: c.get(path("/users/{}", u["id"])).json() for u in _list(c, path("/users"))}

    for r in desired.of_kind(Kind.SUBSCRIPTION_PLAN):
        if r.id.key not in subscription_plans:
            body = {"name": r.id.key, **_set(r.fields, "display_name", "description")}
            subscription_plans[r.id.key] = c.post(path("/plans"), json=body).json()
    for r in desired.of_kind(Kind.TIER_DEFAULTS):
        rows = [{"tier": k, "slot_limit": v} for k, v in r.fields["tiers"].items()]
        plan_id = subscription_plans[r.id.key]["id"]
        c.put(path("/plans/{}/tier-defaults", plan_id), json={"tier_defaults": rows})
    for r in sorted(desired.of_kind(Kind.TENANT), key=lambda r: r.fields.get("parent") or ""):
        f = r.fields
        body = _set(f, "display_name", "configuration")
        body["plan_id"] = subscription_plans[f["plan"]]["id"]
        if f.get("parent"):
            body["parent_id"] = tenants[f["parent"]]["id"]
        have = tenants.get(r.id.key)
        if have is None:
            tenants[r.id.key] = c.post(path("/tenants"), json={"name": r.id.key, **body}).json()
        elif have.get("display_name") != f.get("display_name"):
            patch = _set(f, "display_name")
            c.patch(path("/tenants/{}", have["id"]), json=patch)
    for r in desired.of_kind(Kind.FEATURE_FLAG):
        tenant, key, enabled = r.fields["tenant"], r.fields["flag"], r.fields["enabled"]
        have = flags.get((tenant, key))
        tid = tenants[tenant]["id"]
        if have is None:
            c.post(path("/tenants/{}/feature-flags", tid), json={"key": key, "enabled": enabled})
        elif have.get("enabled") != enabled:
            c.put(path("/tenants/{}/feature-flags/{}", tid, key), json={"enabled": enabled})
    for r in desired.of_kind(Kind.OPERATOR):
        if r.id.key not in users:
            f = r.fields
            body = {"email": r.id.key, **_set(f, "name"), "roles": [f["role"]], "enabled": True}
            if f.get("tenant"):
                body["tenant_id"] = tenants[f["tenant"]]["id"]
            c.post(path("/users"), json=body)

"""``GET /feature-flags``: every tenant's flags in pages, each naming its tenant."""

from __future__ import annotations

import httpx


def test_all_flags_are_listed_in_pages_with_their_tenant(client: httpx.Client) -> None:
    ids = []
    for name in ("a", "b", "c"):
        tenant = client.post("/tenants", json={"name": name}).json()
        ids.append(tenant["id"])
        for key in ("sso", "beta"):
            assert (
                client.post(
                    f"/tenants/{tenant['id']}/feature-flags", json={"key": key, "enabled": True}
                ).status_code
                == 201
            )
    first = client.get("/feature-flags", params={"limit": 4}).json()
    second = client.get("/feature-flags", params={"limit": 4, "offset": 4}).json()
    assert first["total"] == 6 and len(first["items"]) == 4 and len(second["items"]) == 2
    pairs = {(f["tenant_id"], f["key"]) for f in first["items"] + second["items"]}
    assert pairs == {(t, k) for t in ids for k in ("sso", "beta")}

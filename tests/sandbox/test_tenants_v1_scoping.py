"""tenants-v1 sandbox: an object under one tenant's path is never another tenant's.

A path names the tenant first; a role, a flag or an assignment found by its own
id must still belong to that tenant, or the call is a 404 and nothing changes
(else a client sending the wrong tenant's path would look right in the sandbox).
"""

from __future__ import annotations

from typing import Any

from tests.conftest import InProcessFactory

BASE = "/v1/tenants"
USER = "3f8a2c64-8f0e-4c0e-9b7a-1d2e3f4a5b6c"


def test_an_assignment_is_revoked_only_under_its_own_tenant(in_process: InProcessFactory) -> None:
    box = in_process("tenants-v1")
    with box.client(BASE) as api:
        one, other = (api.post(box.url + BASE, json={"name": n}).json()["id"] for n in "ab")
        role = api.post(f"/{one}/roles", json={"name": "viewer"}).json()
        grant = api.post(f"/{one}/role-assignments", json={"role_id": role["id"], "user_id": USER})
        assert grant.status_code == 201, grant.text
        gid = grant.json()["id"]

        elsewhere = api.post(f"/{other}/role-assignments/{gid}/revoke")
        assert elsewhere.status_code == 404, elsewhere.text
        assert api.delete(f"/{other}/roles/{role['id']}").status_code == 404

        def grants() -> list[dict[str, Any]]:
            return list(api.get(f"/{one}/role-assignments").json()["data"])

        assert [g["status"] for g in grants()] == ["active"]
        assert api.post(f"/{one}/role-assignments/{gid}/revoke").status_code == 200
        assert [g["status"] for g in grants()] == ["revoked"]

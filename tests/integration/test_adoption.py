"""Objects that already exist under the names the specs use are adopted, never duplicated."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import yaml

from tests.conftest import SANDBOX_TOKEN, FreshSandbox
from tests.integration.helpers import REPO, run_cli, tls

AUTH = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}


def apply_example(box: Any, dialect: str) -> None:
    example = REPO / "examples" / dialect
    result = run_cli(
        ["apply", str(example), "--api", dialect, "--url", box.url, "--auto-approve"],
        SANDBOX_TOKEN,
    )
    assert result.exit_code == 0, result.output
    again = run_cli(
        ["plan", str(example), "--api", dialect, "--url", box.url, "--detailed-exitcode"],
        SANDBOX_TOKEN,
    )
    assert again.exit_code == 0, again.output


def test_operator_v1_adopts_a_hand_made_plan_and_tenant(fresh_sandbox: FreshSandbox) -> None:
    box = fresh_sandbox("operator-v1")
    base = box.url + "/api/v1/operator"
    for path, name in (("/plans", "fleet"), ("/tenants", "contoso-farms")):
        made = httpx.post(base + path, json={"name": name}, headers=AUTH, verify=tls())
        assert made.status_code == 201
    apply_example(box, "operator-v1")
    for path in ("/plans", "/tenants"):
        names = Counter(
            i["name"] for i in httpx.get(base + path, headers=AUTH, verify=tls()).json()["items"]
        )
        assert max(names.values()) == 1, names


def test_tenants_v1_adopts_a_hand_made_tenant(fresh_sandbox: FreshSandbox) -> None:
    box = fresh_sandbox("tenants-v1")
    base = box.url + "/v1/tenants"
    assert httpx.post(base, json={"name": "globex"}, headers=AUTH, verify=tls()).status_code == 201
    apply_example(box, "tenants-v1")
    names = Counter(
        t["name"]
        for t in httpx.get(base, params={"limit": 100}, headers=AUTH, verify=tls()).json()["data"]
    )
    assert names["globex"] == 1 and len(names) == 3


def test_platform_admin_adopts_a_seeded_tenant(fresh_sandbox: FreshSandbox) -> None:
    data = yaml.safe_load(
        (REPO / "examples" / "platform-admin" / ".sandbox" / "data.yaml").read_text()
    )
    box = fresh_sandbox("platform-admin", seed=data)  # holds "Acme Corp" already
    apply_example(box, "platform-admin")
    body = httpx.get(box.url + "/api/v1/platform/admin/tenants", headers=AUTH, verify=tls()).json()
    names = Counter(t["company_name"] for t in body["data"]["tenants"])
    assert names == {"Acme Corp": 1, "Demo Account": 1}

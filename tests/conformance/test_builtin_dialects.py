"""Every built-in dialect passes the conformance kit (``reconciler.testing``).

One subclass per dialect, each with its example specs (``reference``: the
repository's ``specs/``) and, where its sandbox takes one, a seed that caps pages
at the kit's page cap. The reference and tenants-v1 sandboxes take no such seed:
the kit caps their pages through the sandbox's fault wrapper instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from reconciler.testing import DialectConformance

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
SMALL_PAGES = {"quirks": {"max_page": 2}}


def sandbox_data(dialect: str) -> Any:
    """The example's ``.sandbox/data.yaml``: what its API cannot create itself."""
    return yaml.safe_load((EXAMPLES / dialect / ".sandbox" / "data.yaml").read_text())


class TestReference(DialectConformance):
    dialect = "reference"
    specs = REPO / "specs"


class TestOperatorV1(DialectConformance):
    dialect = "operator-v1"
    specs = EXAMPLES / "operator-v1"
    small_pages_seed = SMALL_PAGES


class TestIaasV1(DialectConformance):
    dialect = "iaas-v1"
    specs = EXAMPLES / "iaas-v1"
    small_pages_seed = SMALL_PAGES


class TestAdminOperators(DialectConformance):
    dialect = "admin-operators"
    specs = EXAMPLES / "admin-operators"
    seed = sandbox_data("admin-operators")
    small_pages_seed = SMALL_PAGES


class TestPlatformAdmin(DialectConformance):
    dialect = "platform-admin"
    specs = EXAMPLES / "platform-admin"
    seed = sandbox_data("platform-admin")
    page_cap = 1  # two tenants and two users: a page of one makes both listings page
    small_pages_seed = {"quirks": {"max_page": 1}}


class TestTenantsV1(DialectConformance):
    dialect = "tenants-v1"
    specs = EXAMPLES / "tenants-v1"
    writes_per_update = 2  # the API has no flag update: a delete, then a create


class TestTenantsV1WithOptions(DialectConformance):
    """tenants-v1 configured for a server that wraps configuration writes, answers it bare."""

    dialect = "tenants-v1"
    specs = EXAMPLES / "tenants-v1"
    writes_per_update = 2
    options = {"configurationRequestWrapper": "settings", "configurationResponseWrapper": None}

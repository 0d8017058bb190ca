"""A plain HTTP client on a running reference sandbox's API."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from reconciler.sandbox.server import EmbeddedSandbox

BASE = "/api/v1/operator"


def api_client(sandbox: EmbeddedSandbox, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token or sandbox.token}"}
    return httpx.Client(base_url=sandbox.url + BASE, headers=headers, timeout=10.0)


@pytest.fixture
def client(sandbox: EmbeddedSandbox) -> Iterator[httpx.Client]:
    with api_client(sandbox) as c:
        yield c

"""A plain HTTP client on a reference sandbox's API: in this process, made fresh per test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from reconciler.sandbox.server import EmbeddedSandbox
from tests.conftest import InProcessFactory

BASE = "/api/v1/operator"


def api_client(sandbox: EmbeddedSandbox, token: str | None = None) -> httpx.Client:
    """A client on a running (real) sandbox's API."""
    headers = {"Authorization": f"Bearer {token or sandbox.token}"}
    return httpx.Client(base_url=sandbox.url + BASE, headers=headers, timeout=10.0)


@pytest.fixture
def client(in_process: InProcessFactory) -> Iterator[httpx.Client]:
    """A client on an empty reference sandbox's API (the app in this process)."""
    with in_process("reference").client(BASE) as c:
        yield c

"""``sandbox`` here: a running reference sandbox, new for each test, on a server the
module's tests share (no start and stop per test; see ``fresh_sandbox``)."""

from __future__ import annotations

import pytest

from tests.conftest import FreshSandbox, SharedSandbox


@pytest.fixture
def sandbox(fresh_sandbox: FreshSandbox) -> SharedSandbox:
    return fresh_sandbox("reference")

"""Malformed answers give a clear error naming the call, and nothing is written after them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reconciler.sandbox.faults import CORRUPTIONS, FaultConfig
from tests.conftest import SANDBOX_TOKEN, SandboxFactory, request_log
from tests.integration.helpers import copy_specs, run_cli, target_args

EXPECTED = {
    "html": "response is not JSON",
    "truncated": "response is not JSON",
    "wrong-types": "answered in a shape it does not document",
    "repeat-page": "returned item",
    "skip-page": "pages skip items",
}


@pytest.mark.parametrize("corrupt", CORRUPTIONS)
def test_a_bad_read_stops_the_run_before_any_write(
    sandbox_factory: SandboxFactory, tmp_path: Path, corrupt: str
) -> None:
    specs = copy_specs(tmp_path)
    clean = sandbox_factory(db_path=tmp_path / "state.sqlite")
    args = ["apply", str(specs), *target_args(clean), "--auto-approve"]
    assert run_cli(args, SANDBOX_TOKEN).exit_code == 0
    clean.stop()
    # Listings must span pages for paging bugs to show: the server serves 2 per page.
    (specs / "tenants" / "acme.yaml").write_text(
        (specs / "tenants" / "acme.yaml").read_text().replace("Acme Corporation", "Acme 2")
    )
    bad = sandbox_factory(
        db_path=tmp_path / "state.sqlite", faults=FaultConfig(corrupt=corrupt, max_page=2)
    )
    before = len(request_log(bad.db_path))
    result = run_cli(["apply", str(specs), *target_args(bad), "--auto-approve"], SANDBOX_TOKEN)
    assert result.exit_code == 1, result.output
    assert EXPECTED[corrupt] in result.stderr, result.stderr
    assert "GET /api/v1/operator/" in result.stderr
    assert "Traceback" not in result.output
    new = request_log(bad.db_path)[before:]
    assert new and all(method == "GET" for method, _, _ in new), "no write after a bad read"


def test_smaller_pages_than_asked_for_still_converge(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    box = sandbox_factory(faults=FaultConfig(max_page=2))
    specs = copy_specs(tmp_path)
    assert (
        run_cli(["apply", str(specs), *target_args(box), "--auto-approve"], SANDBOX_TOKEN).exit_code
        == 0
    )
    plan = run_cli(["plan", str(specs), *target_args(box), "--detailed-exitcode"], SANDBOX_TOKEN)
    assert plan.exit_code == 0, plan.output
    listings = [
        p for m, p, _ in request_log(box.db_path) if m == "GET" and p == "/api/v1/operator/tenants"
    ]
    assert len(listings) >= 2 * 3, "5 tenants at 2 a page: 3 pages for each full listing"


NAMED = ("/plans", "/tenants", "/users")
"""Reference listings whose items carry a ``name``: what ``wrong-types`` spoils."""


def test_the_error_names_the_call_whose_answer_was_bad(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    """Reads run in parallel; the error names the bad answer's call, not the last one sent.

    ``wrong-types`` turns every ``name`` into a number: plans, tenants and users
    are spoilt, feature flags and tier defaults (no ``name`` in them) are not.
    The call named must be one whose answer holds a number for a name.
    """
    specs = copy_specs(tmp_path)
    clean = sandbox_factory(db_path=tmp_path / "state.sqlite")
    applied = run_cli(["apply", str(specs), *target_args(clean), "--auto-approve"], SANDBOX_TOKEN)
    assert applied.exit_code == 0, applied.output
    clean.stop()
    bad = sandbox_factory(
        db_path=tmp_path / "state.sqlite", faults=FaultConfig(corrupt="wrong-types")
    )
    result = run_cli(["plan", str(specs), *target_args(bad)], SANDBOX_TOKEN)
    assert result.exit_code == 1, result.output
    message = " ".join(result.stderr.split())
    match = re.search(r"GET (/api/v1/operator\S*) returned 200", message)
    assert match, message
    assert match.group(1).removeprefix("/api/v1/operator") in NAMED, message
    assert "answered in a shape it does not document" in message
    assert "is 12345, not a name" in message
    assert "bug" not in message


def test_a_provider_bug_is_reported_as_one(
    sandbox_factory: SandboxFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A KeyError in a provider's own code on well-formed answers: a bug to report."""
    from reconciler.providers.reference import ReferenceProvider

    async def slip(self: ReferenceProvider, scope: object) -> list[object]:
        return [plan["no-such-field"] for plan in await self._subscription_plans(scope)]  # type: ignore[arg-type]

    box = sandbox_factory()
    specs = copy_specs(tmp_path)
    applied = run_cli(["apply", str(specs), *target_args(box), "--auto-approve"], SANDBOX_TOKEN)
    assert applied.exit_code == 0, applied.output
    monkeypatch.setattr(ReferenceProvider, "_read_subscription_plans", slip)
    result = run_cli(["plan", str(specs), *target_args(box)], SANDBOX_TOKEN)
    assert result.exit_code == 1, result.output
    message = " ".join(result.stderr.split())
    assert "the reference provider failed while reading the live state" in message
    assert "KeyError: 'no-such-field'" in message
    assert "bug in reconciler" in message and "please report it" in message
    assert "shape it does not document" not in message
    assert "Traceback" not in result.output

"""A target's ``retries:``: how many tries and how long between them, per API.

Against a real sandbox that fails the first attempt of every tenant update with a
503 (the work not done): one try in all fails the apply naming the call and the
status; two tries land it. The waits themselves are the client's
(tests/providers/test_http.py); here, that the numbers in ``reconciler.yaml`` reach it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import targets
from reconciler.errors import SpecError
from reconciler.sandbox.faults import FaultConfig, FirstAttempt
from reconciler.spec import load_config
from tests.conftest import SANDBOX_TOKEN, SandboxFactory, request_log
from tests.integration.helpers import run_cli

TENANT = "apiVersion: reconciler.dev/v1\nkind: Tenant\nname: acme\ndisplayName: {name}\n"
UPDATE = ("PATCH", r"/api/v1/operator/tenants/[^/]+")


def write(root: Path, url: str, retries: str, name: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "acme.yaml").write_text(TENANT.format(name=name))
    (root / "reconciler.yaml").write_text(
        "apiVersion: reconciler.dev/v1\ntargets:\n  remote:\n"
        f"    api: reference\n    url: {url}\n{retries}"
    )
    return root


def apply(root: Path) -> tuple[int, str]:
    result = run_cli(["apply", str(root), "--auto-approve"], SANDBOX_TOKEN)
    return result.exit_code, result.output


@pytest.mark.parametrize(("attempts", "lands"), [(1, False), (2, True)])
def test_the_attempts_of_a_target_bound_the_tries_of_each_call(
    sandbox_factory: SandboxFactory, tmp_path: Path, attempts: int, lands: bool
) -> None:
    calm = sandbox_factory("reference")
    url = calm.url
    retries = f"    retries: {{attempts: {attempts}, backoff: 0.01}}\n"
    code, output = apply(write(tmp_path / "specs", url, retries, "Acme"))
    assert code == 0, output
    calm.stop()

    faults = FaultConfig(first=(FirstAttempt(*UPDATE),))
    box = sandbox_factory("reference", db_path=calm.db_path, faults=faults)
    url = box.url
    since = len(request_log(box.db_path))
    code, output = apply(write(tmp_path / "specs", url, retries, "Acme Corp"))
    patches = [s for m, p, s in request_log(box.db_path)[since:] if m == "PATCH"]
    if lands:
        assert code == 0, output
        assert patches == [503, 200]
    else:
        assert code == 1, output
        assert patches == [503]
        assert "\n  Tenant/acme: PATCH /api/v1/operator/tenants/" in output, output
        assert "returned 503: injected: service unavailable" in output, output
        assert "Tenant/acme: Tenant/acme" not in output.split("Failed:")[1], output


def test_a_saved_plan_is_applied_with_its_target_s_retries(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    """The workflow applies the plan file reviewed on the pull request: the tries it
    makes are still the target's, not the defaults (which would land this update)."""
    calm = sandbox_factory("reference")
    retries = "    retries: {attempts: 1}\n"
    code, output = apply(write(tmp_path / "specs", calm.url, retries, "Acme"))
    assert code == 0, output
    calm.stop()

    box = sandbox_factory(
        "reference", db_path=calm.db_path, faults=FaultConfig(first=(FirstAttempt(*UPDATE),))
    )
    specs = write(tmp_path / "specs", box.url, retries, "Acme Corp")
    out = tmp_path / "plan.json"
    made = run_cli(["plan", str(specs), "--out", str(out)], SANDBOX_TOKEN)
    assert made.exit_code == 0, made.output
    since = len(request_log(box.db_path))
    applied = run_cli(["apply", str(out), "--auto-approve"], SANDBOX_TOKEN)
    assert applied.exit_code == 1, applied.output
    assert [s for m, _, s in request_log(box.db_path)[since:] if m == "PATCH"] == [503]
    assert "returned 503: injected: service unavailable" in applied.output, applied.output


def test_unset_fields_keep_the_defaults(tmp_path: Path) -> None:
    (tmp_path / "reconciler.yaml").write_text(
        "apiVersion: reconciler.dev/v1\ntargets:\n  t:\n    api: reference\n"
        "    url: https://api.example.com\n    retries: {attempts: 6, maxBackoff: 2.5}\n"
        "  u:\n    api: reference\n    url: https://api.example.com\n"
    )
    config = load_config(tmp_path)
    default = targets.DEFAULT_RETRIES
    assert config.targets["t"].retries == targets.RetryPolicy(
        attempts=6, backoff=default.backoff, max_backoff=2.5, budget=default.budget
    )
    assert config.targets["u"].retries == default


@pytest.mark.parametrize(
    ("retries", "expected"),
    [
        ("{attempts: 0}", "reconciler.yaml:5:25: 'targets.t.retries.attempts' must be >= 1"),
        ("{backoff: -1}", "'targets.t.retries.backoff' must be >= 0"),
        ("{budget: .inf}", "'targets.t.retries.budget'"),
        ("{tries: 3}", "'targets.t.retries.tries'"),
    ],
)
def test_bad_retries_are_named_with_their_line(tmp_path: Path, retries: str, expected: str) -> None:
    (tmp_path / "reconciler.yaml").write_text(
        "apiVersion: reconciler.dev/v1\ntargets:\n  t:\n    api: reference\n"
        f"    retries: {retries}\n"
    )
    with pytest.raises(SpecError) as caught:
        load_config(tmp_path)
    assert expected in str(caught.value), str(caught.value)

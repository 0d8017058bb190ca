"""TLS verified by default, private CAs, --insecure only when asked, no plain http off-host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trustme

from reconciler.sandbox.server import EmbeddedSandbox
from tests.conftest import SANDBOX_TOKEN
from tests.integration.helpers import copy_specs, run_cli, writes


def plan(specs: Path, url: str, *extra: str) -> Any:
    return run_cli(["plan", str(specs), "--api", "reference", "--url", url, *extra], SANDBOX_TOKEN)


def test_an_unknown_ca_is_refused_by_default(tls_sandbox: EmbeddedSandbox, tmp_path: Path) -> None:
    result = plan(copy_specs(tmp_path), tls_sandbox.url)
    assert result.exit_code == 1
    assert "CERTIFICATE_VERIFY_FAILED" in result.stderr or "certificate" in result.stderr.lower()
    assert "Traceback" not in result.output


def test_a_private_ca_is_trusted_with_ca_bundle(
    tls_sandbox: EmbeddedSandbox, ca: trustme.CA, tmp_path: Path
) -> None:
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    specs = copy_specs(tmp_path)
    result = plan(specs, tls_sandbox.url, "--ca-bundle", str(bundle), "--detailed-exitcode")
    assert result.exit_code == 2, result.output
    applied = run_cli(
        [
            "apply",
            str(specs),
            "--api",
            "reference",
            "--url",
            tls_sandbox.url,
            "--ca-bundle",
            str(bundle),
            "--auto-approve",
        ],
        SANDBOX_TOKEN,
    )
    assert applied.exit_code == 0, applied.output
    assert writes(tls_sandbox.db_path)


def test_insecure_works_only_when_asked_and_warns(
    tls_sandbox: EmbeddedSandbox, tmp_path: Path
) -> None:
    result = plan(copy_specs(tmp_path), tls_sandbox.url, "--insecure")
    assert result.exit_code == 0, result.output
    assert "TLS certificate verification is OFF" in result.stderr


def test_plain_http_off_this_machine_is_refused_before_any_call(tmp_path: Path) -> None:
    result = plan(copy_specs(tmp_path), "http://platform.example.com")
    assert result.exit_code == 1
    assert "refusing plain http:// to platform.example.com" in result.stderr

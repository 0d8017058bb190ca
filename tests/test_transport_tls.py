"""What the HTTP client verifies certificates with, per target and per URL."""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

import httpx
import pytest
import trustme

from reconciler.sandbox.server import EmbeddedSandbox
from reconciler.targets import Target
from reconciler.transport import tls_verify


def target(**settings: object) -> Target:
    return Target(name="t", dialect="reference", url="https://api.example.com", **settings)  # type: ignore[arg-type]


def test_https_verifies_with_the_system_store_or_the_bundle(tmp_path: Path) -> None:
    assert tls_verify(target(), "https://api.example.com") is True
    assert tls_verify(target()) is True  # no URL known: the safe default
    bundle = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(bundle))
    made = tls_verify(target(ca_bundle=str(bundle)), "https://api.example.com")
    assert isinstance(made, ssl.SSLContext) and made.cert_store_stats()["x509_ca"] == 1


def test_plain_http_loads_no_store_and_trusts_nothing() -> None:
    made = tls_verify(target(), "http://127.0.0.1:8080")
    assert isinstance(made, ssl.SSLContext)
    assert made.verify_mode is ssl.CERT_REQUIRED and made.check_hostname
    assert made.cert_store_stats()["x509_ca"] == 0


def test_insecure_is_still_off_and_warned_for_plain_http(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="reconciler"):
        assert tls_verify(target(insecure=True), "http://127.0.0.1:8080") is False
    assert "TLS certificate verification is OFF" in caplog.text


def test_the_plain_http_context_fails_closed_on_a_tls_server(
    tls_sandbox: EmbeddedSandbox, ca: trustme.CA
) -> None:
    box = tls_sandbox
    made = tls_verify(target(), "http://127.0.0.1:8080")
    assert isinstance(made, ssl.SSLContext)
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(box.url + "/healthz", verify=made)
    trusting = ssl.create_default_context()  # the same server is fine once its CA is trusted
    ca.configure_trust(trusting)
    assert httpx.get(box.url + "/healthz", verify=trusting).status_code == 200

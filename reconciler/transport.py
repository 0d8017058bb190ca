"""How a run may reach its target: plain HTTP only on this machine, TLS as configured.

Checked before any call (:func:`check_transport`), so a token never crosses
the network unencrypted by accident; :func:`tls_verify` turns a target's TLS
settings into what the HTTP client takes, warning on every run that turns
verification off.
"""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

import httpx

from reconciler.errors import ConfigError
from reconciler.targets import Target, TargetChoice

log = logging.getLogger("reconciler")

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def check_transport(target: Target) -> None:
    """Refuse plain HTTP off this machine unless allowed; TLS settings must be coherent."""
    if target.url is None:
        return
    parsed = httpx.URL(target.url)
    host = parsed.host.strip("[]")
    local = host in LOOPBACK or host.startswith("127.")
    if parsed.scheme == "http" and not local and not target.allow_plain_http:
        raise ConfigError(
            f"refusing plain http:// to {host}: the token would cross the network "
            "unencrypted; use https://, or --allow-http if you really mean it"
        )
    if target.insecure and target.ca_bundle:
        raise ConfigError("give either --ca-bundle or --insecure, not both")
    if target.ca_bundle and not Path(target.ca_bundle).is_file():
        raise ConfigError(f"--ca-bundle {target.ca_bundle}: no such file")


def use_transport(target: Target, choice: TargetChoice, *, keep: bool) -> None:
    """This run's TLS choices on ``target``, then checked.

    ``keep``: what ``reconciler.yaml`` configured stays where the run chose nothing.
    """
    target.ca_bundle = choice.ca_bundle or (target.ca_bundle if keep else None)
    target.insecure = choice.insecure or (target.insecure and keep)
    target.allow_plain_http = choice.allow_http or (target.allow_plain_http and keep)
    check_transport(target)


def tls_verify(target: Target, url: str | None = None) -> bool | ssl.SSLContext:
    """What the client verifies the server's certificate with (``False``: nothing, warned).

    ``url``: where the session sends its calls (the target's, or the embedded
    sandbox's). Plain ``http://`` (allowed on this machine only) has no certificate
    to check, so the system's CA store is not loaded for it (34 ms a run): the client
    gets a context that trusts no certificate, so a TLS connection it should never
    make fails closed.
    """
    if target.insecure:
        log.warning(
            "TLS certificate verification is OFF for %s (--insecure): anyone on the "
            "path can read the token and change what is applied",
            target.name,
        )
        return False
    if url is not None and httpx.URL(url).scheme == "http":
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, and trusts nothing
    if target.ca_bundle:
        return ssl.create_default_context(cafile=target.ca_bundle)
    return True

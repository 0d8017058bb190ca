"""``reconciler sandbox serve``: a busy port is one clear error; its URL works (issue 14)."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import trustme

from tests.integration.helpers import run_cli


def test_a_busy_port_is_one_clear_error_before_serving_is_announced(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(
            ["sandbox", "serve", "--port", str(port), "--db", str(tmp_path / "s.sqlite")], "tok"
        )
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "choose another --port" in result.stderr
    assert "Serving" not in result.output and "Traceback" not in result.output


def test_with_tls_it_announces_an_https_url_that_answers(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    args = ["--tls-cert", str(tmp_path / "server.pem"), "--tls-key", str(tmp_path / "server.pem")]
    command = [sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", "0", *args]
    command += ["--db", str(tmp_path / "s.sqlite")]
    env = {**os.environ, "RECONCILER_TOKEN": "tok"}
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env) as server:
        try:
            assert server.stderr is not None
            line = server.stderr.readline()
            assert line.startswith("Serving the reference API on https://127.0.0.1:"), line
            url = line.split(" on ", 1)[1].split(" ", 1)[0]
            trust = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
            answer = httpx.get(url + "/healthz", verify=trust)
            assert answer.status_code == 200
        finally:
            server.terminate()
            server.wait(timeout=10)

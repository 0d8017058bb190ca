"""Adaptive concurrency against a real server (issue 15): found, refused, bounded, pinned.

The reference sandbox answers after a delay (``FaultConfig(latency_ms=...)``, as a
remote API does), behind :class:`Counting`, an ASGI middleware that counts the
requests being served at once: what the server sees, not what the client believes.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from reconciler.errors import SpecError
from reconciler.sandbox.app import create_app
from reconciler.sandbox.faults import FaultConfig
from reconciler.sandbox.server import BackgroundServer
from reconciler.session import limiter_for
from reconciler.spec.config import load_config
from reconciler.targets import TargetChoice, resolve_target
from tests.conftest import SANDBOX_TOKEN, request_log
from tests.integration.helpers import run_cli, tls

TENANTS = 40
FLAGS = 2


class Counting:
    """Counts the API requests in flight at the server; above ``refuse_above`` it answers
    429 with ``Retry-After: 0`` at once instead (a server with a concurrency cap)."""

    def __init__(self, app: ASGIApp, refuse_above: int | None = None) -> None:
        self.app = app
        self.refuse_above = refuse_above
        self.now = 0
        self.peak = 0
        self.refused = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/healthz":
            await self.app(scope, receive, send)
            return
        self.now += 1  # one event loop serves them all: no lock needed
        try:
            if self.refuse_above is not None and self.now > self.refuse_above:
                self.refused += 1
                body = json.dumps({"message": "too many requests at once"}).encode()
                headers = [(b"content-type", b"application/json"), (b"retry-after", b"0")]
                await send({"type": "http.response.start", "status": 429, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            self.peak = max(self.peak, self.now)
            await self.app(scope, receive, send)
        finally:
            self.now -= 1


class Server:
    """A reference sandbox 20 ms away, counted."""

    def __init__(self, db_path: Path, refuse_above: int | None = None) -> None:
        self.db_path = db_path
        app = create_app(
            "reference", db_path=db_path, token=SANDBOX_TOKEN, faults=FaultConfig(latency_ms=20)
        )
        self.counting = Counting(app, refuse_above)
        self.server = BackgroundServer(self.counting, name="counted", what="the counted sandbox")
        self.url = f"http://127.0.0.1:{self.server.start()}"


@pytest.fixture
def serve(tmp_path: Path) -> Any:
    started: list[Server] = []

    def start(refuse_above: int | None = None) -> Server:
        started.append(Server(tmp_path / f"box-{len(started)}.sqlite", refuse_above))
        return started[-1]

    yield start
    for box in started:
        box.server.stop()


def specs(tmp_path: Path, config: str | None = None, tenants: int = TENANTS) -> Path:
    """One plan and :data:`TENANTS` tenants with :data:`FLAGS` flags each: independent
    changes enough for any concurrency to show."""
    root = tmp_path / "specs"
    root.mkdir()
    head = "apiVersion: reconciler.dev/v1\n"
    documents = [f"{head}kind: Plan\nname: pro\ndisplayName: Pro\ntierDefaults: {{basic: 10}}\n"]
    flags = ", ".join(f"f{f}: true" for f in range(FLAGS))
    documents += [
        f"{head}kind: Tenant\nname: t{t:03d}\nplan: pro\nstatus: active\nfeatures: {{{flags}}}\n"
        for t in range(tenants)
    ]
    (root / "all.yaml").write_text("---\n".join(documents))
    if config is not None:
        (root / "reconciler.yaml").write_text(f"apiVersion: reconciler.dev/v1\n{config}")
    return root


def changes(tenants: int = TENANTS) -> int:
    return 1 + 1 + tenants * (1 + FLAGS)  # a plan, its tier defaults, tenants and their flags


def apply(root: Path, box: Server, *extra: str, tenants: int = TENANTS) -> str:
    result = run_cli(
        ["apply", str(root), "--api", "reference", "--url", box.url, "--auto-approve", *extra],
        SANDBOX_TOKEN,
    )
    assert result.exit_code == 0, result.output
    applied = f"Apply: {changes(tenants)} applied, 0 failed, 0 skipped."
    assert applied in result.output, result.output
    return result.output


def assert_converged_once(root: Path, box: Server) -> None:
    """A plan finds nothing to do, each object exists once, each create was served once."""
    again = run_cli(
        ["plan", str(root), "--api", "reference", "--url", box.url, "--detailed-exitcode"],
        SANDBOX_TOKEN,
    )
    assert again.exit_code == 0, again.output
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    with httpx.Client(
        base_url=box.url + "/api/v1/operator", headers=headers, verify=tls()
    ) as client:
        listed = client.get("/tenants", params={"limit": 500}).json()["items"]
    names = Counter(t["name"] for t in listed)
    assert len(names) == TENANTS and set(names.values()) == {1}
    creates = Counter(
        status
        for method, path, status in request_log(box.db_path)
        if (method, path) == ("POST", "/api/v1/operator/tenants")
    )
    assert creates == {201: TENANTS}, creates  # never sent twice, never adopted


def test_against_a_remote_api_the_concurrency_grows_by_itself(serve: Any, tmp_path: Path) -> None:
    box = serve()
    apply(specs(tmp_path), box)
    assert 4 < box.counting.peak <= 32  # above the old fixed default, within the ceiling
    assert_converged_once(tmp_path / "specs", box)


def test_a_target_s_max_parallelism_bounds_what_is_found(serve: Any, tmp_path: Path) -> None:
    box = serve()
    config = f"targets:\n  remote:\n    api: reference\n    url: {box.url}\n    maxParallelism: 6\n"
    root = specs(tmp_path, config)
    result = run_cli(["apply", str(root), "--target", "remote", "--auto-approve"], SANDBOX_TOKEN)
    assert result.exit_code == 0, result.output
    assert 4 < box.counting.peak <= 6


def test_refused_with_429_it_backs_off_and_converges_without_duplicates(
    serve: Any, tmp_path: Path
) -> None:
    box = serve(refuse_above=6)  # a server that serves 6 at once and refuses the rest
    apply(specs(tmp_path), box)  # a client that stays above 6 fails here (4 refusals, out)
    # it grew into the cap by itself, was refused, and backed off: a few refusals, not
    # one per request above the cap, round after round
    assert 0 < box.counting.refused < changes() // 3, box.counting.refused
    assert_converged_once(tmp_path / "specs", box)


def test_a_pinned_parallelism_is_never_exceeded(serve: Any, tmp_path: Path) -> None:
    box = serve()
    # a pin is kept from the first call on: 10 tenants' 32 changes show it (at 2 at once,
    # 20 ms away, each change more is 10 ms of waiting)
    apply(specs(tmp_path, tenants=10), box, "--parallelism", "2", tenants=10)
    assert box.counting.peak == 2  # reads and writes alike, from the first listing on


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            "    maxParallelism: 0\n",
            "reconciler.yaml:5:21: 'targets.t.maxParallelism' must be >= 1, not the number 0",
        ),
        (
            "    maxRequestsPerSecond: 0\n",
            "reconciler.yaml:5:27: 'targets.t.maxRequestsPerSecond' must be a positive number "
            "of requests per second, not 0",
        ),
        (
            "    maxRequestsPerSecond: fast\n",
            "'targets.t.maxRequestsPerSecond' must be a number, not the string 'fast'",
        ),
        (
            "    parallelism: 4\n    maxParallelism: 16\n",
            "reconciler.yaml:6:21: 'targets.t.maxParallelism' bounds the concurrency found while "
            "running and 'targets.t.parallelism' (line 5) pins it: give one of them",
        ),
    ],
)
def test_the_target_keys_are_checked_with_their_line(
    tmp_path: Path, lines: str, expected: str
) -> None:
    (tmp_path / "reconciler.yaml").write_text(
        "apiVersion: reconciler.dev/v1\ntargets:\n  t:\n    api: reference\n" + lines
    )
    with pytest.raises(SpecError) as caught:
        load_config(tmp_path)
    assert expected in str(caught.value)


def test_the_target_keys_reach_the_session_s_limiter(tmp_path: Path) -> None:
    config = "    maxParallelism: 12\n    maxRequestsPerSecond: 2.5\n"
    (tmp_path / "reconciler.yaml").write_text(
        "apiVersion: reconciler.dev/v1\ntargets:\n  t:\n    api: reference\n" + config
    )
    target = load_config(tmp_path).targets["t"]
    found = limiter_for(target)
    assert (found.adaptive, found.ceiling, found.rate) == (True, 12, 2.5)
    pinned = limiter_for(resolve_target(load_config(tmp_path), TargetChoice(parallelism=3)))
    assert (pinned.adaptive, pinned.limit, pinned.rate) == (False, 3, 2.5)

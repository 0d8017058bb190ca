"""Interruption that loses nothing (issue 14).

Ctrl-C or SIGTERM during ``apply``: no new change starts, those in flight
finish, a summary says what was applied, failed, not started and unknown, and
the exit status is the shell's (130, 143); a second signal stops at once. The
journal is write-ahead: an intent line before every write, its outcome after,
so a run cut short still names every call it sent, and the next run says which
outcomes it never learned. A verifying read that fails keeps the summary.

The signals go to a real ``python -m reconciler`` process against a real
sandbox server; the tests wait on its output or on the server, never on a clock.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reconciler import core, journal
from reconciler.engine.executor import execute
from reconciler.engine.plan import Plan
from reconciler.engine.planner import Planner
from reconciler.interrupt import StopRequest
from reconciler.journal import Journal, unfinished
from reconciler.model import Change, Kind, Resource, ResourceId, State
from reconciler.providers.base import ApplyContext, Capabilities, KindSupport, Provider
from reconciler.providers.http import ApiClient
from reconciler.sandbox.app import create_app
from reconciler.sandbox.faults import FaultConfig
from reconciler.sandbox.server import BackgroundServer
from reconciler.targets import TargetChoice
from tests.conftest import SANDBOX_TOKEN, SandboxFactory, request_log
from tests.integration.helpers import copy_specs, run_cli, tls

PROCESS_BOUND = 60.0
"""No process of these tests may run longer: a hang fails the test instead of stalling it."""
SUMMARY = re.compile(
    r"Stopped \((?P<reason>\w+)\): (?P<applied>\d+) applied, (?P<failed>\d+) failed, "
    r"(?P<not_started>\d+) not started, (?P<unknown>\d+) unknown \(in flight when stopped\)"
)


# ---- a real reconciler process ----------------------------------------------------------


class Cli:
    """``python -m reconciler`` in a subprocess, its stdout and stderr read line by line."""

    def __init__(self, args: list[str]) -> None:
        env = {**os.environ, "RECONCILER_TOKEN": SANDBOX_TOKEN, "NO_COLOR": "1"}
        env["PYTHONFAULTHANDLER"] = "1"  # a stuck run shows its stacks (``finish``)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "reconciler", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        self._watchdog = threading.Timer(PROCESS_BOUND, self.proc.kill)
        self._watchdog.start()

    def read_until(self, pattern: str) -> str:
        """Read output (blocking on the pipe) until a line matches; that line."""
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            if re.search(pattern, line):
                return line
        raise AssertionError(f"never printed {pattern!r}:\n{self.output}")

    def wait_for(self, event: threading.Event, what: str) -> None:
        """Block until ``event`` is set (by the server the process talks to).

        A process that ends first (it died at start, or the watchdog killed it) fails
        the test at once with its output: waiting on the event alone would fail only
        after :data:`PROCESS_BOUND`, and without a word of why.
        """
        assert self.proc.stdout is not None
        while not event.wait(0.1):  # only how often to look whether the process ended
            if self.proc.poll() is not None:
                self.lines += self.proc.stdout.readlines()
                raise AssertionError(
                    f"{what}: the process ended first ({self.proc.returncode}):\n{self.output}"
                )

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def finish(self, within: float = PROCESS_BOUND) -> int:
        """The exit status, once the process has ended (at most ``within`` seconds)."""
        assert self.proc.stdout is not None
        try:
            status = self.proc.wait(timeout=within)
        except subprocess.TimeoutExpired:
            # where it was stuck: SIGABRT makes faulthandler print every thread's stack
            self.proc.send_signal(signal.SIGABRT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.lines += self.proc.stdout.readlines()
            raise AssertionError(f"still running after {within} s:\n{self.output}") from None
        self.lines += self.proc.stdout.readlines()
        return status

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def close(self) -> None:
        self._watchdog.cancel()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture
def cli() -> Iterator[Callable[[list[str]], Cli]]:
    started: list[Cli] = []

    def start(args: list[str]) -> Cli:
        started.append(Cli(args))
        return started[-1]

    yield start
    for process in started:
        process.close()


# ---- a sandbox whose answers can be held --------------------------------------------------


class HoldAnswers:
    """ASGI middleware: the answer to a matching request is held, its work done and
    logged, until the client goes away; ``held`` is set when the first one is held."""

    def __init__(self, app: ASGIApp, match: Callable[[str, str], bool]) -> None:
        self.app = app
        self.match = match
        self.holding = True
        self.held = threading.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.holding:
            await self.app(scope, receive, send)
            return
        if not self.match(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        gone = False

        async def hold(message: Message) -> None:
            nonlocal gone
            if gone:
                return
            if message["type"] == "http.response.start":
                self.held.set()
                while (await receive())["type"] != "http.disconnect":
                    pass
                gone = True
                return
            await send(message)

        await self.app(scope, receive, hold)


class HeldSandbox:
    """A reference sandbox on a real server, behind :class:`HoldAnswers`."""

    def __init__(self, db_path: Path, match: Callable[[str, str], bool]) -> None:
        self.dialect = "reference"
        self.db_path = db_path
        self.gate = HoldAnswers(
            create_app("reference", db_path=db_path, token=SANDBOX_TOKEN), match
        )
        self.server = BackgroundServer(self.gate, name="held-sandbox", what="the held sandbox")
        self.url = f"http://127.0.0.1:{self.server.start()}"


@pytest.fixture
def held_sandbox(tmp_path: Path) -> Iterator[Callable[[Callable[[str, str], bool]], HeldSandbox]]:
    made: list[HeldSandbox] = []

    def make(match: Callable[[str, str], bool]) -> HeldSandbox:
        made.append(HeldSandbox(tmp_path / f"held-{len(made)}.sqlite", match))
        return made[-1]

    yield make
    for box in made:
        box.gate.holding = False
        box.server.stop()


# ---- what the tests read -----------------------------------------------------------------


def target(box: Any) -> list[str]:
    return ["--api", "reference", "--url", box.url]


def summary(output: str) -> dict[str, Any]:
    found = SUMMARY.search(output)
    assert found, f"no stop summary in:\n{output}"
    return {k: v if k == "reason" else int(v) for k, v in found.groupdict().items()}


def planned_total(output: str) -> int:
    found = re.search(r"Plan: (\d+) to create, (\d+) to update", output)
    assert found, output
    return int(found.group(1)) + int(found.group(2))


def calls(lines: list[dict[str, Any]], kind: str) -> Counter[tuple[str, str]]:
    return Counter((e["method"], e["path"]) for e in lines if e["type"] == kind)


def served_writes(db_path: Path) -> Counter[tuple[str, str]]:
    return Counter((m, p) for m, p, s in request_log(db_path) if m != "GET" and s < 500)


def assert_converged_without_duplicates(specs: Path, url: str) -> None:
    plan = run_cli(
        ["plan", str(specs), "--api", "reference", "--url", url, "--detailed-exitcode"],
        SANDBOX_TOKEN,
    )
    assert plan.exit_code == 0, plan.output
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    with httpx.Client(base_url=url + "/api/v1/operator", headers=headers, verify=tls()) as client:
        for path in ("/tenants", "/plans", "/users"):
            items: list[dict[str, Any]] = client.get(path, params={"limit": 500}).json()["items"]
            names = Counter(i.get("name") or i.get("email") for i in items)
            assert all(n == 1 for n in names.values()), f"duplicates in {path}: {names}"


# ---- signals through the CLI ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"]
)
def test_a_signal_during_apply_finishes_what_is_in_flight_and_starts_nothing_new(
    sandbox_factory: SandboxFactory,
    cli: Callable[[list[str]], Cli],
    tmp_path: Path,
    signum: int,
    status: int,
) -> None:
    box = sandbox_factory(faults=FaultConfig(latency_ms=200))
    specs = copy_specs(tmp_path)
    run = cli(["apply", str(specs), *target(box), "--auto-approve"])
    run.read_until(r"^\[1/\d+\] ")  # a change is done: writes have started
    run.signal(signum)
    assert run.finish() == status, run.output
    output = run.output
    assert "Traceback" not in output
    stopped = summary(output)
    assert stopped["reason"] == signal.Signals(signum).name
    assert stopped["applied"] >= 1 and stopped["not_started"] >= 1, output
    assert stopped["unknown"] == 0  # 200 ms calls finish well within the grace period
    assert sum(v for k, v in stopped.items() if k != "reason") == planned_total(output)
    assert "Not verified. Run apply again" in output

    # write-ahead: every write the server saw has its intent and its outcome, in pairs
    lines = journal.read(tmp_path / "journal.jsonl")
    assert served_writes(box.db_path) == calls(lines, "intent") == calls(lines, "outcome")
    assert {(e["run"], e["call"]) for e in lines if e["type"] == "intent"} == {
        (e["run"], e["call"]) for e in lines if e["type"] == "outcome"
    }
    not_started = re.search(r"^Not started: (.*)$", output, re.M)
    assert not_started, output
    sent_for = {e["change"] for e in lines}
    assert not sent_for & set(not_started.group(1).split(", ")), "a change started after the stop"

    box.stop()
    calm = sandbox_factory(db_path=box.db_path)  # the same state, answering at once
    again = run_cli(["apply", str(specs), *target(calm), "--auto-approve"], SANDBOX_TOKEN)
    assert again.exit_code == 0, again.output
    assert "unknown outcome" not in again.output  # nothing was left without an answer
    assert_converged_without_duplicates(specs, calm.url)


def test_a_second_signal_stops_at_once_and_the_next_run_re_reads_the_unanswered(
    held_sandbox: Callable[[Callable[[str, str], bool]], HeldSandbox],
    cli: Callable[[list[str]], Cli],
    tmp_path: Path,
) -> None:
    # tenant creates are done and logged by the server, but their answers never come
    box = held_sandbox(lambda method, path: method == "POST" and path.endswith("/tenants"))
    specs = copy_specs(tmp_path)
    run = cli(["apply", str(specs), *target(box), "--auto-approve"])
    run.wait_for(box.gate.held, "no tenant was ever created")
    run.signal(signal.SIGINT)
    run.read_until(r"^Stopping \(SIGINT\): no new change starts")
    run.signal(signal.SIGINT)
    # at once: well before the 10 s the changes in flight would otherwise get
    assert run.finish(within=5.0) == 130, run.output
    output = run.output
    assert "Stopping at once" in output and "Traceback" not in output
    stopped = summary(output)
    assert stopped["unknown"] >= 1, output
    assert re.search(r"^  Tenant/\S+: in flight when the apply stopped", output, re.M), output

    # the intents are there; the outcomes of the cut-off calls are not
    path = tmp_path / "journal.jsonl"
    lines = journal.read(path)
    served = served_writes(box.db_path)
    intents = calls(lines, "intent")
    # write-ahead: nothing reached the server without its intent; a create cut off while its
    # connection was still opening has an intent the server never saw (re-read all the same)
    assert served <= intents, (served, intents)
    unanswered = intents - calls(lines, "outcome")
    assert intents - served <= unanswered
    assert unanswered and all(call == ("POST", "/api/v1/operator/tenants") for call in unanswered)

    box.gate.holding = False
    plan = run_cli(["plan", str(specs), *target(box)], SANDBOX_TOKEN)
    warnings = [ln for ln in plan.output.splitlines() if "unknown outcome, re-read" in ln]
    assert len(warnings) == sum(unanswered.values()), plan.output
    assert all("(create): POST /api/v1/operator/tenants" in w for w in warnings), warnings
    assert plan.exit_code == 0, plan.output
    again = run_cli(["apply", str(specs), *target(box), "--auto-approve"], SANDBOX_TOKEN)
    assert again.exit_code == 0, again.output
    assert again.output.count("unknown outcome, re-read") == len(warnings)
    assert_converged_without_duplicates(specs, box.url)  # the landed creates were adopted
    later = run_cli(["plan", str(specs), *target(box)], SANDBOX_TOKEN)
    assert "unknown outcome" not in later.output  # the re-run's own calls all have outcomes


def test_a_signal_before_any_write_changes_nothing(
    held_sandbox: Callable[[Callable[[str, str], bool]], HeldSandbox],
    cli: Callable[[list[str]], Cli],
    tmp_path: Path,
) -> None:
    box = held_sandbox(lambda method, path: method == "GET")  # the live state never arrives
    specs = copy_specs(tmp_path)
    run = cli(["apply", str(specs), *target(box), "--auto-approve"])
    run.wait_for(box.gate.held, "the live state was never read")
    run.signal(signal.SIGTERM)
    assert run.finish(within=10.0) == 143, run.output
    assert "Interrupted (SIGTERM) before any change was made; nothing was changed." in run.output
    assert "Traceback" not in run.output
    assert served_writes(box.db_path) == Counter()
    assert not (tmp_path / "journal.jsonl").exists()


# ---- a failed verifying read ---------------------------------------------------------------


class ReadsFailAfterWrites:
    """ASGI middleware: once a write has been answered, every read is refused (403)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.wrote = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and self.wrote:
            body = json.dumps({"message": "reads are down for maintenance"}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        if scope["type"] == "http" and scope["method"] != "GET":
            self.wrote = True
        await self.app(scope, receive, send)


def test_a_failed_verifying_read_keeps_the_summary(tmp_path: Path) -> None:
    app = ReadsFailAfterWrites(
        create_app("reference", db_path=tmp_path / "box.sqlite", token=SANDBOX_TOKEN)
    )
    server = BackgroundServer(app, name="flaky-reads", what="the flaky sandbox")
    url = f"http://127.0.0.1:{server.start()}"
    try:
        specs = copy_specs(tmp_path)
        apply = ["apply", str(specs), "--api", "reference", "--url", url, "--auto-approve"]
        result = run_cli(apply, SANDBOX_TOKEN)
    finally:
        server.stop()
    assert result.exit_code == 1, result.output
    total = planned_total(result.output)
    assert f"Apply: {total} applied, 0 failed, 0 skipped." in result.output
    assert "error: the re-read to verify the apply failed:" in result.stderr
    assert "reads are down for maintenance" in result.stderr
    assert "Verified" not in result.output


# ---- the library: a stop request without signals ---------------------------------------------

T = Kind.TENANT


class GatedProvider(Provider):
    """In memory: each change waits for ``gate``; ``hang`` ones wait an hour."""

    capabilities = Capabilities(
        dialect="fake",
        title="gated test provider",
        supports={k: KindSupport(frozenset(), frozenset()) for k in Kind},
    )

    def __init__(self, in_flight: int, hang: frozenset[str] = frozenset()) -> None:
        self.in_flight, self.hang = in_flight, hang
        self.gate = asyncio.Event()
        self.all_started = asyncio.Event()
        self.started: list[str] = []
        self.finished: list[str] = []

    async def read(self, kinds: Any) -> State:
        return State()

    async def apply(self, change: Change, ctx: ApplyContext) -> Resource | None:
        self.started.append(str(change.id))
        if len(self.started) == self.in_flight:
            self.all_started.set()
        if str(change.id) in self.hang:
            await asyncio.sleep(3600)
        await self.gate.wait()
        self.finished.append(str(change.id))
        return None


def tenants(count: int) -> Plan:
    wanted = State([Resource(ResourceId(T, f"t{i:02}"), {}) for i in range(count)])
    return Planner().plan(wanted, State())


def test_a_library_stop_request_starts_nothing_new_and_lets_in_flight_changes_finish() -> None:
    async def go() -> tuple[Any, GatedProvider, list[bool]]:
        provider, stop = GatedProvider(in_flight=2), StopRequest()
        heard: list[bool] = []
        noticed = asyncio.Event()

        def listener(request: StopRequest) -> None:
            heard.append(request.at_once)
            noticed.set()

        stop.listen(listener)
        applying = asyncio.create_task(
            execute(tenants(10), provider, ApplyContext(), parallelism=2, stop=stop)
        )
        await provider.all_started.wait()
        threading.Thread(target=stop.request, args=("deploy cancelled",)).start()  # any thread
        await noticed.wait()
        provider.gate.set()  # what was in flight may finish now
        return await applying, provider, heard

    result, provider, heard = asyncio.run(go())
    assert heard == [False]
    assert result.stopped == "deploy cancelled"
    assert provider.started == provider.finished == [str(r) for r in result.applied]
    assert len(result.applied) == 2 and len(result.not_started) == 8 and not result.unknown
    assert not result.ok


@pytest.mark.parametrize("again", [False, True])
def test_in_flight_changes_are_cut_after_the_grace_period_or_a_second_request(
    again: bool,
) -> None:
    async def go() -> Any:
        provider = GatedProvider(in_flight=4, hang=frozenset({"Tenant/t01"}))
        provider.gate.set()
        stop = StopRequest(grace=3600 if again else 0.2)
        applying = asyncio.create_task(
            execute(tenants(4), provider, ApplyContext(), parallelism=4, stop=stop)
        )
        await provider.all_started.wait()
        stop.request("first")
        if again:
            stop.request("second")
        return await asyncio.wait_for(applying, timeout=5)  # the hour is never waited for

    result = asyncio.run(go())
    assert list(result.unknown) == [ResourceId(T, "t01")]
    why = "a second stop request" if again else "the grace period"
    assert why in result.unknown[ResourceId(T, "t01")]
    assert len(result.applied) == 3 and result.stopped == "first"


def test_the_library_stops_an_apply_on_request_and_journals_what_it_cut(
    held_sandbox: Callable[[Callable[[str, str], bool]], HeldSandbox],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RECONCILER_TOKEN", SANDBOX_TOKEN)
    box = held_sandbox(lambda method, path: method == "POST" and path.endswith("/tenants"))
    stop = StopRequest(grace=0.2)

    def cancel_the_deploy() -> None:  # another thread of the caller's program
        if box.gate.held.wait(PROCESS_BOUND):
            stop.request("deploy cancelled")

    threading.Thread(target=cancel_the_deploy, daemon=True).start()
    choice = TargetChoice(dialect="reference", url=box.url)
    run = core.apply(copy_specs(tmp_path), choice, stop=stop)
    assert run.result is not None and run.result.stopped == "deploy cancelled"
    assert run.result.unknown and all(r.kind is T for r in run.result.unknown)
    assert run.result.not_started and run.remaining is None and not run.ok

    # cut after the grace period: each cut call has its outcome, "unknown", with the reason
    lines = journal.read(tmp_path / "journal.jsonl")
    assert calls(lines, "intent") == calls(lines, "outcome") == served_writes(box.db_path)
    cut = [e for e in lines if e["type"] == "outcome" and e["status"] is None]
    assert cut and all(e["outcome"] == "unknown" and "cancelled" in e["error"] for e in cut)
    assert {e["change"] for e in cut} == {str(r) for r in run.result.unknown}
    assert unfinished(tmp_path / "journal.jsonl", "command line", "reference") == []


# ---- the journal ---------------------------------------------------------------------------


def test_the_intent_is_on_disk_before_the_request_leaves(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    book = Journal(path=path, target="prod", dialect="reference")
    seen_on_disk: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen_on_disk.append([e["type"] for e in journal.read(path)])
        return httpx.Response(503 if len(seen_on_disk) == 1 else 201)

    async def go() -> None:
        async with ApiClient(
            "http://api.test", "tok", transport=httpx.MockTransport(handler), backoff_base=0
        ) as client:
            client.on_write = book.intent
            await client.send("PUT", "/things/a")  # 503, then 201 on the retry

    asyncio.run(go())
    assert seen_on_disk == [["intent"], ["intent", "outcome", "intent"]]
    lines = journal.read(path)
    assert [(e["type"], e["call"], e["status"], e["outcome"]) for e in lines] == [
        ("intent", 1, None, None),
        ("outcome", 1, 503, "unknown"),
        ("intent", 2, None, None),
        ("outcome", 2, 201, "ok"),
    ]
    assert unfinished(path, "prod", "reference") == []


def test_only_the_last_runs_intents_without_outcomes_are_unfinished(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    old = Journal(path=path, target="prod", dialect="reference")
    old.intent("POST", "/old")  # an older run's loose end: reported by the run after it only
    other = Journal(path=path, target="staging", dialect="reference")
    other.intent("POST", "/elsewhere")
    last = Journal(path=path, target="prod", dialect="reference")
    last.intent("POST", "/tenants")(201, None)
    last.intent("POST", "/tenants/t-1/suspend")
    last.intent("DELETE", "/users/u-9")
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"torn": \n')  # a line no JSON reader can take is skipped
    found = [(e["method"], e["path"]) for e in journal._backwards(path, block=64)]
    assert len(found) == 6  # read backwards across many small blocks, every line whole
    assert len(list(journal._backwards(path, block=64, limit=400))) < 6  # no further back
    assert [(e["method"], e["path"]) for e in unfinished(path, "prod", "reference")] == [
        ("POST", "/tenants/t-1/suspend"),
        ("DELETE", "/users/u-9"),
    ]
    assert [e["path"] for e in unfinished(path, "staging", "reference")] == ["/elsewhere"]
    assert unfinished(tmp_path / "none.jsonl", "prod", "reference") == []
    assert last.unanswered("cancelled") == 2
    assert unfinished(path, "prod", "reference") == []


def test_ctrl_c_during_a_plan_exits_130_without_a_traceback(
    held_sandbox: Callable[[Callable[[str, str], bool]], HeldSandbox],
    cli: Callable[[list[str]], Cli],
    tmp_path: Path,
) -> None:
    box = held_sandbox(lambda method, path: method == "GET" and path.endswith("/tenants"))
    run = cli(["plan", str(copy_specs(tmp_path)), *target(box)])
    run.wait_for(box.gate.held, "the plan never read the tenants")
    run.signal(signal.SIGINT)
    assert run.finish() == 130, run.output
    assert "Interrupted (SIGINT)." in run.output and "Traceback" not in run.output

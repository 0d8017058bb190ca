"""While the live state is read: a status line on a terminal, nothing in a log.

The line is tested on a fake terminal (a text stream that says it is a tty)
with a clock the test moves, so nothing sleeps; the count is tested on a real
read of a sandbox over HTTP.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from reconciler import core
from reconciler.reading_progress import ReadingStatus, reading
from reconciler.session import open_session, read_live
from reconciler.targets import TargetChoice
from tests.integration.helpers import api, run_cli, target_args

ERASE = "\r" + " " * len("⠙ Reading live state… 12,000 objects") + "\r"


class FakeTerminal(io.StringIO):
    """What a terminal looks like to the code: a text stream that is a tty."""

    encoding = "utf-8"

    def __init__(self, encoding: str = "utf-8") -> None:
        super().__init__()
        self.encoding = encoding

    def isatty(self) -> bool:
        return True


class Walkers:
    """What ``reading`` wraps on a client: its listing walkers (none is walked here)."""

    def paginate_offset(self) -> None: ...
    def paginate_pages(self) -> None: ...
    def _paginate_onward(self) -> None: ...


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_terminal_sees_the_count_move_then_the_line_erased() -> None:
    out, clock = FakeTerminal(), Clock()
    status = ReadingStatus(out, clock=clock)
    assert status.live
    status(0)
    status(500)  # within the same tenth of a second: not redrawn
    clock.now += 0.25
    status(12_000)
    status.close()
    assert out.getvalue() == (
        "\r⠋ Reading live state…" + "\r⠙ Reading live state… 12,000 objects" + ERASE
    )


def test_a_shorter_line_covers_what_the_longer_one_left() -> None:
    out, clock = FakeTerminal(), Clock()
    status = ReadingStatus(out, clock=clock)
    status(12_000)
    clock.now += 1
    status(0)
    drawn = out.getvalue().split("\r")[-1]
    assert drawn.startswith("⠙ Reading live state…")
    assert len(drawn) == len("⠋ Reading live state… 12,000 objects")


def test_a_terminal_that_cannot_encode_braille_gets_ascii() -> None:
    out, clock = FakeTerminal(encoding="ascii"), Clock()
    status = ReadingStatus(out, clock=clock)
    status(1)
    status.close()
    assert out.getvalue().startswith("\r| Reading live state... 1 object\r")
    out.getvalue().encode("ascii")


def test_a_log_or_a_pipe_gets_nothing() -> None:
    out = io.StringIO()  # not a tty: a CI log, a pipe, a file
    status = ReadingStatus(out)
    assert not status.live
    status(0)
    status(50_000)
    status.close()
    assert out.getvalue() == ""


def test_by_default_the_line_goes_to_stderr_only_when_it_is_a_free_terminal(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    session = SimpleNamespace(client=Walkers())
    with reading(session):
        pass
    assert terminal.getvalue().startswith("\r⠋ Reading live state…")
    assert terminal.getvalue().endswith("\r" + " " * len("⠋ Reading live state…") + "\r")

    caplog.set_level(logging.INFO)  # -v: the log lines are the progress, nothing drawn
    verbose = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", verbose)
    with reading(session):
        pass
    assert verbose.getvalue() == ""


# ---- the count, on a real read over HTTP ------------------------------------------------

TENANTS = 23


@pytest.fixture
def box(fresh_sandbox: Any) -> Any:
    """A reference sandbox holding 23 tenants, listed 5 to a page."""
    sandbox = fresh_sandbox("reference", seed={"quirks": {"max_page": 5}})
    with api(sandbox) as client:
        for i in range(TENANTS):
            made = client.post("/tenants", json={"name": f"t{i:02d}", "display_name": "T"})
            assert made.status_code == 201, made.text
    return sandbox


def read(sandbox: Any, progress: Any = None) -> Any:
    target = core.resolve_for_export(None, TargetChoice(dialect="reference", url=sandbox.url))

    async def run() -> Any:
        async with open_session(target) as session:
            live = await read_live(session, progress)
            return live, vars(session.client)

    return asyncio.run(run())


def test_the_count_is_every_object_listed_one_by_one(
    box: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECONCILER_TOKEN", box.token)
    seen: list[int] = []
    live, client_attributes = read(box, seen.append)
    tenants = [r for r in live if r.id.kind.value == "Tenant"]
    assert len(tenants) == TENANTS
    assert seen == list(range(len(seen)))  # 0 first, then one more per object
    assert seen[-1] == sum(1 for _ in live) >= TENANTS
    assert not {"paginate_offset", "paginate_pages", "_paginate_onward"} & set(client_attributes)


def test_a_terminal_sees_the_read_and_a_log_does_not(
    box: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    monkeypatch.setenv("RECONCILER_TOKEN", box.token)
    caplog.set_level(logging.WARNING)
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    read(box)
    shown = terminal.getvalue()
    assert shown.startswith("\r⠋ Reading live state…") and shown.endswith("\r")
    assert shown.split("\r")[-2].strip() == ""  # erased: the line is gone when the read ends
    monkeypatch.undo()

    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "t.yaml").write_text(
        "apiVersion: reconciler.dev/v1\nkind: Tenant\nname: t00\ndisplayName: T\n",
        encoding="utf-8",
    )
    result = run_cli(["plan", str(specs), *target_args(box)], box.token)
    assert result.exit_code == 0, result.output
    assert "Reading live state" not in result.output
    assert "\r" not in result.output

"""Apply progress: a live bar on a terminal, plain numbered lines in CI logs.

A CI log must read well after the fact (no carriage returns, one line per
finished change, names with their control characters escaped, no line a
runner would take as a command); a person at a terminal wants to see the run
move. Both come from the same executor events.

An apply that is stopped (Ctrl-C, a cancelled CI job) says so as it stops
(:meth:`ApplyProgress.note`) and ends with :func:`render_stopped`: what was
applied, failed, not started, and what is unknown because it was in flight.

rich is imported when a bar starts: an apply in CI never loads it (issue 15).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

from reconciler.engine.results import ApplyResult, ChangeEvent
from reconciler.model import ResourceId
from reconciler.redact import redact
from reconciler.report.escape import inline, workflow_safe
from reconciler.report.text import render_event

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

NOT_STARTED_SHOWN = 20


class ApplyProgress:
    """Receives :class:`ChangeEvent` s; call ``start(total)`` once the plan is known."""

    def __init__(self, stream: TextIO | None = None, live: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.total = 0
        self.done = 0
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def start(self, total: int) -> None:
        self.total = total
        if self.live and total:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            console = Console(file=self.stream, stderr=True)
            self._bar = Progress(
                TextColumn("Applying"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
                console=console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("", total=total)

    def __call__(self, event: ChangeEvent) -> None:
        if event.kind == "started":
            if self._bar is not None and self._task is not None:
                from rich.markup import escape

                # the column reads rich markup: a name like "[/]" must stay text
                self._bar.update(self._task, description=escape(inline(event.change.id)))
            return
        self.done += 1
        # render_event shows names and reasons escaped on one line; redacted and
        # CI-safe here as every line the CLI prints is
        line = workflow_safe(redact(f"[{self.done}/{self.total}] {render_event(event)}"))
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task)
            if event.kind != "succeeded":  # failures and skips stay on screen
                self._bar.console.print(line, markup=False, highlight=False)
        else:
            print(line, file=self.stream, flush=True)

    def note(self, text: str) -> None:
        """A line of its own, above the bar on a terminal (escaped, redacted, CI-safe)."""
        line = workflow_safe(redact(inline(text)))
        if self._bar is not None:
            self._bar.console.print(line, markup=False, highlight=False)
        else:
            print(line, file=self.stream, flush=True)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> ApplyProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def stopping_notice(reason: str | None, at_once: bool, grace: float) -> str:
    """What is said the moment a stop request reaches the apply."""
    if at_once:
        return (
            f"Stopping at once ({reason}): changes in flight are cancelled; their outcome is "
            "unknown and the journal holds their calls."
        )
    return (
        f"Stopping ({reason}): no new change starts; changes in flight get up to {grace:g} s "
        "to finish. Interrupt again to stop at once."
    )


def render_stopped(result: ApplyResult) -> str:
    """A stopped apply's summary: applied / failed / not started / unknown, then each
    failure, each unknown (in flight when stopped) and what was not started."""
    counts = (
        f"{len(result.applied)} applied, {len(result.failed)} failed, "
        f"{len(result.not_started)} not started, {len(result.unknown)} unknown "
        "(in flight when stopped)"
    )
    if result.skipped:
        counts += f", {len(result.skipped)} skipped"
    lines = [f"Stopped ({inline(result.stopped or 'stop requested')}): {counts}."]
    lines += _listing("Failed:", sorted(result.failed.items()))
    lines += _listing("Unknown outcome (the next plan re-reads them):", result.unknown.items())
    lines += _listing("Skipped:", sorted(result.skipped.items()))
    if result.not_started:
        shown = ", ".join(inline(rid) for rid in result.not_started[:NOT_STARTED_SHOWN])
        more = len(result.not_started) - NOT_STARTED_SHOWN
        lines.append(f"Not started: {shown}" + (f" and {more} more" if more > 0 else ""))
    lines.append("Not verified. Run apply again to finish: it re-reads the live state first.")
    return "\n".join(lines)


def _listing(title: str, items: Iterable[tuple[ResourceId, str]]) -> list[str]:
    rows = [f"  {inline(rid)}: {inline(why)}" for rid, why in items]
    return [title, *rows] if rows else []

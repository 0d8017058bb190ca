"""Stopping an apply without losing anything: a stop request, and the signals that make one.

An apply asked to stop starts no new change, gives the changes in flight
:data:`GRACE_SECONDS` to finish, then cancels what is left (their outcome is
unknown; the journal holds their intents). A second request stops at once.

:class:`StopRequest` is the library's side: a caller makes one, passes it to
:func:`reconciler.core.apply` and calls :meth:`StopRequest.request` from any
thread, no signals involved. :func:`signals_stop` is the command line's:
SIGINT and SIGTERM become requests once the apply has begun; before that
nothing was changed, and a signal ends the run at once (:class:`Interrupted`).
The exit status is the shell's for a signal: 128 + its number (130, 143).

A leaf: the executor and the CLI import it, it imports nothing of reconciler's.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")

GRACE_SECONDS = 10.0
"""How long changes in flight may take to finish once a stop is requested."""
SIGNALS = (signal.SIGINT, signal.SIGTERM)


def exit_status(signum: int) -> int:
    """The exit status of a run ended by signal ``signum``, as a shell reports it."""
    return 128 + signum


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class StopRequest:
    """Asks a running apply to stop: first gracefully, a second time at once.

    :meth:`request` is safe from any thread and from a signal handler: it only
    records the request and wakes the apply's event loop. Listeners
    (:meth:`listen`) run on that loop as requests reach it. One per apply: a
    request is never taken back.
    """

    def __init__(self, grace: float = GRACE_SECONDS) -> None:
        self.grace = grace
        """Seconds the changes in flight get to finish after the first request."""
        self.reasons: list[str] = []
        """One entry per request, oldest first."""
        self.applying = False
        """An apply has begun listening (and may have sent writes); stays true after it."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._woken: asyncio.Event | None = None
        self._listeners: list[Callable[[StopRequest], None]] = []
        self._heard = 0  # requests the listeners were told of

    @property
    def requested(self) -> bool:
        return bool(self.reasons)

    @property
    def at_once(self) -> bool:
        """A second request came: nothing more is waited for."""
        return len(self.reasons) > 1

    @property
    def reason(self) -> str | None:
        """The first request's reason (``SIGINT``, ``stop requested``...)."""
        return self.reasons[0] if self.reasons else None

    def request(self, reason: str = "stop requested") -> None:
        """Ask the apply to stop; asked again, to stop at once."""
        self.reasons.append(reason)
        loop = self._loop
        if loop is not None:
            with suppress(RuntimeError):  # the loop has closed: the apply is over
                loop.call_soon_threadsafe(self._wake)

    def listen(self, callback: Callable[[StopRequest], None]) -> None:
        """Call ``callback`` on the apply's event loop when requests have come (once for
        two that came together: it can tell by :attr:`at_once`)."""
        self._listeners.append(callback)

    @contextmanager
    def attached(self) -> Iterator[StopRequest]:
        """For the apply itself, on its event loop: requests wake it while the block runs."""
        self._loop = asyncio.get_running_loop()
        self._woken = asyncio.Event()
        self.applying = True
        if len(self.reasons) > self._heard:  # asked while nothing listened
            self._loop.call_soon(self._wake)
        try:
            yield self
        finally:
            self._loop = self._woken = None

    def _wake(self) -> None:
        if self._woken is not None:
            self._woken.set()
        if len(self.reasons) > self._heard:
            self._heard = len(self.reasons)
            for listener in self._listeners:
                listener(self)

    async def beyond(self, seen: int) -> None:
        """Return once more than ``seen`` requests have come (inside :meth:`attached`)."""
        woken = self._woken
        if woken is None:
            raise RuntimeError("StopRequest.beyond() outside attached()")
        while len(self.reasons) <= seen:
            woken.clear()
            await woken.wait()

    async def unless_stopped(self, work: Coroutine[Any, Any, T]) -> T | None:
        """``work``'s result, or None when a stop is requested first (``work`` is then
        cancelled). Inside :meth:`attached`."""
        if self.requested:
            work.close()
            return None
        task = asyncio.ensure_future(work)
        stopped = asyncio.ensure_future(self.beyond(0))
        try:
            await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        return None if task.cancelled() else task.result()


class Interrupted(KeyboardInterrupt):
    """A signal came before the apply began: nothing was changed, the run ends at once.

    A :class:`KeyboardInterrupt`, so it unwinds the event loop and every ``finally``
    on its way out as Ctrl-C always has.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal_name(signum))
        self.signum = signum


@dataclass
class Caught:
    """The signals :func:`signals_stop` received, in order."""

    signals: list[int] = field(default_factory=list)

    @property
    def exit_status(self) -> int | None:
        """128 + the first signal's number (130 for SIGINT, 143 for SIGTERM), if any came."""
        return exit_status(self.signals[0]) if self.signals else None


@contextmanager
def signals_stop(stop: StopRequest) -> Iterator[Caught]:
    """While the block runs, SIGINT and SIGTERM ask ``stop`` to stop the apply.

    Before the apply has begun (``stop.applying`` false: reading, or at the
    prompt) a signal raises :class:`Interrupted` instead: nothing was changed.
    Only the main thread can handle signals; elsewhere this does nothing.
    """
    caught = Caught()
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        caught.signals.append(signum)
        if not stop.applying:
            raise Interrupted(signum)
        stop.request(signal_name(signum))

    previous = {signum: signal.signal(signum, handler) for signum in SIGNALS}
    try:
        yield caught
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)

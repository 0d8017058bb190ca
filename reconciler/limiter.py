"""How many requests a target gets at once: found while running, or fixed.

Nobody knows a remote API's best concurrency in advance (at 50 ms a request, 4
in flight is four times slower than 16; on a local two-core sandbox, 16 only
queue on the server's side), so a session's :class:`Limiter` measures it. Every
request of the session, read or write, takes one of its slots
(:meth:`Limiter.request`, from :class:`~reconciler.providers.http.ApiClient`)
and tells it how long the answer took and what it was; the executor starts no
more changes than :attr:`Limiter.limit`.

The rule is a gradient limiter in the family of Netflix's concurrency-limits
(Gradient2) and TCP Vegas, judged once per window of answers (as many as the
limit, about one round trip's worth):

- How much slower than usual the window answered: the median, over its answers,
  of each one's round trip over its kind's baseline (a kind is the HTTP method:
  a create may be slower than a read without anything queueing). A baseline is
  the low-water mark of its kind's window medians, rising at most :data:`DRIFT`
  a second.
- ``gradient = tolerance / slower``, clamped to [0.5, 1]. At 1 (answers within
  ``tolerance`` of their baselines) the limit grows by its square root, and
  throughput with it (Little's law: the latency holding, more in flight is more
  done). Below 1 requests are queueing, on the server or in the client's own
  connection pool and event loop: ``limit ← limit * gradient + 1``. The limit
  settles where answers come about ``tolerance`` times slower than unloaded; on
  latency alone it never drops below 2.
- An answer that says "too much" (429, 503, an error answer with Retry-After, or
  no answer at all) halves the limit at once. The answers to requests sent before
  that cut, refusals or not, tell of the old limit and are not counted (as TCP
  cuts once per round trip). A Retry-After on an error answer also holds back
  every new request of the session for that long (at most ``max_pause``).
- It starts at 4, so that the first round trips measure the server unloaded, and
  doubles each window until the first sign of congestion (TCP's slow start).
- A window in which fewer than half the slots were used says nothing about the
  server (the run had nothing more to send): the limit stays.

Why a gradient and not plain AIMD: AIMD grows until the server refuses, so
against a server that slows down instead of refusing (most, and httpx's own
pool beyond ~48 connections) it only stops at the ceiling; the gradient backs
off on the latency it sees, and still halves on an explicit refusal as AIMD does.

Whatever it finds, the limit stays between 1 and ``ceiling`` (a target's
``maxParallelism``), and with ``rate`` (``maxRequestsPerSecond``) requests leave
at most that often: a token bucket holding one token, so no short window gets a
burst above the rate either. :meth:`Limiter.fixed` pins the limit
(``--parallelism N``): nothing is learnt, the rate and Retry-After still hold.
"""

from __future__ import annotations

import asyncio
import logging
import math
import statistics
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

log = logging.getLogger(__name__)

Clock = Callable[[], float]
"""Seconds, monotonic."""
Sleep = Callable[[float], Awaitable[None]]
Answered = Callable[[int | None, float | None], None]
"""Told an attempt's status (None: no answer came) and its Retry-After in seconds."""

DEFAULT_CEILING = 32
"""Below httpx's connection-pool knee (48 to 64 in flight, measured: past it the pool
itself becomes the queue)."""
INITIAL = 4
"""Where an adaptive limit starts: low, so that the first round trips measure the
server unloaded (its baseline), and no lower than :data:`MIN_WINDOW`, so that the
first window is judged after one round trip (from 2 it took two: at 50 ms a
2,000-tenant plan's read took 0.35 s instead of 0.27); slow start doubles it from
there (TCP's initial window is 10 segments, RFC 6928)."""
OVERLOAD = frozenset({429, 503})
"""Answers that mean "fewer, please" whatever their headers."""
MIN_WINDOW = 4
"""Answers judged together at the least (a median of fewer is noise)."""
BACKOFF = 0.5
"""The factor a refusal cuts the limit by."""
DRIFT = 0.002
"""How fast the baseline may rise, per second: slowly enough that a queue of our own
making is not taken for the server's pace (a drift per window, as Gradient2's long
average has, let the limit creep up to the ceiling on a local sandbox), fast enough
that a server that became slower for good is not read as congested for ever."""


@dataclass(frozen=True)
class Ticket:
    """One request in flight: when it left, in which window, and its kind."""

    sent: float
    window: int
    kind: str = ""


class Limiter:
    """The concurrency (and optional rate) of one session's requests; see the module."""

    def __init__(
        self,
        *,
        ceiling: int = DEFAULT_CEILING,
        initial: int = INITIAL,
        rate: float | None = None,
        adaptive: bool = True,
        tolerance: float = 1.5,
        max_pause: float = 10.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if ceiling < 1 or initial < 1:
            raise ValueError(f"a limit is at least 1 (ceiling {ceiling}, initial {initial})")
        if rate is not None and not (rate > 0 and math.isfinite(rate)):
            raise ValueError(f"a rate is a positive number of requests per second, not {rate}")
        self.ceiling = ceiling
        self.adaptive = adaptive
        self.rate = rate
        self.tolerance = tolerance
        self.max_pause = max_pause
        self.clock = clock
        self._sleep = sleep
        self._limit = float(min(initial, ceiling) if adaptive else ceiling)
        self.in_flight = 0
        """Slots taken: requests waiting for their turn (rate, Retry-After) or sent."""
        self.peak = 0
        """The most slots taken at once so far."""
        self.cuts = 0
        """Refusals acted on (one per window): each halved an adaptive limit."""
        self.baselines: dict[str, float] = {}
        """Per kind of request, its round trip on an unloaded server as far as seen (s)."""
        self._window = 0
        self._starting = adaptive
        """Slow start: doubling each window until the first sign of congestion."""
        self._judged = clock()
        self._cut_at = 0
        """The window the last cut opened: what was sent before it says nothing now."""
        self._samples: list[tuple[str, float]] = []
        self._window_peak = 0
        self._paused_until = -math.inf
        self._next_send = -math.inf
        self._waiters: deque[asyncio.Future[None]] = deque()

    @classmethod
    def fixed(
        cls,
        limit: int,
        *,
        rate: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> Limiter:
        """A limiter pinned at ``limit`` (``--parallelism``): it learns nothing."""
        return cls(
            ceiling=limit, initial=limit, rate=rate, adaptive=False, clock=clock, sleep=sleep
        )

    @property
    def limit(self) -> int:
        """How many requests (and changes) may be in flight now."""
        return max(1, min(self.ceiling, int(self._limit)))

    # ---- slots ---------------------------------------------------------------------------

    def begin(self, kind: str = "") -> Ticket | None:
        """Take a free slot now and send at once (no pacing): None when all are taken.

        The synchronous door, for callers with their own clock (tests); a request
        goes through :meth:`request`.
        """
        if self.in_flight >= self.limit or self._waiters:
            return None
        self._take()
        return Ticket(self.clock(), self._window, kind)

    @asynccontextmanager
    async def request(self, kind: str = "") -> AsyncIterator[Answered]:
        """A slot for one request of ``kind`` (its method), its turn under the rate and
        any Retry-After, and what to tell of its answer. Leaving the block frees the
        slot; an exception without an answer counts as no answer, a cancellation as
        nothing."""
        await self._slot()
        try:
            await self._turn()
        except BaseException:
            self.abandon()
            raise
        ticket = Ticket(self.clock(), self._window, kind)
        told: list[tuple[int | None, float | None]] = []
        try:
            yield lambda status, retry_after: told.append((status, retry_after))
        except Exception:
            if not told:
                told.append((None, None))
            raise
        finally:
            if told:
                self.finish(ticket, *told[0])
            else:
                self.abandon()

    def finish(self, ticket: Ticket, status: int | None, retry_after: float | None = None) -> None:
        """Free ``ticket``'s slot and learn from its answer (``status`` None: none came)."""
        self._free()
        now = self.clock()
        if status is None or status in OVERLOAD or (retry_after is not None and status >= 400):
            if retry_after is not None:
                self._pause(now, retry_after)
            self._cut(ticket)
        elif ticket.window >= self._cut_at:
            self._learn(ticket.kind, now - ticket.sent)
        self._wake()

    def abandon(self) -> None:
        """Free a slot whose request was cancelled: nothing to learn from it."""
        self._free()
        self._wake()

    def _take(self) -> None:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        self._window_peak = max(self._window_peak, self.in_flight)

    def _free(self) -> None:
        self.in_flight -= 1

    async def _slot(self) -> None:
        """Wait, in arrival order, for a slot; it is handed over taken."""
        if self.in_flight < self.limit and not self._waiters:
            self._take()
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.abandon()  # handed a slot just as it was cancelled: give it back
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            raise

    def _wake(self) -> None:
        while self._waiters and self.in_flight < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._take()
                waiter.set_result(None)

    # ---- pacing ----------------------------------------------------------------------------

    def reserve(self) -> float:
        """Seconds until the next request may leave under the rate; its turn is taken."""
        now = self.clock()
        if self.rate is None:
            return 0.0
        at = max(now, self._next_send)
        self._next_send = at + 1 / self.rate
        return at - now

    def paused_for(self) -> float:
        """Seconds left of the last Retry-After pause (0 when none)."""
        return max(0.0, self._paused_until - self.clock())

    async def _turn(self) -> None:
        while (wait := self.paused_for()) > 0:
            await self._sleep(wait)
        wait = self.reserve()
        if wait > 0:
            await self._sleep(wait)

    def _pause(self, now: float, retry_after: float) -> None:
        """Hold back new requests as the server asked (a bad value holds nothing back)."""
        if math.isnan(retry_after) or retry_after <= 0:
            return
        self._paused_until = max(self._paused_until, now + min(retry_after, self.max_pause))

    # ---- learning --------------------------------------------------------------------------

    def _cut(self, ticket: Ticket) -> None:
        """A refusal: halve the limit, once for the requests sent under it."""
        if ticket.window < self._cut_at:
            return  # sent before the last cut: answered for already
        self._starting = False
        if self.adaptive:
            before = self.limit
            self._limit = max(1.0, self._limit * BACKOFF)
            log.debug("limiter: refused; limit %d → %d", before, self.limit)
        self.cuts += 1
        self._next_window()
        self._cut_at = self._window

    def _learn(self, kind: str, rtt: float) -> None:
        self._samples.append((kind, rtt))
        if len(self._samples) >= max(self.limit, MIN_WINDOW):
            self._judge()

    def _judge(self) -> None:
        """The end of a window: move the limit by how much slower than their kinds'
        baselines its answers came, then move the baselines."""
        by_kind: dict[str, list[float]] = {}
        for kind, rtt in self._samples:
            by_kind.setdefault(kind, []).append(rtt)
        medians = {kind: statistics.median(rtts) for kind, rtts in by_kind.items()}
        usual = {kind: self.baselines.get(kind, median) for kind, median in medians.items()}
        slower = statistics.median(
            rtt / usual[kind] if usual[kind] > 0 else 1.0 for kind, rtt in self._samples
        )
        if self.adaptive and self._window_peak * 2 >= self.limit:  # else: nothing to learn
            gradient = 1.0 if slower <= 0 else min(1.0, max(0.5, self.tolerance / slower))
            self._starting = self._starting and gradient >= 1.0
            before = self.limit
            if self._starting:
                grown = self._limit * 2
            elif gradient >= 1.0:
                grown = self._limit + math.sqrt(self._limit)
            else:
                grown = self._limit * gradient + 1
            self._limit = min(float(self.ceiling), max(1.0, grown))
            if self.limit != before:
                log.debug(
                    "limiter: answers %.2fx their baseline; limit %d → %d",
                    slower,
                    before,
                    self.limit,
                )
        now = self.clock()
        rise = 1 + DRIFT * (now - self._judged)
        for kind, median in medians.items():
            self.baselines[kind] = min(median, usual[kind] * rise)
        self._judged = now
        self._next_window()

    def _next_window(self) -> None:
        self._window += 1
        self._samples.clear()
        self._window_peak = self.in_flight


@asynccontextmanager
async def slot(limiter: Limiter | None, kind: str = "") -> AsyncIterator[Answered]:
    """``limiter.request(kind)``, or nothing to wait for and no one to tell without one."""
    if limiter is None:
        yield _ignored
        return
    async with limiter.request(kind) as answered:
        yield answered


def _ignored(status: int | None, retry_after: float | None) -> None:
    """What an attempt's answer is told when no limiter listens."""


def retry_after(value: str | None) -> float | None:
    """A ``Retry-After`` header in seconds from now (a number or an HTTP date); None
    without one, or for a value that is neither. The limiter bounds what it is told."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return when.timestamp() - time.time()


__all__ = [
    "DEFAULT_CEILING",
    "INITIAL",
    "OVERLOAD",
    "Answered",
    "Limiter",
    "Ticket",
    "retry_after",
    "slot",
]

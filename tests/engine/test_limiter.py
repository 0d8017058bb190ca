"""The limiter: how many requests a session has in flight, found or pinned (issue 15).

Time is a fake clock the tests move by hand: nothing here sleeps. A "round" fills
every free slot, lets the latency pass and answers them all, as a saturated run
would (one round trip per round).
"""

from __future__ import annotations

import asyncio
import datetime
import email.utils
import heapq
import itertools
import math
from collections.abc import Coroutine, Sequence
from types import SimpleNamespace
from typing import Any, TypeVar

import httpx
import pytest

from reconciler.engine.executor import execute
from reconciler.engine.plan import Plan
from reconciler.errors import ApiError
from reconciler.limiter import DEFAULT_CEILING, INITIAL, Limiter, Ticket, retry_after
from reconciler.model import Action, Change, Kind, Resource, ResourceId, State
from reconciler.options.common import Listing
from reconciler.providers.base import ApplyContext, Capabilities, KindSupport, Provider
from reconciler.providers.http import ApiClient
from reconciler.targets import DEFAULT_MAX_PARALLELISM

LATENCY = 0.05
T = TypeVar("T")


class FakeClock:
    """Seconds that pass only when told, and virtual sleeps: :meth:`drive` runs a
    coroutine, and each time every task is blocked it moves the clock to the
    earliest alarm and wakes that sleeper (turns of the loop, no real time)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []
        self._alarms: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        alarm = asyncio.get_running_loop().create_future()
        heapq.heappush(self._alarms, (self.now + seconds, next(self._order), alarm))
        await alarm

    def drive(self, work: Coroutine[Any, Any, T]) -> T:
        async def main() -> T:
            task = asyncio.ensure_future(work)
            while not task.done():
                for _ in range(20):  # every runnable task runs until it blocks
                    await asyncio.sleep(0)
                if task.done():
                    break
                while self._alarms and self._alarms[0][2].done():
                    heapq.heappop(self._alarms)  # its sleeper was cancelled
                assert self._alarms, "blocked with no sleeper to wake"
                when, _, alarm = heapq.heappop(self._alarms)
                self.now = max(self.now, when)
                alarm.set_result(None)
            return await task

        return asyncio.run(main())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def adaptive(clock: FakeClock, **kwargs: Any) -> Limiter:
    return Limiter(clock=clock, sleep=clock.sleep, **kwargs)


def fill(limiter: Limiter, kind: str = "GET") -> list[Ticket]:
    """Take every free slot."""
    tickets = []
    while (ticket := limiter.begin(kind)) is not None:
        tickets.append(ticket)
    return tickets


def round_trip(
    limiter: Limiter,
    clock: FakeClock,
    latency: float = LATENCY,
    statuses: Sequence[int | None] = (),
    kind: str = "GET",
) -> int:
    """One saturated round of ``kind`` requests: every slot taken, ``latency`` passes, all
    answered (the first ones with ``statuses``, the rest 200). Returns how many were in
    flight."""
    tickets = fill(limiter, kind)
    clock.advance(latency)
    for i, ticket in enumerate(tickets):
        limiter.finish(ticket, statuses[i] if i < len(statuses) else 200)
    return len(tickets)


def grown(clock: FakeClock, at_least: int, **kwargs: Any) -> Limiter:
    limiter = adaptive(clock, **kwargs)
    for _ in range(50):
        if limiter.limit >= at_least:
            return limiter
        round_trip(limiter, clock)
    raise AssertionError(f"never reached {at_least}: stuck at {limiter.limit}")


# ---- finding the limit ----------------------------------------------------------------------


def test_it_grows_while_the_latency_holds_up_to_the_ceiling(clock: FakeClock) -> None:
    limiter = adaptive(clock)
    assert limiter.limit == INITIAL
    in_flight = [round_trip(limiter, clock) for _ in range(20)]
    assert in_flight[0] == INITIAL and in_flight[:10].count(DEFAULT_CEILING) > 0
    assert in_flight == sorted(in_flight)  # never backs off while nothing changes
    assert limiter.limit == DEFAULT_CEILING == max(in_flight)
    assert limiter.peak == DEFAULT_CEILING and limiter.cuts == 0


def test_the_first_round_trip_is_judged_at_once(clock: FakeClock) -> None:
    """Slow start loses no round trip: the first window's answers are enough to judge
    (a limit that started below the smallest window waited a second round trip to
    grow, 50 ms more of every remote plan's read)."""
    limiter = adaptive(clock)
    assert round_trip(limiter, clock) == INITIAL
    assert limiter.limit == 2 * INITIAL


def test_it_doubles_until_the_first_sign_of_congestion_then_grows_slower(
    clock: FakeClock,
) -> None:
    limiter = adaptive(clock)
    assert [round_trip(limiter, clock) for _ in range(2)] == [4, 8]
    assert limiter.limit == 16
    round_trip(limiter, clock, latency=2 * LATENCY)  # queueing: slow start ends
    congested = limiter.limit
    assert congested <= 16  # not doubled
    round_trip(limiter, clock)
    assert congested < limiter.limit < 2 * congested  # by its square root, not doubled


def test_targets_default_to_the_limiter_s_ceiling() -> None:
    assert DEFAULT_MAX_PARALLELISM == DEFAULT_CEILING


def test_a_lower_ceiling_is_never_exceeded(clock: FakeClock) -> None:
    limiter = adaptive(clock, ceiling=10)
    assert max(round_trip(limiter, clock) for _ in range(30)) == 10
    assert limiter.limit == 10 and limiter.peak == 10


def test_a_window_that_uses_few_slots_says_nothing(clock: FakeClock) -> None:
    limiter = adaptive(clock, initial=8)
    for _ in range(40):  # one request at a time: the run has nothing more to send
        ticket = limiter.begin()
        assert ticket is not None
        clock.advance(LATENCY)
        limiter.finish(ticket, 200)
    assert limiter.limit == 8


@pytest.mark.parametrize("status", [429, 503, None], ids=["429", "503", "no answer"])
def test_a_refusal_halves_the_limit_once_per_window(clock: FakeClock, status: int | None) -> None:
    limiter = grown(clock, 16)
    before = limiter.limit
    tickets = fill(limiter)
    clock.advance(LATENCY)
    limiter.finish(tickets[0], status)
    assert limiter.limit == before // 2 and limiter.cuts == 1
    for ticket in tickets[1:]:  # sent under the old limit: already answered for
        limiter.finish(ticket, status)
    assert limiter.limit == before // 2 and limiter.cuts == 1
    round_trip(limiter, clock, statuses=[status])  # sent under the new limit: counts
    assert limiter.limit == before // 4 and limiter.cuts == 2


def test_after_a_refusal_it_grows_again(clock: FakeClock) -> None:
    limiter = grown(clock, 16)
    round_trip(limiter, clock, statuses=[429])
    low = limiter.limit
    for _ in range(3):
        round_trip(limiter, clock)
    assert limiter.limit > low


def test_an_error_answer_with_retry_after_cuts_and_holds_back(clock: FakeClock) -> None:
    limiter = grown(clock, 16)
    before = limiter.limit
    tickets = fill(limiter)
    limiter.finish(tickets[0], 500, retry_after=2.0)
    assert limiter.limit == before // 2
    assert limiter.paused_for() == pytest.approx(2.0)
    clock.advance(1.5)
    assert limiter.paused_for() == pytest.approx(0.5)
    limiter.finish(tickets[1], 429, retry_after=1e9)  # the server's word, within reason
    assert limiter.paused_for() == pytest.approx(limiter.max_pause)


@pytest.mark.parametrize("value", [0.0, -5.0, math.nan])
def test_a_retry_after_of_no_time_holds_nothing_back(clock: FakeClock, value: float) -> None:
    limiter = adaptive(clock)
    ticket = limiter.begin()
    assert ticket is not None
    limiter.finish(ticket, 429, retry_after=value)
    assert limiter.paused_for() == 0 and limiter.cuts == 1


def test_it_shrinks_when_the_latency_climbs(clock: FakeClock) -> None:
    limiter = grown(clock, 20)
    before = limiter.limit
    round_trip(limiter, clock, latency=3 * LATENCY)  # requests queue somewhere
    first = limiter.limit
    assert first < before
    for _ in range(5):
        round_trip(limiter, clock, latency=3 * LATENCY)
    assert limiter.limit < first
    assert limiter.limit >= 2  # latency alone never drives it to 1
    assert limiter.cuts == 0


def test_a_slower_kind_of_request_is_not_congestion(clock: FakeClock) -> None:
    """Reads at 50 ms, then creates at 150 ms that stay at 150 ms: nothing queues."""
    limiter = grown(clock, 8)
    before = limiter.limit
    for _ in range(3):
        round_trip(limiter, clock, latency=3 * LATENCY, kind="POST")
    assert limiter.limit > before and set(limiter.baselines) == {"GET", "POST"}
    grown_to = limiter.limit
    round_trip(limiter, clock, latency=9 * LATENCY, kind="POST")  # creates slow down 3x
    assert limiter.limit < grown_to


def test_latency_within_the_tolerance_is_not_congestion(clock: FakeClock) -> None:
    limiter = grown(clock, 8)
    before = limiter.limit
    round_trip(limiter, clock, latency=1.2 * LATENCY)
    assert limiter.limit > before


# ---- pinned --------------------------------------------------------------------------------


def test_a_pinned_limit_never_moves(clock: FakeClock) -> None:
    limiter = Limiter.fixed(3, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        assert round_trip(limiter, clock) == 3
    assert round_trip(limiter, clock, latency=10 * LATENCY) == 3
    assert round_trip(limiter, clock, statuses=[429, 503]) == 3
    ticket = limiter.begin()
    assert ticket is not None
    limiter.finish(ticket, 429, retry_after=1.0)
    assert limiter.limit == 3 and limiter.peak == 3
    assert limiter.paused_for() == pytest.approx(1.0)  # Retry-After holds in any mode


@pytest.mark.parametrize("bad", [{"ceiling": 0}, {"initial": 0}, {"rate": 0.0}, {"rate": -1.0}])
def test_impossible_settings_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Limiter(**bad)


# ---- rate and slots, through request() --------------------------------------------------------


def test_the_rate_spaces_requests_evenly_without_a_burst(clock: FakeClock) -> None:
    limiter = adaptive(clock, rate=10.0)
    assert [limiter.reserve() for _ in range(3)] == pytest.approx([0.0, 0.1, 0.2])
    clock.advance(5.0)  # idle a long time: still no burst saved up
    assert [limiter.reserve() for _ in range(2)] == pytest.approx([0.0, 0.1])


def test_requests_leave_no_faster_than_the_rate(clock: FakeClock) -> None:
    limiter = Limiter.fixed(8, rate=4.0, clock=clock, sleep=clock.sleep)
    sent: list[float] = []

    async def one() -> None:
        async with limiter.request() as answered:
            sent.append(clock())
            answered(200, None)

    async def main() -> None:
        await asyncio.gather(*(one() for _ in range(6)))

    clock.drive(main())
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert len(sent) == 6 and all(gap >= 0.25 - 1e-9 for gap in gaps), gaps
    assert limiter.in_flight == 0


def test_a_retry_after_pause_holds_back_the_next_request(clock: FakeClock) -> None:
    limiter = adaptive(clock)

    async def main() -> float:
        async with limiter.request() as answered:
            answered(429, 3.0)
        async with limiter.request() as answered:
            answered(200, None)
            return clock()

    start = clock()
    assert clock.drive(main()) - start >= 3.0
    assert sum(clock.slept) == pytest.approx(3.0)


def test_requests_beyond_the_limit_wait_for_a_slot_in_order() -> None:
    limiter = Limiter.fixed(2)
    entered: list[int] = []

    async def main() -> None:
        release = asyncio.Event()

        async def one(i: int) -> None:
            async with limiter.request() as answered:
                entered.append(i)
                await release.wait()
                answered(200, None)

        tasks = [asyncio.create_task(one(i)) for i in range(5)]
        for _ in range(5):
            await asyncio.sleep(0)
        assert entered == [0, 1] and limiter.in_flight == 2
        tasks[2].cancel()  # a waiter that gives up takes no slot with it
        release.set()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())
    assert entered == [0, 1, 3, 4]
    assert limiter.in_flight == 0 and limiter.peak == 2


def test_an_exception_counts_as_no_answer_and_a_cancellation_as_nothing(
    clock: FakeClock,
) -> None:
    limiter = adaptive(clock)

    async def fails() -> None:
        async with limiter.request():
            raise ConnectionError("lost")

    async def cancelled() -> None:
        async with limiter.request():
            raise asyncio.CancelledError

    with pytest.raises(ConnectionError):
        asyncio.run(fails())
    assert limiter.cuts == 1 and limiter.in_flight == 0
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(cancelled())
    assert limiter.cuts == 1 and limiter.in_flight == 0


# ---- the executor follows it ---------------------------------------------------------------


class Calls(Provider):
    """Every change is one request through the limiter; the test answers them in rounds."""

    capabilities = Capabilities(
        dialect="fake",
        title="one request per change",
        supports={Kind.TENANT: KindSupport(frozenset(Action) - {Action.NOOP}, frozenset())},
    )

    def __init__(self, limiter: Limiter) -> None:
        self.client = SimpleNamespace(limiter=limiter)  # type: ignore[assignment]
        self.limiter = limiter
        self.waiting: list[asyncio.Future[None]] = []
        self.in_flight = 0
        self.high_water: list[int] = []

    async def read(self, kinds: Any) -> State:
        return State()

    async def apply(self, change: Change, ctx: ApplyContext) -> Resource | None:
        self.in_flight += 1
        try:
            async with self.limiter.request() as answered:
                answer = asyncio.get_running_loop().create_future()
                self.waiting.append(answer)
                await answer
                answered(200, None)
        finally:
            self.in_flight -= 1
        return None


def tenants(n: int) -> Plan:
    ids = [ResourceId(Kind.TENANT, f"t{i:03d}") for i in range(n)]
    return Plan(changes=[Change(Action.CREATE, rid, desired=Resource(rid, {})) for rid in ids])


def run_in_rounds(provider: Calls, clock: FakeClock, plan: Plan, parallelism: int) -> int:
    """Apply ``plan``; each round answers every request in flight after ``LATENCY``.
    Returns the rounds it took."""

    async def main() -> int:
        run = asyncio.create_task(execute(plan, provider, ApplyContext(), parallelism=parallelism))
        rounds = 0
        while not run.done():
            for _ in range(10):  # let the executor start all it may
                await asyncio.sleep(0)
            if provider.waiting:
                provider.high_water.append(provider.in_flight)
                clock.advance(LATENCY)
                waiting, provider.waiting = provider.waiting, []
                for answer in waiting:
                    answer.set_result(None)
                rounds += 1
        result = await run
        assert len(result.applied) == len(plan.changes)
        return rounds

    return asyncio.run(main())


def test_the_executor_starts_as_many_changes_as_the_limit_allows(clock: FakeClock) -> None:
    limiter = adaptive(clock)
    provider = Calls(limiter)
    rounds = run_in_rounds(provider, clock, tenants(200), parallelism=0)
    assert provider.high_water[0] == INITIAL
    assert max(provider.high_water) == DEFAULT_CEILING  # grew by itself, to the ceiling
    assert rounds < 200 / INITIAL / 2  # far fewer round trips than at a fixed 4


def test_a_fixed_parallelism_bounds_the_executor_below_the_limiter(clock: FakeClock) -> None:
    provider = Calls(adaptive(clock))
    run_in_rounds(provider, clock, tenants(60), parallelism=2)
    assert set(provider.high_water) == {2}


def test_adaptive_parallelism_needs_a_limiter() -> None:
    class Bare(Calls):
        def __init__(self) -> None:
            super().__init__(Limiter())
            self.client = SimpleNamespace()  # type: ignore[assignment]

    with pytest.raises(ValueError, match="parallelism"):
        asyncio.run(execute(tenants(1), Bare(), ApplyContext(), parallelism=0))


# ---- the client tells it every answer -------------------------------------------------------


def test_the_client_reports_status_and_retry_after_and_keeps_its_retries(
    clock: FakeClock,
) -> None:
    """A 503 to a create is not retried (as without a limiter); the limiter still
    learns from it: a cut, and a pause as long as the HTTP date it names."""
    limiter = adaptive(clock)
    later = email.utils.format_datetime(
        datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=30), usegmt=True
    )
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.method)
        if request.method == "POST":
            return httpx.Response(503, json={"message": "busy"}, headers={"Retry-After": later})
        return httpx.Response(200, json={"ok": True})

    async def main() -> None:
        async with ApiClient("http://api.test", "t", transport=httpx.MockTransport(handler)) as c:
            c.limiter = limiter
            assert await c.call("GET", "/x") == {"ok": True}
            with pytest.raises(ApiError):
                await c.call("POST", "/x", json_body={})

    asyncio.run(main())
    assert sent == ["GET", "POST"]  # the create was sent once
    assert limiter.cuts == 1 and limiter.in_flight == 0
    assert limiter.paused_for() == pytest.approx(limiter.max_pause)  # 30 s, bounded to 10


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("7", 7.0), ("0.5", 0.5), (None, None), ("", None), ("soon", None), ("nan", math.nan)],
)
def test_retry_after_is_read_as_seconds(header: str | None, seconds: float | None) -> None:
    found = retry_after(header)
    if seconds is not None and math.isnan(seconds):
        assert found is not None and math.isnan(found)  # the limiter ignores it
    else:
        assert found == seconds


def test_retry_after_as_an_http_date_is_the_time_left_until_it() -> None:
    soon = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=120)
    found = retry_after(email.utils.format_datetime(soon, usegmt=True))
    assert found is not None and 110 < found <= 120


def test_the_client_s_requests_and_pages_stay_within_the_limit() -> None:
    """A listing's pages are fetched as many at once as the limiter's ceiling, and the
    limiter holds them to its limit: the server never sees more."""
    limiter = Limiter.fixed(3)
    at_once = peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal at_once, peak
        at_once += 1
        peak = max(peak, at_once)
        for _ in range(5):
            await asyncio.sleep(0)  # the others get their turn to pile up
        at_once -= 1
        offset = int(request.url.params["offset"])
        return httpx.Response(
            200, json={"items": list(range(offset, min(offset + 10, 200))), "total": 200}
        )

    async def main() -> list[int]:
        transport = httpx.MockTransport(handler)
        async with ApiClient("http://api.test", "t", transport=transport) as c:
            c.limiter = limiter
            listing = Listing()
            return [item async for item in c.paginate("/things", listing)]

    assert asyncio.run(main()) == list(range(200))
    assert peak == 3 and limiter.peak == 3


def test_a_request_cancelled_while_waiting_for_its_turn_hands_its_slot_on(
    clock: FakeClock,
) -> None:
    """Held back by a Retry-After, one request gives up: the next in line gets its slot."""
    limiter = Limiter.fixed(1, clock=clock, sleep=clock.sleep)
    ticket = limiter.begin("POST")
    assert ticket is not None
    limiter.finish(ticket, 429, retry_after=5.0)
    sent: list[str] = []

    async def one(name: str) -> None:
        async with limiter.request() as answered:
            sent.append(name)
            answered(200, None)

    async def main() -> None:
        first = asyncio.create_task(one("first"))
        second = asyncio.create_task(one("second"))
        for _ in range(5):
            await asyncio.sleep(0)
        assert limiter.in_flight == 1  # the first waits out the pause, the second a slot
        first.cancel()
        await asyncio.gather(first, second, return_exceptions=True)

    clock.drive(main())
    assert sent == ["second"] and limiter.in_flight == 0

"""Apply a plan: independent changes concurrently, dependents only after success.

How many at once is either fixed (``parallelism``) or, with ``parallelism=0``,
whatever the limiter of the provider's client allows at that moment: it grows
while the API answers as fast, shrinks when it slows down or refuses
(:mod:`reconciler.limiter`). Each request also waits for one of the limiter's
slots, so the changes in flight and their calls stay within the same bound.

A create the server answers with 409 (the object exists already: made by hand,
or by an earlier run that lost its answer) is never repeated: the object is
re-read by natural key, adopted, and brought to the spec with an update.

A failure never stops the run: what depends on the failed change (directly or
not) is skipped with a reason, everything else still goes through. A stop
request does (:class:`~reconciler.interrupt.StopRequest`): no new change starts,
those in flight get a grace period to finish, and the result says what was
applied, failed, not started, or cut off in flight with its outcome unknown.

Guards hold here too, not only in the plan: a removal of an admin waits for the
grants that replace it (and is skipped if one failed), and no suspension or
deletion of a protected object is sent, whatever led to it. Only
:class:`ReconcilerError` counts as a failure; any other exception is a bug and
propagates, after the changes in flight are cancelled.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Collection
from contextlib import nullcontext
from typing import Any

from reconciler.engine.diff import compare
from reconciler.engine.graph import predecessors, sorter
from reconciler.engine.guards import admin_handover
from reconciler.engine.plan import Plan
from reconciler.engine.results import ApplyResult, ChangeEvent
from reconciler.errors import ApiError, ConflictError, PlanError, ReconcilerError, TransportError
from reconciler.interrupt import StopRequest
from reconciler.journal import current_change
from reconciler.limiter import Limiter
from reconciler.model import Action, Change, Resource, ResourceId
from reconciler.providers.base import ApplyContext, Provider
from reconciler.targets import ADAPTIVE


async def execute(
    plan: Plan,
    provider: Provider,
    ctx: ApplyContext,
    *,
    parallelism: int = 8,
    on_event: Callable[[ChangeEvent], None] | None = None,
    protected: Collection[ResourceId] = (),
    stop: StopRequest | None = None,
) -> ApplyResult:
    """Run ``plan.changes`` through ``provider`` with at most ``parallelism`` in flight.

    ``parallelism`` 0 (:data:`ADAPTIVE`): as many as the limiter of the provider's
    client allows, read again each time a change may start (it has one when the
    session made it); a fixed number is also bounded by that limiter, if any.

    ``ctx.ids`` must hold the server ids of live objects; each create that
    returns a server id adds it, so dependents created later can refer to it.
    ``protected`` names objects (besides those whose spec says ``protect``)
    that are never suspended or deleted.

    Once ``stop`` is requested no new change starts; those in flight get
    ``stop.grace`` seconds to finish (none after a second request), then are
    cancelled and reported as ``unknown``; the rest are ``not_started``.
    """
    limiter = _limiter_of(provider)
    if parallelism < 0 or (parallelism == ADAPTIVE and limiter is None):
        raise ValueError(
            f"parallelism must be at least 1 (or 0 with a limiter on the client), not {parallelism}"
        )
    room = _room(parallelism, limiter)
    changes = plan.changes
    admin_handover(changes, provider.capabilities.admin_role)  # also for saved plans
    shielded = frozenset(protected)
    preds = predecessors(changes)
    graph = sorter(changes)
    emit = on_event or (lambda event: None)

    outcome: dict[int, str | None] = {}  # position → None (applied) or error / skip reason
    failure_of: dict[int, int] = {}  # failed or skipped position → the failure behind it
    queue: deque[int] = deque()
    running: dict[asyncio.Task[Resource | None], int] = {}
    cut: dict[int, str] = {}  # position → why it was cancelled in flight

    def take_ready() -> None:
        """Queue what became ready; skip at once what a failure blocks (that may free more)."""
        while ready := sorted(graph.get_ready()):
            for i in ready:
                roots = {failure_of[p] for p in preds[i] if p in failure_of}
                if not roots:
                    queue.append(i)
                    continue
                root = min(roots)  # deterministic: the earliest failure in plan order
                reason = f"skipped: depends on {changes[root].id}, which failed"
                guarded_by = sorted(
                    changes[p].id
                    for p in preds[i]
                    if p in failure_of and changes[p].id in changes[i].waits_for
                )
                if guarded_by:
                    reason = (
                        f"skipped: the lockout guard runs it only after {guarded_by[0]} "
                        "succeeds, and that did not"
                    )
                outcome[i], failure_of[i] = reason, root
                emit(ChangeEvent("skipped", changes[i], reason))
                graph.done(i)

    def finish(task: asyncio.Task[Resource | None]) -> None:
        i = running.pop(task)
        try:
            resource = task.result()
        except ReconcilerError as exc:
            outcome[i], failure_of[i] = str(exc), i
            emit(ChangeEvent("failed", changes[i], str(exc)))
        else:
            _record_id(ctx, changes[i], resource)
            outcome[i] = None
            emit(ChangeEvent("succeeded", changes[i]))
        graph.done(i)

    loop = asyncio.get_running_loop()
    seen = 0  # stop requests acted on
    deadline: float | None = None  # when the changes in flight are cancelled
    try:
        with stop.attached() if stop is not None else nullcontext():
            take_ready()
            while queue or running:
                if stop is not None and len(stop.reasons) > seen:
                    seen = len(stop.reasons)
                    if deadline is None:  # the first request: the grace period starts
                        deadline = loop.time() + stop.grace
                if stop is not None and deadline is not None:
                    for task in [t for t in running if t.done()]:
                        finish(task)
                    if not running:
                        break
                    if stop.at_once or loop.time() >= deadline:
                        why = "a second stop request" if stop.at_once else "the grace period"
                        cut = {i: why for i in running.values()}
                        break
                while deadline is None and queue and len(running) < room():
                    i = queue.popleft()
                    emit(ChangeEvent("started", changes[i]))
                    task = asyncio.create_task(_guarded(provider, changes[i], ctx, shielded))
                    running[task] = i
                for task in sorted(
                    await _finished(running, stop, seen, deadline, loop), key=running.__getitem__
                ):
                    finish(task)
                take_ready()
            if deadline is None and graph.is_active():
                raise RuntimeError("executor stalled: changes left that never became ready")
    finally:
        # A bug, a stop or a cancelled run must not leave calls running behind our back.
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)

    result = ApplyResult(stopped=stop.reason if deadline is not None and stop else None)
    for i, change in enumerate(changes):
        if i in cut:
            result.unknown[change.id] = (
                f"in flight when the apply stopped, cancelled after {cut[i]}: "
                "its calls may or may not have landed"
            )
        elif i not in outcome:
            result.not_started.append(change.id)
        elif (message := outcome[i]) is None:
            result.applied.append(change.id)
        elif i in failure_of and failure_of[i] == i:
            result.failed[change.id] = message
        else:
            result.skipped[change.id] = message
    return result


def _limiter_of(provider: Provider) -> Limiter | None:
    """The limiter of the provider's client, if it has one (test doubles have no client)."""
    client = getattr(provider, "client", None)
    found = getattr(client, "limiter", None)
    return found if isinstance(found, Limiter) else None


def _room(parallelism: int, limiter: Limiter | None) -> Callable[[], int]:
    """How many changes may be in flight now: fixed, the limiter's, or the lower of both."""
    if limiter is None:
        return lambda: parallelism
    if parallelism == ADAPTIVE:
        return lambda: limiter.limit
    return lambda: min(parallelism, limiter.limit)


async def _finished(
    running: dict[asyncio.Task[Resource | None], int],
    stop: StopRequest | None,
    seen: int,
    deadline: float | None,
    loop: asyncio.AbstractEventLoop,
) -> set[asyncio.Task[Resource | None]]:
    """The changes that finished, once one has, or a new stop request came, or the
    grace period ran out (then maybe none)."""
    woken = asyncio.ensure_future(stop.beyond(seen)) if stop is not None else None
    waits: set[asyncio.Future[Any]] = {*running, *([woken] if woken else [])}
    timeout = None if deadline is None else max(0.0, deadline - loop.time())
    try:
        done, _ = await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if woken is not None:
            woken.cancel()
    return {task for task in running if task in done}


class ProtectedError(PlanError):
    """A suspension or deletion of a protected object reached the executor."""


async def _guarded(
    provider: Provider, change: Change, ctx: ApplyContext, protected: frozenset[ResourceId]
) -> Resource | None:
    """``apply_one``, unless the change would suspend or delete a protected object.

    The planner already refuses such plans; this is the last line, for any path
    that reaches here (a plan file edited by hand, a provider's follow-up).
    """
    if change.is_destructive and (
        change.id in protected
        or (change.desired is not None and change.desired.protect)
        or (change.live is not None and change.live.protect)
    ):
        raise ProtectedError(f"{change.id} is protected: refused to {change.action.value} it")
    return await apply_one(provider, change, ctx)


def unknown_outcome(exc: ReconcilerError) -> bool:
    """Whether the server may have done the work although the call failed.

    A timeout or a lost connection says nothing either way; a 5xx may come
    after the server committed. A 4xx (but 409, handled apart) means it did not.
    """
    if isinstance(exc, TransportError):
        return True
    return isinstance(exc, ApiError) and exc.status >= 500


async def apply_one(provider: Provider, change: Change, ctx: ApplyContext) -> Resource | None:
    """One change through the provider, never duplicating an object.

    A create that meets 409 adopts what exists. A create whose outcome is
    unknown is not repeated blindly: the kind is re-read by natural key first;
    if the object landed it is adopted, if not the create is tried once more.
    """
    current_change.set(change)  # this task's own context: the journal names the change
    try:
        return await provider.apply(change, ctx)
    except ConflictError:
        if change.action is not Action.CREATE or change.desired is None:
            raise
        adopted = await _adopt(provider, change.desired, ctx)
        if adopted is None:
            raise
        return adopted
    except (TransportError, ApiError) as exc:
        if change.action is not Action.CREATE or change.desired is None:
            raise
        if not unknown_outcome(exc):
            raise
        try:
            adopted = await _adopt(provider, change.desired, ctx)
        except ReconcilerError:
            raise exc from None  # cannot tell whether it landed: report the original failure
        if adopted is not None:
            return adopted
        return await provider.apply(change, ctx)


async def _adopt(provider: Provider, want: Resource, ctx: ApplyContext) -> Resource | None:
    """Re-read ``want``'s kind; if an object with its natural key exists, make it ours."""
    have = (await provider.read({want.id.kind})).get(want.id)
    if have is None:
        return None
    if have.server_id is not None:
        ctx.ids[want.id] = have.server_id
    follow = compare(want, have)
    if follow is not None:
        await provider.apply(follow, ctx)
    return have


def _record_id(ctx: ApplyContext, change: Change, resource: Resource | None) -> None:
    """Keep ``ctx.ids`` true to the server: new ids in, deleted ids out."""
    if change.action is Action.DELETE:
        ctx.ids.pop(change.id, None)
    elif resource is not None and resource.server_id is not None:
        ctx.ids[change.id] = resource.server_id

"""What every run does before its own work: load the specs, resolve the target, connect.

:func:`load` and :func:`check_support` are the library API's (re-exported by
:mod:`reconciler.core`); :func:`prepared` and :func:`connected` are how
:mod:`reconciler.planning` and :mod:`reconciler.applying` reach a session with the
target from synchronous code. A module of its own so that those two and ``core``
share these steps without importing each other.

As light as ``validate`` needs (issue 15, "CLI import time"): the session, the
engine and the transport are imported by the functions that use them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from reconciler.errors import ReconcilerError, UnsupportedError
from reconciler.providers import provider_class
from reconciler.spec import load_specs
from reconciler.spec.cache import SpecCache
from reconciler.spec.config import Config, load_config
from reconciler.targets import Target, TargetChoice, resolve_target
from reconciler.workdir import spec_root

if TYPE_CHECKING:  # imported where used: ``validate`` needs none of them (issue 15)
    from reconciler.model import State
    from reconciler.session import Session

T = TypeVar("T")


# ---- specs and target -------------------------------------------------------------------


def load(spec_path: Path | str) -> tuple[State, Config]:
    """Load and validate the specs and their ``reconciler.yaml``; raises SpecError.

    Files already parsed are taken from the spec root's cache (``.reconciler/cache/``,
    :mod:`reconciler.spec.cache`) unless ``RECONCILER_NO_CACHE`` is set.
    """
    path = Path(spec_path)
    desired = load_desired(path)
    config = load_config(path if path.is_dir() else path.parent)
    return desired, config


def load_desired(path: Path) -> State:
    """The specs at ``path`` alone, parsed with the garbage collector paused."""
    from reconciler.engine.planner import paused_gc

    with paused_gc():
        return load_specs(path, cache=SpecCache.for_specs(path))


def check_support(desired: State, target: Target) -> None:
    """Refuse, before any call, specs that ask the target's API for what it cannot do."""
    problems = provider_class(target.dialect).support_problems(desired)
    if problems:
        raise UnsupportedError(problems)


def resolve(config: Config, choice: TargetChoice) -> Target:
    """The target ``choice`` names in ``config``, with the transport this run uses."""
    from reconciler.transport import use_transport

    target = resolve_target(config, choice)
    use_transport(target, choice, keep=True)
    return target


# ---- connecting -------------------------------------------------------------------------


@dataclass
class Loaded:
    """What a run loads from files before it may write: the specs, and the base specs."""

    desired: State
    base: State | None = None


def prepared(
    spec_path: Path | str,
    choice: TargetChoice | None,
    workdir: Path | None,
    work: Callable[[Session, Loaded, State], Awaitable[T]],
    *,
    base: str | None = None,
) -> T:
    """Load the specs (and the ``base`` specs), check them against what the API
    supports, then connect, read the live state and ``work(session, loaded, live)``.

    The specs load first, always: a malformed spec fails before any API call
    (README, "Bad input"). Loading beside the read would gain ~0.3 s at 50 ms
    latency (docs/performance.md), at the price of reads sent for a plan that
    then fails; the cache keeps the load itself short instead.
    """
    from reconciler.basespecs import load_base
    from reconciler.session import read_live

    path = Path(spec_path)
    try:
        config = load_config(path if path.is_dir() else path.parent)
        target = resolve(config, choice or TargetChoice())
    except ReconcilerError:
        load(path)  # a spec problem is reported first, as when the specs load first
        raise
    workdir = workdir or spec_root(spec_path)
    desired = load_desired(path)
    check_support(desired, target)
    loaded = Loaded(desired, load_base(base, path) if base is not None else None)

    async def read_then_work(session: Session) -> T:
        return await work(session, loaded, await read_live(session))

    return connected(target, workdir, read_then_work)


def run_sync(main: Callable[[], Awaitable[T]]) -> T:
    """``asyncio.run(main())``, the result handed back beside the task, not as its result.

    On Python 3.11, ``asyncio.run`` restoring the SIGINT handler at the end formats
    the repr of its main task, result included: every object of a plan's states
    (a tenth of a second at 110,000 objects, seconds under a profiler).
    """
    import asyncio

    result: list[T] = []

    async def boxed() -> None:
        result.append(await main())

    asyncio.run(boxed())
    return result[0]


def connected(target: Target, workdir: Path | None, work: Callable[[Session], Awaitable[T]]) -> T:
    """Run ``work`` in a session with ``target``, from synchronous code.

    ``workdir`` is where local state lives (:mod:`reconciler.workdir`): callers pass
    the spec root, never the current directory.
    """
    from reconciler.session import open_session, warn_unfinished

    async def run() -> T:
        async with open_session(target, workdir) as session:
            warn_unfinished(session)  # the last apply's writes without an outcome
            return await work(session)

    return run_sync(run)

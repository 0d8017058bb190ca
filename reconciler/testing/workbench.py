"""One conformance check's world: a dialect's sandbox, its specs aimed at it, and the calls.

A :class:`Workbench` copies the dialect's example specs into the test's own
directory and writes their ``reconciler.yaml`` again with one target,
``conformance``, at the running sandbox (with the kit's options, when it has
some). Everything after goes through reconciler's public surface as a user's
program would: the library API (:mod:`reconciler.core`) for plans and applies,
the CLI for export; the sandbox's request log for what was sent.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

from reconciler import core
from reconciler.model import Kind, State
from reconciler.providers import Provider, provider_class
from reconciler.providers.base import ListingUse
from reconciler.rules import PrunePolicy
from reconciler.runs import ApplyRun, PlanRun
from reconciler.spec.loader import CONFIG_NAMES
from reconciler.targets import Target, TargetChoice, resolve_target
from reconciler.testing.request_log import Request, requests, writes

if TYPE_CHECKING:
    from click.testing import Result

    from reconciler.sandbox.faults import FaultConfig
    from reconciler.sandbox.server import EmbeddedSandbox
    from reconciler.testing.plugin import CliRun, SandboxStarter

T = TypeVar("T")

TARGET = "conformance"
"""The one target the working copy's ``reconciler.yaml`` names."""
QUICK_RETRIES = {"backoff": 0.005, "maxBackoff": 0.05}
"""The kit target's ``retries:`` (what is tried again is the dialect's; only the waits
are shorter)."""
API_VERSION = "reconciler.dev/v1"


def _take_config(directory: Path) -> dict[str, Any]:
    """The ``reconciler.yaml`` (or ``.yml``) of ``directory`` as data, the file removed
    (a bare configuration when there is none)."""
    data = None
    for name in CONFIG_NAMES:
        path = directory / name
        if path.is_file():
            data = data or yaml.safe_load(path.read_text(encoding="utf-8"))
            path.unlink()
    return dict(data) if isinstance(data, dict) else {"apiVersion": API_VERSION}


class Workbench:
    """The sandbox and specs of one check, and what the checks do with them."""

    def __init__(
        self,
        dialect: str,
        specs: Path,
        root: Path,
        start: SandboxStarter,
        cli: CliRun,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.dialect = dialect
        self.provider: type[Provider] = provider_class(dialect)
        self.root = root
        self.workdir = root / "specs"
        """The working copy of the specs; its ``reconciler.yaml`` names the target."""
        # not an embedded sandbox's state (.reconciler/) someone left beside the specs
        shutil.copytree(specs, self.workdir, ignore=shutil.ignore_patterns(".reconciler"))
        self.options = dict(options) if options is not None else None
        self._spec_config = _take_config(self.workdir)
        self._start = start
        self._cli = cli
        self._sandbox: EmbeddedSandbox | None = None
        self._prune: dict[str, str] = {}

    # ---- the sandbox and the target ------------------------------------------------------

    def serve(
        self,
        seed: Mapping[str, Any] | None = None,
        *,
        faults: FaultConfig | None = None,
        db_path: Path | None = None,
    ) -> EmbeddedSandbox:
        """Start the dialect's sandbox (the one before keeps running) and aim the target at it."""
        self._sandbox = self._start(self.dialect, seed=seed, faults=faults, db_path=db_path)
        self.configure(self._prune)
        return self._sandbox

    @property
    def sandbox(self) -> EmbeddedSandbox:
        if self._sandbox is None:
            raise RuntimeError("no sandbox yet: call serve() first")
        return self._sandbox

    @property
    def base_path(self) -> str:
        """What the target URL adds to the sandbox's (the dialect's ``base_path``)."""
        return self.provider.capabilities.base_path

    @property
    def url(self) -> str:
        return self.sandbox.url + self.base_path

    def target_entry(self, prune: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The target as ``reconciler.yaml`` writes it (``prune``: kind → policy)."""
        api: Any = self.dialect
        if self.options is not None:
            api = {"dialect": self.dialect, "options": self.options}
        # the sandbox is on this machine: tries again after milliseconds, not the 0.2 s
        # doubled a remote platform gets (the faults checks retry hundreds of calls)
        entry: dict[str, Any] = {"api": api, "url": self.url, "retries": QUICK_RETRIES}
        if prune:
            entry["prune"] = dict(prune)
        return entry

    def configure(self, prune: Mapping[str, str] | None = None) -> None:
        """Write the working copy's ``reconciler.yaml``: the specs' own, with the target only.

        ``prune`` (kind → policy) is the target's, over the specs' top-level policies.
        """
        self._prune = dict(prune or {})
        data = {k: v for k, v in self._spec_config.items() if k not in ("targets", "defaultTarget")}
        data["targets"] = {TARGET: self.target_entry(self._prune)}
        self.write_config(self.workdir, data)

    @staticmethod
    def write_config(directory: Path, data: Mapping[str, Any]) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True)
        (directory / "reconciler.yaml").write_text(text, encoding="utf-8")

    def choice(self, parallelism: int | None = None) -> TargetChoice:
        return TargetChoice(name=TARGET, parallelism=parallelism)

    def target(self) -> Target:
        """The configured target, resolved as a run resolves it (token from the environment)."""
        _, config = core.load(self.workdir)
        target = resolve_target(config, self.choice())
        core.check_transport(target)
        return target

    # ---- the library API ------------------------------------------------------------------

    def desired(self) -> State:
        """The desired state of the working copy's specs."""
        return core.load(self.workdir)[0]

    def plan(self, *, show_calls: bool = False) -> PlanRun:
        return core.plan(self.workdir, self.choice(), show_calls=show_calls)

    def apply(
        self, *, parallelism: int | None = None, allow_mass_changes: bool = False
    ) -> ApplyRun:
        return core.apply(
            self.workdir, self.choice(parallelism), allow_mass_changes=allow_mass_changes
        )

    def in_session(
        self, work: Callable[[core.Session], Awaitable[T]], target: Target | None = None
    ) -> T:
        """``work`` run in a session with the target (a library user's own program)."""

        async def run() -> T:
            async with core.open_session(target or self.target()) as session:
                return await work(session)

        return asyncio.run(run())

    def live(self) -> State:
        """The live state, as the provider reads it (duplicates kept in ``live.duplicates``)."""

        async def read(session: core.Session) -> State:
            return await session.provider.read(list(session.provider.capabilities.supports))

        return self.in_session(read)

    def listings(self) -> list[ListingUse]:
        """The listings the provider declares it reads (``Provider.listings``)."""

        async def declared(session: core.Session) -> list[ListingUse]:
            return session.provider.listings()

        return self.in_session(declared)

    def make_by_hand(self, objects: State) -> None:
        """Make the live objects of ``objects`` match it through the provider's own writes.

        Outside any reconcile of the specs: a program of the user's, through the
        library API, plans ``objects`` alone (every other live object left as it is,
        whatever the specs' prune policies) and applies that.
        """
        leave_alone: dict[Kind, PrunePolicy] = {kind: "ignore" for kind in Kind}
        target = self.target()
        target = replace(target, prune=leave_alone, rules=replace(target.rules, prune=leave_alone))

        async def make(session: core.Session) -> ApplyRun | None:
            run = await core.read_plan(session, objects, partial=True)
            if not run.plan.has_changes:
                return None
            return await core.apply_planned(session, run)

        done = self.in_session(make, target)
        if done is not None and not done.ok:
            failed = done.result.failed if done.result is not None else {}
            left = done.remaining.changes if done.remaining is not None else []
            raise AssertionError(
                f"could not make {', '.join(str(r.id) for r in objects)} by hand: "
                f"failed {failed}, left {[str(c.id) for c in left]}"
            )

    # ---- the CLI and the request log --------------------------------------------------------

    def cli(self, *args: str) -> Result:
        return self._cli(args)

    def requests(self, since: int = 0) -> list[Request]:
        """What the current sandbox served, from the ``since``-th request on."""
        return requests(self.sandbox.db_path, since)

    def writes(self, since: int = 0) -> list[Request]:
        return writes(self.sandbox.db_path, since)

    def mark(self) -> int:
        """How many requests the sandbox has served so far: a ``since`` for later."""
        return len(self.requests())


__all__ = ["TARGET", "Workbench"]

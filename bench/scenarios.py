"""The scenarios of one configuration (dialect, server, latency, size), each beside its floor.

``apply-empty``: apply everything to an empty target; ``noop-cold``: a plan of
the converged target with the spec cache deleted first; ``noop-warm``: the same
plan right after one (the cache primed) with one spec file touched (a comment
added: its hash changes, its content does not); ``apply-1pct``: apply after 1 %
of the tenants changed by one field. Every run starts its server from the
state the scenario needs, saved by the runs before.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench import floor, naive
from bench.bounds import changed_files, spec_files
from bench.server import Running, ServerSpec
from bench.specgen import seed, write_specs

SCENARIOS = ("apply-empty", "noop-cold", "noop-warm", "apply-1pct")
CACHE = Path(".reconciler") / "cache"
"""Where the spec cache lives under the spec root."""


@dataclass(frozen=True)
class Config:
    """One configuration of the bench: what is measured, against what."""

    dialect: str = "reference"
    server: str = "fast"
    latency_ms: int = 0
    tenants: int = 1000
    flags: int = 10
    parallelism: int = 0
    """0: the reconciler's own default (or its adaptive concurrency)."""
    concurrencies: tuple[int, ...] = (1, 4, 8, 16, 32, 64)
    naive: bool = True
    scenarios: tuple[str, ...] = SCENARIOS
    repeat: int = 1

    @property
    def key(self) -> str:
        """The name of this configuration in the committed baseline."""
        return f"{self.dialect}/{self.server}/{self.latency_ms}ms/{self.tenants}x{self.flags}"

    @property
    def uses_naive(self) -> bool:
        return self.naive and self.dialect == "reference"


@dataclass
class Measured:
    """Ours (the best of the repeats) and the floor of one scenario."""

    scenario: str
    ours: dict[str, Any]
    floor: floor.Floor
    floor_requests: int
    notes: list[str] = field(default_factory=list)
    parsed: list[Path] | None = None
    """The spec files the scenario must parse (its bound: see ``bench.bounds``); None: no
    bound is given (an apply from empty may find a warm cache on its repeats)."""


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def child(scenario: str, cfg: Config, specs: Path, server: Running, work: Path) -> dict[str, Any]:
    """One measured run in its own process, with the requests the server saw."""
    record = work / f"{scenario}-{time.monotonic_ns()}.calls.jsonl"
    start = server.log_size()
    args = [sys.executable, "-m", "bench.child", scenario, cfg.dialect, str(specs)]
    args += [server.base_url, str(cfg.parallelism), str(record)]
    out = subprocess.run(args, check=False, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"bench.child {scenario} failed:\n{out.stderr[-3000:]}{out.stdout}")
    result: dict[str, Any] = json.loads(out.stdout)
    result["requests"] = dict(server.requests_since(start))
    result["record"] = str(record)
    return result


class Runner:
    """Runs the scenarios of one configuration in a scratch directory."""

    def __init__(self, cfg: Config, work: Path) -> None:
        self.cfg, self.work = cfg, work
        self.spec = ServerSpec(
            cfg.server, cfg.dialect, cfg.latency_ms, seed(cfg.dialect, cfg.tenants, cfg.flags)
        )

    def best_of(
        self, scenario: str, specs: Path, state: Path, save: Path | None = None, before: Any = None
    ) -> dict[str, Any]:
        """The fastest of ``repeat`` runs, each on a server started from ``state``."""
        best: dict[str, Any] | None = None
        for _ in range(self.cfg.repeat):
            if before is not None:
                before()
            with self.spec.start(state, self.work) as server:
                result = child(scenario, self.cfg, specs, server, self.work)
                if save is not None and not save.exists():
                    server.save(save)
            if best is None or result["wall_s"] < best["wall_s"]:
                best = result
        assert best is not None
        return best

    def floor_of(
        self, state: Path, calls: list[floor.Call], naive_specs: Path | None
    ) -> floor.Floor:
        """The bare loop at each concurrency and the naive run, each from ``state``: the
        fastest of them, over the repeats; a trial slower than the best so far stops."""
        curve: dict[int, float | None] = {c: None for c in self.cfg.concurrencies}
        best: float | None = None
        naive_s: float | None = None
        for _ in range(self.cfg.repeat):
            for c in floor.sweep_order(list(self.cfg.concurrencies), self.cfg.latency_ms):
                with self.spec.start(state, self.work) as server:
                    took = asyncio.run(floor.replay(server.url, calls, c, give_up_after=best))
                if took is not None:
                    curve[c] = round(min(took, curve[c] or took), 3)
                    best = min(took, best or took)
            if naive_specs is not None:
                with self.spec.start(state, self.work) as server:
                    took = naive.reconcile(server.url, naive_specs, give_up_after=best)
                if took is not None:
                    naive_s = round(min(took, naive_s or took), 3)
                    best = min(took, best or took)
        return floor.choose_floor(curve, naive_s)

    def run(self) -> list[Measured]:
        cfg, work = self.cfg, self.work
        specs = write_specs(work / "specs", cfg.tenants, cfg.flags, dialect=cfg.dialect)
        # as written: the warm no-op touches a file, and the 1 % bound compares with these
        shutil.rmtree(work / "specs-as-written", ignore_errors=True)
        shutil.copytree(specs, work / "specs-as-written")
        empty = self.spec.initial_state(work)
        full = work / f"full{self.spec.suffix}"
        naive_specs = specs if cfg.uses_naive else None
        done: list[Measured] = []

        ours = self.best_of("apply-empty", specs, empty, save=full)
        calls = floor.minimal(floor.load(ours["record"]), applying=True)
        if "apply-empty" in cfg.scenarios:
            done.append(
                Measured("apply-empty", ours, self.floor_of(empty, calls, naive_specs), len(calls))
            )
        if "noop-cold" in cfg.scenarios or "noop-warm" in cfg.scenarios:
            done += self._noop(specs, full, naive_specs)
        if "apply-1pct" in cfg.scenarios:
            done.append(self._one_percent(specs, full))
        return done

    def _one_percent(self, specs: Path, full: Path) -> Measured:
        """1 % of the tenants changed, together (a pull request touches one or two files),
        with the spec cache of the converged tree where there is one."""
        cfg = self.cfg
        changed = set(range(max(1, cfg.tenants // 100)))
        tree = write_specs(
            self.work / "specs-1pct", cfg.tenants, cfg.flags, changed, dialect=cfg.dialect
        )
        note = "no spec cache"
        if (specs / CACHE).exists():
            shutil.rmtree(tree / CACHE, ignore_errors=True)
            shutil.copytree(specs / CACHE, tree / CACHE)
            note = "spec cache of the converged tree copied in (warm)"
        ours = self.best_of("apply-1pct", tree, full)
        calls = floor.minimal(floor.load(ours["record"]), applying=True)
        the_floor = self.floor_of(full, calls, tree if cfg.uses_naive else None)
        as_written = self.work / "specs-as-written"
        parsed = changed_files(as_written, tree) if (tree / CACHE).exists() else spec_files(tree)
        return Measured("apply-1pct", ours, the_floor, len(calls), [note], parsed)

    def _noop(self, specs: Path, full: Path, naive_specs: Path | None) -> list[Measured]:
        cache = specs / CACHE

        def cold() -> None:
            shutil.rmtree(cache, ignore_errors=True)

        ours_cold = self.best_of("noop-plan", specs, full, before=cold)
        calls = floor.load(ours_cold["record"])
        read_floor = self.floor_of(full, calls, naive_specs)
        cold_run = Measured("noop-cold", ours_cold, read_floor, len(calls), [], spec_files(specs))
        done = [cold_run]
        if "noop-warm" not in self.cfg.scenarios:
            return done
        if not cache.exists():
            note = "no spec cache: warm is the cold run (no .reconciler/cache/ after a plan)"
            again = Measured("noop-warm", dict(ours_cold), read_floor, len(calls), [note])
            done.append(replace(again, parsed=cold_run.parsed))
            return done
        touched = sorted(specs.rglob("*.yaml"))[-1]
        counter = iter(range(1 << 30))

        def warm() -> None:
            # primed by the run before; one file's hash changes, its content does not
            with touched.open("a") as handle:
                handle.write(f"# touched by the bench ({next(counter)})\n")

        ours_warm = self.best_of("noop-plan", specs, full, before=warm)
        note = f"one spec file touched ({touched.name}); floor shared with noop-cold"
        done.append(Measured("noop-warm", ours_warm, read_floor, len(calls), [note], [touched]))
        return done

    def parallelism_curve(self, values: tuple[int, ...]) -> dict[int, float]:
        """Our apply-empty wall time at each pinned parallelism (``--curve``)."""
        specs = self.work / "specs"
        if not specs.exists():
            write_specs(specs, self.cfg.tenants, self.cfg.flags, dialect=self.cfg.dialect)
        empty = self.spec.initial_state(self.work)
        walls: dict[int, float] = {}
        for p in values:
            pinned = Runner(replace(self.cfg, parallelism=p), self.work)
            walls[p] = pinned.best_of("apply-empty", specs, empty)["wall_s"]
        return walls

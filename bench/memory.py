"""``python -m bench --memory 1000,10000,50000``: peak RSS and time per object as N grows.

At each size (objects, ``reference`` tenants x ``--flags``), an apply from empty
and then a no-op plan, each in its own process against the given server. Per
object: the peak RSS above the process's RSS before any work (the interpreter
and the imports), and the wall time. Flat from 1k to 50k is the target.

The specs are written fresh at each size, so the apply loads them with the spec
cache cold (every file parsed) and writes the cache; the no-op plan then finds
it warm, as a second CLI run would. ``spec_cache`` in each row says which.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.scenarios import CACHE, Config, Runner, load_average
from bench.specgen import object_count, write_specs


def tenants_for(objects: int, flags: int) -> int:
    """The tenant count whose reference tree is closest to ``objects`` objects."""
    best = max(1, objects // (1 + flags))
    return min(
        range(max(1, best - 20), best + 21), key=lambda t: abs(object_count(t, flags) - objects)
    )


def _per_object(run: dict[str, Any]) -> dict[str, Any]:
    n = run["objects"]
    above = run["peak_rss_mb"] - run["baseline_rss_mb"]
    return {
        "wall_s": run["wall_s"],
        "peak_rss_mb": run["peak_rss_mb"],
        "baseline_rss_mb": run["baseline_rss_mb"],
        "kb_per_object": round(above * 1024 / n, 2),
        "us_per_object": round(run["wall_s"] * 1e6 / n, 1),
    }


def measure_memory(sizes: list[int], base: Config, work: Path) -> list[dict[str, Any]]:
    found = []
    for size in sizes:
        cfg = replace(base, tenants=tenants_for(size, base.flags), repeat=1)
        where = work / f"memory-{size}"
        where.mkdir(parents=True, exist_ok=True)
        runner = Runner(cfg, where)
        before = load_average()
        specs = write_specs(where / "specs", cfg.tenants, cfg.flags, dialect=cfg.dialect)
        empty = runner.spec.initial_state(where)
        full = where / f"full{runner.spec.suffix}"
        cold = not (specs / CACHE).exists()
        applied = runner.best_of("apply-empty", specs, empty, save=full)
        warm = (specs / CACHE).exists()
        planned = runner.best_of("noop-plan", specs, full)
        found.append(
            {
                "scenario": "memory",
                "config": cfg.key,
                "objects": applied["objects"],
                "apply-empty": _per_object(applied),
                "noop-plan": _per_object(planned),
                "spec_cache": {
                    "apply-empty": "cold" if cold else "warm",
                    "noop-plan": "warm" if warm else "none",
                },
                "load_avg": [before, load_average()],
            }
        )
    return found

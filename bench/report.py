"""What the bench prints: one JSON record per figure on stdout, a summary on stderr.

A figure that beats its floor is printed, marked ``"valid": false`` and
announced loudly: the floor missed a faster way, so neither number can be
trusted until the sweep covers it.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from typing import Any

from bench.bounds import bound
from bench.scenarios import Config, Measured


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.machine()}",
    }


def record(cfg: Config, m: Measured, load_avg: tuple[float, float]) -> dict[str, Any]:
    """One figure: ours, its floor, their ratio, whether it is valid, and the load."""
    ours = {k: v for k, v in m.ours.items() if k != "record"}
    notes = list(m.notes)
    if cfg.server == "fast":
        notes.append("fast server: the reference API in memory (bench/fast_api.py)")
    if not cfg.uses_naive:
        notes.append("naive: reference only" if cfg.naive else "naive skipped")
    stopped = [c for c, s in m.floor.curve.items() if s is None]
    if stopped:
        notes.append(f"bare loop at c={stopped} stopped once slower than the best")
    valid = not m.floor.beaten_by(ours["wall_s"])
    least = bound(m.floor.seconds, m.parsed) if m.parsed is not None else None
    return {
        "config": cfg.key,
        "scenario": m.scenario,
        "dialect": cfg.dialect,
        "server": cfg.server,
        "latency_ms": cfg.latency_ms,
        "tenants": cfg.tenants,
        "flags": cfg.flags,
        "ratio_to_floor": round(ours["wall_s"] / m.floor.seconds, 2),
        "valid": valid,
        **ours,
        "floor_s": m.floor.seconds,
        "floor_source": m.floor.source,
        "floor_curve": {str(c): s for c, s in sorted(m.floor.curve.items())},
        "naive_s": m.floor.naive_s,
        "bound_s": round(least.seconds, 3) if least else None,
        "bound_ratio": round(least.ratio, 2) if least else None,
        "bound_scan_s": round(least.scan_s, 3) if least else None,
        "bound_files": least.files if least else None,
        "floor_requests": m.floor_requests,
        "repeat": cfg.repeat,
        "load_avg": list(load_avg),
        "machine": machine(),
        "notes": notes,
    }


def invalid_banner(rec: dict[str, Any]) -> str:
    return (
        f"!!! INVALID FIGURE: {rec['config']} {rec['scenario']} took {rec['wall_s']:.3f} s, "
        f"less than its floor {rec['floor_s']:.3f} s ({rec['floor_source']}). A floor that a "
        "run beats is not a floor: widen --floor-concurrency (ours ran at parallelism "
        f"{rec.get('parallelism')}) before trusting either number."
    )


def summary(records: list[dict[str, Any]]) -> str:
    lines = []
    for r in records:
        naive = f"naive {r['naive_s']:.2f}s" if r["naive_s"] is not None else "naive -"
        flag = "" if r["valid"] else "  INVALID"
        least = f"  bound {r['bound_ratio']:5.2f}" if r.get("bound_ratio") is not None else ""
        lines.append(
            f"{r['config']:32s} {r['scenario']:11s} ours {r['wall_s']:8.3f}s  "
            f"floor {r['floor_s']:8.3f}s ({r['floor_source']})  {naive}  "
            f"ours/floor {r['ratio_to_floor']:5.2f}{least}  rss {r['peak_rss_mb']:.0f} MB  "
            f"load {r['load_avg'][0]:.1f}-{r['load_avg'][1]:.1f}{flag}"
        )
    return "\n".join(lines)


def emit(records: list[dict[str, Any]]) -> None:
    for r in records:
        print(json.dumps(r), flush=True)
    print("\n" + summary(records), file=sys.stderr)
    for r in records:
        if not r["valid"]:
            print("\n" + invalid_banner(r), file=sys.stderr)

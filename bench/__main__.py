"""``python -m bench``: reconciler against the floor and a naive reconcile.

Seeds specs of N tenants x F flags, runs three scenarios against the sandbox in
its own process, and prints one JSON record per scenario, then the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import floor, naive
from bench.server import SandboxProcess
from bench.specgen import object_count, write_specs

CONCURRENCIES = (1, 4, 16, 64)


def measure(scenario: str, specs: Path, url: str, parallelism: int, work: Path) -> dict[str, Any]:
    record = work / f"{scenario}.calls.json"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.child",
            scenario,
            str(specs),
            url,
            str(parallelism),
            str(record),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    result["record"] = str(record)
    return result


def best_floor(
    make_db: Any, calls: list[dict[str, Any]], concurrencies: tuple[int, ...]
) -> tuple[float, int, dict[int, float]]:
    """The fastest replay over ``concurrencies``; each on a database as the run found it."""
    curve: dict[int, float] = {}
    for c in concurrencies:
        db = make_db()
        with SandboxProcess(db) as box:
            curve[c] = round(asyncio.run(floor.replay(box.url, calls, c)), 3)
    best = min(curve, key=lambda c: curve[c])
    return curve[best], best, curve


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--flags", type=int, default=10)
    parser.add_argument("--dialect", default="reference", choices=["reference"])
    parser.add_argument("--parallelism", type=int, default=None, help="default: the reconciler's")
    parser.add_argument("--curve", action="store_true", help="also apply at 1, 4, 8, 16, 32, 64")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument(
        "--floor-concurrency",
        default="1,4,16,64",
        help="concurrencies the floor tries, comma-separated (the fastest counts)",
    )
    args = parser.parse_args()
    from reconciler.targets import DEFAULT_PARALLELISM

    parallelism = args.parallelism or DEFAULT_PARALLELISM
    concurrencies = tuple(int(c) for c in args.floor_concurrency.split(","))
    work = Path(tempfile.mkdtemp(prefix="reconciler-bench-"))
    specs = write_specs(work / "specs", args.tenants, args.flags)
    n_objects = object_count(args.tenants, args.flags)
    empty_db = work / "empty.sqlite"
    with SandboxProcess(empty_db):
        pass  # creates the schema
    records = []

    def copy_of(source: Path) -> Any:
        def make() -> Path:
            target = work / f"replay-{random.randrange(10**9)}.sqlite"
            shutil.copy(source, target)
            return target

        return make

    # (2) apply of everything from an empty target
    db = work / "state.sqlite"
    shutil.copy(empty_db, db)
    with SandboxProcess(db) as box:
        start = box.log_size()
        ours = measure("apply-empty", specs, box.url, parallelism, work)
        ours["requests"] = dict(box.requests_since(start))
    snapshot_full = work / "full.sqlite"
    shutil.copy(db, snapshot_full)
    calls = floor.minimal(floor.load(ours["record"]), applying=True)
    floor_s, best_c, curve = best_floor(copy_of(empty_db), calls, concurrencies)
    naive_s = None
    if not args.skip_naive:
        naive_db = copy_of(empty_db)()
        with SandboxProcess(naive_db) as box:
            naive_s = naive.reconcile(box.url, specs)
    records.append(("apply-empty", ours, floor_s, best_c, curve, naive_s, len(calls)))

    # (1) no-op plan on the full target
    with SandboxProcess(db) as box:
        start = box.log_size()
        ours = measure("noop-plan", specs, box.url, parallelism, work)
        ours["requests"] = dict(box.requests_since(start))
    calls = floor.load(ours["record"])
    floor_s, best_c, curve = best_floor(copy_of(snapshot_full), calls, concurrencies)
    naive_s = None
    if not args.skip_naive:
        with SandboxProcess(copy_of(snapshot_full)()) as box:
            naive_s = naive.reconcile(box.url, specs)
    records.append(("noop-plan", ours, floor_s, best_c, curve, naive_s, len(calls)))

    # (3) apply of a 1% change
    changed = set(random.Random(1).sample(range(args.tenants), max(1, args.tenants // 100)))
    specs_1pct = write_specs(work / "specs-1pct", args.tenants, args.flags, rename=changed)
    with SandboxProcess(db) as box:
        start = box.log_size()
        ours = measure("apply-1pct", specs_1pct, box.url, parallelism, work)
        ours["requests"] = dict(box.requests_since(start))
    calls = floor.minimal(floor.load(ours["record"]), applying=True)
    floor_s, best_c, curve = best_floor(copy_of(snapshot_full), calls, concurrencies)
    naive_s = None
    if not args.skip_naive:
        with SandboxProcess(copy_of(snapshot_full)()) as box:
            naive_s = naive.reconcile(box.url, specs_1pct)
    records.append(("apply-1pct", ours, floor_s, best_c, curve, naive_s, len(calls)))

    if args.curve:
        walls = {}
        for p in (1, 2, 4, 8, 16, 32):
            with SandboxProcess(copy_of(empty_db)()) as box:
                walls[p] = measure("apply-empty", specs, box.url, p, work)["wall_s"]
        print(
            json.dumps({"scenario": "parallelism-curve", "apply_empty_wall_s": walls}), flush=True
        )

    for scenario, ours, floor_s, best_c, curve, naive_s, n_calls in records:
        ours.pop("record", None)
        print(
            json.dumps(
                {
                    "scenario": scenario,
                    "tenants": args.tenants,
                    "flags": args.flags,
                    "objects": n_objects,
                    "parallelism": parallelism,
                    "ratio_to_floor": round(ours["wall_s"] / floor_s, 2),
                    "speedup_vs_naive": round(naive_s / ours["wall_s"], 1) if naive_s else None,
                    **ours,
                    "floor_s": floor_s,
                    "floor_concurrency": best_c,
                    "floor_curve": curve,
                    "floor_requests": n_calls,
                    "naive_s": round(naive_s, 3) if naive_s else None,
                }
            ),
            flush=True,
        )
    print("", file=sys.stderr)
    for scenario, ours, floor_s, _, _, naive_s, _ in records:
        ratio = ours["wall_s"] / floor_s
        speed = f"{naive_s / ours['wall_s']:.1f}x faster than naive" if naive_s else "naive skipped"
        print(
            f"{scenario:12s} ours {ours['wall_s']:8.2f}s  floor {floor_s:8.2f}s  "
            f"ours/floor {ratio:5.2f}  {speed}",
            file=sys.stderr,
        )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

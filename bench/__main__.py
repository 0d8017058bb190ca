"""``python -m bench``: reconciler against the floor, at any size, latency, dialect and server.

Writes specs of N tenants x F flags (or what the dialect has instead), runs the
scenarios (apply from empty, no-op plan with a cold and a warm spec cache, a
1 % change) against a server in its own process, and prints one JSON record per
figure, then a summary. Each figure has its floor: the fastest of a bare async
loop sending the same requests at each concurrency and of the naive reconcile;
a figure that beats its floor is marked invalid.

Examples:

    python -m bench --tenants 2000 --flags 5                    # fast server, 0 ms
    python -m bench --tenants 300 --flags 5 --latency-ms 50     # a remote API
    python -m bench --dialect all --server sandbox --tenants 200 --flags 3
    python -m bench --check --tenants 200 --flags 3             # CI: against docs/performance.md
    python -m bench --memory 1000,10000,50000 --imports --only-extras
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import check, report
from bench.scenarios import SCENARIOS, Config, Runner, load_average
from bench.specgen import DIALECTS, SHAPES

DOC = Path(__file__).resolve().parents[1] / "docs" / "performance.md"


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(",") if v.strip())


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--tenants", type=int, default=1000)
    p.add_argument("--flags", type=int, default=10)
    p.add_argument("--dialect", default="reference", choices=[*DIALECTS, "all"])
    p.add_argument(
        "--server",
        default="auto",
        choices=["auto", "fast", "sandbox"],
        help="fast: the reference API in memory (reference only); sandbox: `reconciler sandbox "
        "serve` over SQLite; auto: fast for reference, sandbox for the other dialects",
    )
    p.add_argument("--latency-ms", type=int, default=0, help="delay every request (server side)")
    p.add_argument("--parallelism", type=int, default=0, help="pin it (default: the reconciler's)")
    p.add_argument(
        "--floor-concurrency",
        default="1,4,8,16,32,64",
        help="concurrencies of the bare loop, comma-separated (the fastest counts)",
    )
    p.add_argument("--skip-naive", action="store_true", help="leave the naive run out of the floor")
    p.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated subset")
    p.add_argument("--repeat", type=int, default=0, help="best of N runs (default 1; 3 in --check)")
    p.add_argument("--curve", action="store_true", help="also apply at parallelism 1..32")
    p.add_argument("--check", action="store_true", help="compare with docs/performance.md")
    p.add_argument("--write-baseline", action="store_true", help="commit this run's figures there")
    p.add_argument("--baseline", type=Path, default=DOC, help="the document holding the baseline")
    p.add_argument("--memory", type=_ints, default=(), help="object counts, e.g. 1000,10000,50000")
    p.add_argument("--imports", action="store_true", help="CLI import time per command")
    p.add_argument("--only-extras", action="store_true", help="--memory/--imports alone")
    return p.parse_args(argv)


def configs(args: argparse.Namespace) -> list[Config]:
    dialects = list(DIALECTS) if args.dialect == "all" else [args.dialect]
    scenarios = tuple(s for s in args.scenarios.split(",") if s)
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}")
    found = []
    for dialect in dialects:
        server = args.server
        if server == "auto":
            server = "fast" if dialect == "reference" else "sandbox"
        if server == "fast" and dialect != "reference":
            raise SystemExit(
                f"--server fast speaks the reference API only; {dialect} needs --server sandbox"
            )
        found.append(
            Config(
                dialect=dialect,
                server=server,
                latency_ms=args.latency_ms,
                tenants=args.tenants,
                flags=args.flags,
                parallelism=args.parallelism,
                concurrencies=_ints(args.floor_concurrency),
                naive=not args.skip_naive,
                scenarios=scenarios,
                repeat=args.repeat or (3 if args.check else 1),
            )
        )
    return found


def run_configs(cfgs: list[Config], work: Path, curve: bool) -> list[dict[str, Any]]:
    records = []
    for cfg in cfgs:
        print(f"bench: {cfg.key}: {SHAPES[cfg.dialect]}", file=sys.stderr)
        if cfg.server == "sandbox" and cfg.dialect == "reference":
            print(
                "bench: sandbox mode (SQLite): from-empty runs measure the server too",
                file=sys.stderr,
            )
        where = work / cfg.key.replace("/", "_")
        where.mkdir(parents=True)
        before = load_average()
        runner = Runner(cfg, where)
        for measured in runner.run():
            records.append(report.record(cfg, measured, (before, load_average())))
        if curve:
            walls = runner.parallelism_curve((1, 2, 4, 8, 16, 32))
            print(json.dumps({"config": cfg.key, "scenario": "parallelism-curve", "walls": walls}))
    return records


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    work = Path(tempfile.mkdtemp(prefix="reconciler-bench-"))
    code = 0
    try:
        cfgs = configs(args)
        if args.imports:
            from bench.imports import measure_imports

            found = measure_imports(work / "imports")
            print(json.dumps({"scenario": "imports", **found, "load_avg": load_average()}))
        if args.memory:
            from bench.memory import measure_memory

            server = "sandbox" if args.server == "sandbox" else "fast"
            base = Config(
                server=server,
                latency_ms=args.latency_ms,
                flags=args.flags,
                parallelism=args.parallelism,
            )
            for row in measure_memory(list(args.memory), base, work / "memory"):
                print(json.dumps(row), flush=True)
        if args.only_extras:
            return 0
        records = run_configs(cfgs, work, args.curve)
        report.emit(records)
        if args.check:
            code = _check(args.baseline, records)
        if args.write_baseline:
            args.baseline.write_text(check.write_baseline(args.baseline.read_text(), records))
            print(f"bench: figures written to {args.baseline}", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return code


def _check(doc: Path, records: list[dict[str, Any]]) -> int:
    committed = check.read_baseline(doc.read_text())
    findings = check.compare(
        records,
        committed["figures"],
        noise=float(committed.get("noise", check.NOISE)),
        slack_s=float(committed.get("slack_s", check.SLACK_S)),
    )
    print("\nbench --check against " + str(doc), file=sys.stderr)
    for finding in findings:
        print("  " + finding.line(), file=sys.stderr)
    code = check.exit_code(findings)
    verdicts = {0: "no regression", 1: "REGRESSION or invalid figure", 2: "no committed figure"}
    print(f"bench --check: {verdicts[code]}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())

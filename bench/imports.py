"""CLI import time and start-up: ``reconciler --version`` against ``validate``, ``plan``, ``apply``.

Each command runs for real (a tree of 3 tenants x 1 flag; plan and apply against
the fast server, apply from an empty one every time) under ``python -X
importtime``, a few times; the best run counts. The import time is the sum of
the top-level imports' cumulative times minus those of ``python -c pass``; the
run also says which heavy packages were imported (the target: nothing from the
sandbox, rich or jinja2 unless used).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.server import TOKEN, ServerSpec
from bench.specgen import write_specs

HEAVY = (
    "rich",
    "jinja2",
    "reconciler.sandbox",
    "fastapi",
    "starlette",
    "uvicorn",
    "deepdiff",
    "pydantic",
    "httpx",
    "yaml",
)
_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)\s*$")


def parse_importtime(stderr: str) -> tuple[float, set[str]]:
    """Milliseconds of all top-level imports, and every module imported."""
    total_us, modules = 0, set()
    for line in stderr.splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        _, cumulative, indent, name = match.groups()
        modules.add(name)
        if len(indent) == 1:  # top level: one space after the bar
            total_us += int(cumulative)
    return total_us / 1000, modules


def _run(args: list[str], env: dict[str, str]) -> tuple[float, float, set[str]]:
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    wall_ms = (time.perf_counter() - started) * 1000
    if out.returncode not in (0, 2):  # plan exits 2 with --detailed-exitcode only
        raise RuntimeError(f"{args}: exit {out.returncode}\n{out.stderr[-2000:]}")
    import_ms, modules = parse_importtime(out.stderr)
    return wall_ms, import_ms, modules


def measure_imports(work: Path, repeat: int = 5) -> dict[str, Any]:
    specs = write_specs(work / "import-specs", 3, 1)
    env = {**os.environ, "RECONCILER_TOKEN": TOKEN, "RECONCILER_JOURNAL": str(work / "j.jsonl")}
    cli = ["-m", "reconciler"]
    spec = ServerSpec("fast", "reference")
    empty = spec.initial_state(work)
    results: dict[str, Any] = {}
    bare = min(_run(["-c", "pass"], env)[1] for _ in range(repeat))
    commands = {
        "--version": ["--version"],
        "validate": ["validate", str(specs)],
        "plan": ["plan", str(specs), "--api", "reference"],
        "apply": ["apply", str(specs), "--api", "reference", "--auto-approve"],
    }
    for name, args in commands.items():
        best: tuple[float, float, set[str]] | None = None
        for _ in range(repeat):
            if name in ("plan", "apply"):
                with spec.start(empty, work) as server:
                    got = _run([*cli, *args, "--url", server.base_url], env)
            else:
                got = _run([*cli, *args], env)
            if best is None or got[1] < best[1]:
                best = got
        assert best is not None
        wall_ms, import_ms, modules = best
        results[name] = {
            "import_ms": round(import_ms - bare, 1),
            "wall_ms": round(wall_ms, 1),
            "heavy_imported": [h for h in HEAVY if h in modules],
        }
    results["python -c pass"] = {"import_ms": round(bare, 1)}
    return results

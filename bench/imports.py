"""CLI import time and start-up: ``import reconciler.cli``, ``--version``, ``--help``,
``validate``, ``plan``, ``apply``.

Each command runs for real (a tree of 3 tenants x 1 flag; plan and apply against
the fast server, apply from an empty one every time) under ``python -X
importtime``, a few times; the best run counts. The import time is the sum of
the top-level imports' cumulative times minus those of ``python -c pass``;
``cli_ms`` is the CLI's own import (``reconciler.cli`` cumulative: what every
command pays before it runs, the issue's 100 ms target), ``top`` the largest
top-level imports, and the run says which heavy packages were imported (the
target: nothing from the sandbox, rich or jinja2 unless used).
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
    tops = top_level(stderr)
    modules = {m.group(4) for m in map(_LINE.match, stderr.splitlines()) if m is not None}
    return sum(tops.values()) / 1000, modules


def top_level(stderr: str) -> dict[str, int]:
    """Microseconds of each top-level import (its cumulative time), by module."""
    tops: dict[str, int] = {}
    for line in stderr.splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        _, cumulative, indent, name = match.groups()
        if len(indent) == 1:  # top level: one space after the bar
            tops[name] = tops.get(name, 0) + int(cumulative)
    return tops


def cumulative_ms(stderr: str, module: str) -> float | None:
    """The cumulative milliseconds of ``module``'s import, wherever it was imported."""
    for line in stderr.splitlines():
        match = _LINE.match(line)
        if match is not None and match.group(4) == module:
            return int(match.group(2)) / 1000
    return None


class _Run:
    """One command's run under ``-X importtime``."""

    def __init__(self, wall_ms: float, stderr: str) -> None:
        self.wall_ms = wall_ms
        self.import_ms, self.modules = parse_importtime(stderr)
        self.cli_ms = cumulative_ms(stderr, "reconciler.cli")
        tops = sorted(top_level(stderr).items(), key=lambda item: -item[1])
        self.top = {name: round(us / 1000, 1) for name, us in tops[:TOP] if name not in _STARTUP}


TOP = 6
_STARTUP = ("site", "encodings", "_frozen_importlib_external", "io", "zipimport")
"""Imported by every interpreter before any code runs: not the command's."""


def _run(args: list[str], env: dict[str, str]) -> _Run:
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
    return _Run(wall_ms, out.stderr)


def measure_imports(work: Path, repeat: int = 5) -> dict[str, Any]:
    specs = write_specs(work / "import-specs", 3, 1)
    env = {**os.environ, "RECONCILER_TOKEN": TOKEN, "RECONCILER_JOURNAL": str(work / "j.jsonl")}
    cli = ["-m", "reconciler"]
    spec = ServerSpec("fast", "reference")
    empty = spec.initial_state(work)
    results: dict[str, Any] = {}
    bare = min(_run(["-c", "pass"], env).import_ms for _ in range(repeat))
    commands = {
        "import reconciler.cli": [],
        "--version": ["--version"],
        "--help": ["--help"],
        "validate": ["validate", str(specs)],
        "plan": ["plan", str(specs), "--api", "reference"],
        "apply": ["apply", str(specs), "--api", "reference", "--auto-approve"],
    }
    for name, args in commands.items():
        best: _Run | None = None
        for _ in range(repeat):
            if name in ("plan", "apply"):
                with spec.start(empty, work) as server:
                    got = _run([*cli, *args, "--url", server.base_url], env)
            elif not args:
                got = _run(["-c", "import reconciler.cli"], env)
            else:
                got = _run([*cli, *args], env)
            if best is None or got.import_ms < best.import_ms:
                best = got
        assert best is not None
        results[name] = {
            "import_ms": round(best.import_ms - bare, 1),
            "cli_ms": best.cli_ms,
            "wall_ms": round(best.wall_ms, 1),
            "top": best.top,
            "heavy_imported": [h for h in HEAVY if h in best.modules],
        }
    results["python -c pass"] = {"import_ms": round(bare, 1)}
    return results

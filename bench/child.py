"""One measured reconciler run, in its own process so its peak RSS is its own.

``python -m bench.child SCENARIO DIALECT SPECS URL PARALLELISM RECORD.json``
(PARALLELISM ``0``: the reconciler's default) prints one JSON object: wall
time (from after the imports: spec loading, reading, planning, writes and the
verifying re-read), engine CPU (load + diff + ordering) apart from HTTP waiting,
the peak RSS and the RSS before any work (the interpreter and the imports), and
writes every request it made (with bodies and the ids the server made) to
RECORD.json so the floor can replay exactly them.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from bench.floor import minted
from reconciler import core
from reconciler.targets import Target

TOKEN = "bench-token"


def _rss_mb() -> float:
    """This process's peak RSS. ``ru_maxrss`` is not: Linux keeps the parent's high-water
    mark across a vfork and exec, so a child of a big bench process reports the bench's
    size. ``VmHWM`` belongs to the process's own memory map."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    line = next(row for row in status.splitlines() if row.startswith("VmHWM:"))
    return round(int(line.split()[1]) / 1024, 1)


def _recorder(sink: Any) -> Any:
    """Writes each request as a JSON line as it completes, so recording adds no memory."""

    async def on_response(response: httpx.Response) -> None:
        await response.aread()
        request = response.request
        body = request.content.decode() if request.content else None
        text = response.text if request.method != "GET" else ""
        record = {
            "method": request.method,
            "url": str(request.url),
            "body": body,
            "status": response.status_code,
            "minted": minted(request.method, str(request.url), body, text),
        }
        sink.write(json.dumps(record) + "\n")

    return on_response


def _hooks(session: Any) -> list[Any]:
    """The response hooks of the session's httpx client (private: fail loudly if it moved)."""
    client = getattr(session.client, "_client", None)
    if not isinstance(client, httpx.AsyncClient):
        raise SystemExit("bench.child: the session's httpx client moved; update _hooks()")
    hooks: list[Any] = client.event_hooks["response"]
    return hooks


async def run(
    scenario: str, dialect: str, specs: Path, url: str, parallelism: int, record: Path
) -> dict[str, Any]:
    baseline_rss = _rss_mb()
    started = time.perf_counter()
    cpu0 = time.process_time()
    desired, _ = core.load(specs)  # what plan and apply do: validated, GC paused
    load_cpu = time.process_time() - cpu0
    target = Target(name="bench", dialect=dialect, url=url, token=TOKEN)
    if parallelism:  # else the reconciler's own default, whatever it becomes
        target = replace(target, parallelism=parallelism)
    sink = record.open("w")
    async with core.open_session(target) as session:
        _hooks(session).append(_recorder(sink))
        read_started = time.perf_counter()
        live = await core.read_live(session)
        read_wall = time.perf_counter() - read_started
        cpu1 = time.process_time()
        plan = session.planner().plan(desired, live)  # the planner plan and apply use
        plan_cpu = time.process_time() - cpu1
        if scenario.startswith("apply"):
            planned = core.PlanRun(target=target, desired=desired, live=live, plan=plan)
            applied = await core.apply_planned(session, planned)  # writes, then a verifying read
            if not applied.ok:
                failed = applied.result.failed if applied.result else {}
                raise SystemExit(f"apply failed: {list(failed.items())[:3]}")
            left = len(applied.remaining.changes) if applied.remaining is not None else None
            if left:
                raise SystemExit(f"apply did not converge: {left} changes left")
    sink.close()
    wall = time.perf_counter() - started
    return {
        "wall_s": round(wall, 3),
        "read_wall_s": round(read_wall, 3),
        "engine_cpu_s": round(load_cpu + plan_cpu, 3),
        "load_cpu_s": round(load_cpu, 3),
        "diff_order_cpu_s": round(plan_cpu, 3),
        "objects": len(desired),
        "changes": len(plan.changes),
        "peak_rss_mb": _rss_mb(),
        "baseline_rss_mb": baseline_rss,
        "parallelism": target.parallelism,
    }


def main() -> None:
    scenario, dialect, specs, url, parallelism, record = sys.argv[1:7]
    os.environ.setdefault("RECONCILER_JOURNAL", str(Path(record).with_suffix(".journal")))
    result = asyncio.run(run(scenario, dialect, Path(specs), url, int(parallelism), Path(record)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()

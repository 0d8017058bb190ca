"""One measured reconciler run, in its own process so its peak RSS is its own.

``python -m bench.child SCENARIO SPECS URL PARALLELISM RECORD.json`` prints one
JSON object: wall time, engine CPU (load + diff + ordering) apart from HTTP
waiting, peak RSS, and writes every request it made (with bodies and the ids
the server answered) to RECORD.json so the floor can replay exactly them.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from reconciler import core
from reconciler.targets import Target


def _recorder(sink: Any) -> Any:
    """Writes each request as a JSON line as it completes, so recording adds no memory."""

    async def on_response(response: httpx.Response) -> None:
        await response.aread()
        request = response.request
        answer_id = None
        if request.method == "POST" and response.headers.get("content-type", "").startswith(
            "application/json"
        ):
            body = response.json()
            if isinstance(body, dict):
                answer_id = body.get("id")
        record = {
            "method": request.method,
            "url": str(request.url),
            "body": request.content.decode() if request.content else None,
            "id": answer_id,
        }
        sink.write(json.dumps(record) + "\n")

    return on_response


async def run(
    scenario: str, specs: Path, url: str, parallelism: int, record: Path
) -> dict[str, Any]:
    started = time.perf_counter()
    cpu0 = time.process_time()
    desired, _ = core.load(specs)  # what plan and apply do: validated, GC paused
    load_cpu = time.process_time() - cpu0
    target = Target(
        name="bench", dialect="reference", url=url, token="bench-token", parallelism=parallelism
    )
    sink = record.open("w")
    async with core.open_session(target) as session:
        session.client._client.event_hooks["response"].append(_recorder(sink))
        read_started = time.perf_counter()
        live = await core.read_live(session)
        read_wall = time.perf_counter() - read_started
        cpu1 = time.process_time()
        plan = session.planner().plan(desired, live)  # the planner plan and apply use
        plan_cpu = time.process_time() - cpu1
        if scenario != "noop-plan":
            planned = core.PlanRun(target=target, desired=desired, live=live, plan=plan)
            applied = await core.apply_planned(session, planned)  # writes, then a verifying read
            if not applied.ok:
                failed = applied.result.failed if applied.result else {}
                raise SystemExit(f"apply failed: {list(failed.items())[:3]}")
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
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    scenario, specs, url, parallelism, record = sys.argv[1:6]
    os.environ.setdefault("RECONCILER_JOURNAL", str(Path(record).with_suffix(".journal")))
    result = asyncio.run(run(scenario, Path(specs), url, int(parallelism), Path(record)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()

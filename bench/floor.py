"""The floor: the same requests, fired by a bare async httpx loop at its best concurrency.

Replays a recorded run. Writes that create objects get new ids on a fresh
server, so ids the recorded run received are mapped to the ids the replay
receives, and a request waits for the requests whose ids it mentions: the same
dependency order any client must respect, and nothing else.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

import httpx

from bench.server import TOKEN


def minimal(calls: list[dict[str, Any]], applying: bool) -> list[dict[str, Any]]:
    """The calls a reconcile needs: a run's verifying re-read (after its last write) is extra."""
    if not applying:
        return calls
    last_write = max((i for i, c in enumerate(calls) if c["method"] != "GET"), default=-1)
    return calls[: last_write + 1]


ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _dependencies(calls: list[dict[str, Any]]) -> list[set[int]]:
    made = {str(c["id"]): i for i, c in enumerate(calls) if c.get("id")}
    deps: list[set[int]] = []
    for i, call in enumerate(calls):
        text = call["url"] + (call["body"] or "")
        deps.append({j for old in ID.findall(text) if (j := made.get(old, i)) < i})
    return deps


async def replay(base: str, calls: list[dict[str, Any]], concurrency: int) -> float:
    """Wall time to send ``calls`` against ``base`` with at most ``concurrency`` in flight."""
    deps = _dependencies(calls) if any(c.get("id") for c in calls) else [set() for _ in calls]
    new_ids: dict[str, str] = {}
    done = [asyncio.Event() for _ in calls]
    limit = asyncio.Semaphore(concurrency)

    async with httpx.AsyncClient(
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        timeout=60,
    ) as client:

        async def one(i: int) -> None:
            for j in deps[i]:
                await done[j].wait()
            call = calls[i]

            def swap(match: re.Match[str]) -> str:
                return new_ids.get(match.group(0), match.group(0))

            url = ID.sub(swap, call["url"])
            body = ID.sub(swap, call["body"]) if call["body"] else None
            path = url.split("/", 3)[3]
            async with limit:
                response = await client.request(call["method"], f"{base}/{path}", content=body)
            if call.get("id") and response.status_code < 300:
                new_ids[str(call["id"])] = str(response.json()["id"])
            done[i].set()

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(len(calls))))
        return time.perf_counter() - started


def load(path: str) -> list[dict[str, Any]]:
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]

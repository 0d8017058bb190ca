"""The floor: the fastest known way to send what a run needed, and nothing else.

A bare async httpx loop replays a run's recorded requests at each concurrency
of a sweep; the naive reconcile (:mod:`bench.naive`) is a candidate too. The
floor is the fastest of them all. No result may beat it: one that does means
the floor missed a faster way, and the figure is marked invalid.

Creates get new ids on replay, so the ids a recorded answer held and its
request did not (uuids anywhere; whole numbers under ``id`` keys, used as path
segments after the collection they were made in) are mapped to the ids the
replay's answer holds in the same places, and a request waits for the
requests whose ids it mentions: the order any client must respect, and nothing
else. A trial slower than the best so far is stopped: it cannot be the floor.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from bench.server import TOKEN

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
Call = dict[str, Any]
"""A recorded request: method, url, body (text or None) and ``minted`` (ids its answer made)."""


# ---- choosing the floor (pure) -------------------------------------------------------------


@dataclass(frozen=True)
class Floor:
    """The fastest candidate, and every candidate's time (None: stopped, slower than the best)."""

    seconds: float
    source: str
    curve: dict[int, float | None]
    naive_s: float | None

    def beaten_by(self, seconds: float) -> bool:
        """Whether a result is faster than the floor: then the figure is not valid."""
        return seconds < self.seconds


def choose_floor(curve: Mapping[int, float | None], naive_s: float | None) -> Floor:
    """The fastest of the bare loop at each concurrency and the naive run."""
    candidates = {f"bare c={c}": s for c, s in curve.items() if s is not None}
    if naive_s is not None:
        candidates["naive"] = naive_s
    if not candidates:
        raise ValueError("no floor candidate finished")
    source = min(candidates, key=lambda name: (candidates[name], name))
    return Floor(round(candidates[source], 3), source, dict(curve), naive_s)


def sweep_order(concurrencies: list[int], latency_ms: int = 0) -> list[int]:
    """The order to try them in, likely fastest first so the slow ones stop early: without
    latency a local server is fastest with few requests in flight (lowest first); with
    latency, the middle first, then outwards. Every one is tried: only the cost moves."""
    ordered = sorted(set(concurrencies))
    if latency_ms == 0:
        return ordered
    middle = len(ordered) // 2
    return sorted(ordered, key=lambda c: (abs(ordered.index(c) - middle), c))


def minimal(calls: list[Call], applying: bool) -> list[Call]:
    """The calls a reconcile needs: a run's verifying re-read (after its last write) is extra."""
    if not applying:
        return calls
    last_write = max((i for i, c in enumerate(calls) if c["method"] != "GET"), default=-1)
    return calls[: last_write + 1]


# ---- ids made by the server ----------------------------------------------------------------


def _int_ids(answer: Any, depth: int = 2) -> Iterator[int]:
    if not isinstance(answer, dict) or depth < 0:
        return
    for key, value in answer.items():
        if key == "id" and isinstance(value, int) and not isinstance(value, bool):
            yield value
        elif isinstance(value, dict):
            yield from _int_ids(value, depth - 1)


def minted(method: str, url: str, body: str | None, answer_text: str) -> list[str]:
    """The ids an answer to a write holds and its request did not: what the server made."""
    if method == "GET" or not answer_text:
        return []
    sent = url + (body or "")
    found = [u for u in UUID.findall(answer_text) if u not in sent]
    with contextlib.suppress(ValueError):
        found += [str(n) for n in _int_ids(json.loads(answer_text))]
    return list(dict.fromkeys(found))


def _path(url: str) -> str:
    """The path and query of a recorded URL (the origin differs on replay)."""
    return "/" + url.split("/", 3)[3] if url.count("/") >= 3 else url


def _collection(url: str) -> str:
    return _path(url).split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


class IdMap:
    """Recorded ids to replayed ones, and which call made each."""

    def __init__(self, calls: list[Call]) -> None:
        self.made: dict[str, int] = {}
        self.made_int: dict[tuple[str, str], int] = {}
        for i, call in enumerate(calls):
            for ident in call.get("minted") or ():
                if UUID.fullmatch(ident):
                    self.made.setdefault(ident, i)
                else:
                    self.made_int.setdefault((_collection(call["url"]), ident), i)
        self.new: dict[str, str] = {}
        self.new_int: dict[tuple[str, str], str] = {}

    def _int_segments(self, path: str) -> Iterator[tuple[int, tuple[str, str]]]:
        parts = path.split("?", 1)[0].split("/")
        for k in range(1, len(parts)):
            if parts[k].isdigit() and (parts[k - 1], parts[k]) in self.made_int:
                yield k, (parts[k - 1], parts[k])

    def dependencies(self, calls: list[Call]) -> list[set[int]]:
        deps: list[set[int]] = []
        for i, call in enumerate(calls):
            text = call["url"] + (call["body"] or "")
            found = {self.made.get(u, i) for u in UUID.findall(text)}
            found |= {self.made_int[key] for _, key in self._int_segments(_path(call["url"]))}
            deps.append({j for j in found if j < i})
        return deps

    def swap(self, call: Call) -> tuple[str, str | None]:
        """The call's path and body with every recorded id replaced by its replayed one."""

        def one(match: re.Match[str]) -> str:
            return self.new.get(match.group(0), match.group(0))

        path = UUID.sub(one, _path(call["url"]))
        if self.made_int:
            head, sep, query = path.partition("?")
            parts = head.split("/")
            for k, key in self._int_segments(head):
                parts[k] = self.new_int.get(key, parts[k])
            path = "/".join(parts) + sep + query
        body = UUID.sub(one, call["body"]) if call["body"] else None
        return path, body

    def learn(self, call: Call, path: str, body: str | None, answer_text: str) -> None:
        old = call.get("minted") or []
        new = minted(call["method"], path, body, answer_text)
        for before, after in zip(old, new, strict=False):
            if UUID.fullmatch(before):
                self.new[before] = after
            else:
                self.new_int[(_collection(call["url"]), before)] = after


# ---- the bare loop -------------------------------------------------------------------------


async def replay(
    root: str, calls: list[Call], concurrency: int, give_up_after: float | None = None
) -> float | None:
    """Wall time to send ``calls`` to the server at ``root`` with at most ``concurrency`` in
    flight; None if it took longer than ``give_up_after`` seconds (stopped there)."""
    ids = IdMap(calls)
    deps = ids.dependencies(calls) if ids.made or ids.made_int else [set() for _ in calls]
    done = [asyncio.Event() for _ in calls]
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        timeout=120,
    ) as client:

        async def one(i: int) -> None:
            for j in deps[i]:
                await done[j].wait()
            call = calls[i]
            path, body = ids.swap(call)
            async with limit:
                response = await client.request(call["method"], root + path, content=body)
            if call.get("minted"):
                ids.learn(call, path, body, response.text)
            done[i].set()

        started = time.perf_counter()
        work = asyncio.gather(*(one(i) for i in range(len(calls))))
        try:
            await asyncio.wait_for(work, give_up_after)
        except TimeoutError:
            return None
        return time.perf_counter() - started


def load(path: str) -> list[Call]:
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]

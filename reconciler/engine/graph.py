"""In which order changes may run, so every call finds what it refers to.

Forward changes (create, update, resume) follow the references of the desired
object: a subscription plan before the tenants on it, a parent before its
children. Removals (suspend, delete) follow the references of the live object
the other way: everything that still points at X changes before X goes. A change also
waits for what its ``waits_for`` names (a guard's order, set by the planner).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from graphlib import CycleError, TopologicalSorter

from reconciler.errors import PlanError
from reconciler.model import (
    DESTRUCTIVE,
    KIND_ORDER,
    Change,
    ResourceId,
    references,
)

_KIND_INDEX = {kind: i for i, kind in enumerate(KIND_ORDER)}


def tie_key(change: Change) -> tuple[int, int, str, int]:
    """Order among changes free to run: removals first (reviewed first, and they
    free names and quota), in reverse kind order; then forward changes in kind
    order; then key (kind index last only to keep the order total)."""
    index = _KIND_INDEX[change.id.kind]
    if change.is_destructive:
        return 0, len(KIND_ORDER) - 1 - index, change.id.key, index
    return 1, index, change.id.key, index


def dependencies(changes: list[Change]) -> dict[ResourceId, set[ResourceId]]:
    """Predecessors of every change (every change is a key, maybe with no predecessors)."""
    preds = predecessors(changes)
    return {c.id: {changes[i].id for i in before} for c, before in zip(changes, preds, strict=True)}


def predecessors(changes: list[Change]) -> list[set[int]]:
    """Predecessors by position in ``changes``: what ``dependencies`` says, as indexes.

    Linear in changes and references: a reverse index of live references
    answers "who still points at X" without a scan per removal, and integer
    nodes keep graphlib fast on 100,000 changes.
    """
    index: dict[ResourceId, int] = {}
    for i, change in enumerate(changes):
        if index.setdefault(change.id, i) != i:
            raise PlanError(f"{change.id} has more than one change in the plan")

    pointing_at: defaultdict[ResourceId, set[int]] = defaultdict(set)
    for i, change in enumerate(changes):
        if change.live is not None:
            for ref in references(change.live):
                pointing_at[ref].add(i)

    preds: list[set[int]] = []
    for i, change in enumerate(changes):
        before: set[int] = set()
        if change.action in DESTRUCTIVE:
            before = pointing_at.get(change.id, set()) - {i}
        elif change.desired is not None:
            for ref in references(change.desired):
                j = index.get(ref)
                if j is not None and j != i and changes[j].action not in DESTRUCTIVE:
                    before.add(j)
        for ref in change.waits_for:
            j = index.get(ref)
            if j is not None and j != i:
                before.add(j)
        preds.append(before)
    return preds


def sorter(changes: list[Change]) -> TopologicalSorter[int]:
    """A prepared sorter over positions in ``changes``; a cycle raises :class:`PlanError`."""
    graph: TopologicalSorter[int] = TopologicalSorter()
    for i, before in enumerate(predecessors(changes)):
        graph.add(i, *before)
    try:
        graph.prepare()
    except CycleError as exc:
        cycle: list[int] = exc.args[1]
        # graphlib lists each node after the one that waits for it: reversed,
        # every arrow reads "waits for".
        names = " → ".join(str(changes[i].id) for i in reversed(cycle))
        raise PlanError(f"the changes wait for each other in a cycle: {names}") from None
    return graph


def order(changes: list[Change]) -> list[Change]:
    """A deterministic topological order: among ready changes the smallest ``tie_key``."""
    graph = sorter(changes)
    ready: list[tuple[tuple[int, int, str, int], int]] = []
    ordered: list[Change] = []
    while graph.is_active():
        for i in graph.get_ready():
            heapq.heappush(ready, (tie_key(changes[i]), i))
        _, i = heapq.heappop(ready)
        ordered.append(changes[i])
        graph.done(i)
    return ordered

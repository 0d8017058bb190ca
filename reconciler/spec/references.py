"""Checks across documents: unique natural keys, references that resolve, no cycles.

These need every document at once, so they run after each one was validated
on its own; the engine can then rely on every reference pointing somewhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from reconciler.errors import SourceLocation, SpecProblem
from reconciler.model import ResourceId
from reconciler.spec.models import AnySpec, OperatorSpec, TenantSpec
from reconciler.spec.names import spelled
from reconciler.spec.problems import did_you_mean
from reconciler.spec.yamlload import Document


@dataclass(frozen=True)
class Declared:
    """A document's kind and natural key, read even if the rest of it is invalid."""

    kind: str
    key: str
    """The key as compared: Unicode NFC, and lower case for an email."""
    location: SourceLocation
    written: str = ""
    """The key as the document wrote it."""
    external: bool = False
    """Declared with ``managed: false``: referred to, not managed."""


def duplicate_problems(declared: Iterable[Declared]) -> list[SpecProblem]:
    """Each later definition of a kind and key (in file order), pointing at the first."""
    first: dict[tuple[str, str], Declared] = {}
    problems = []
    for item in declared:
        seen = first.setdefault((item.kind, item.key), item)
        if seen.location != item.location:
            message = f"{item.kind} '{item.key}' is also defined at {seen.location}"
            if item.written.lower() != seen.written.lower():
                message += (
                    f": '{spelled(item.written)}' here and '{spelled(seen.written)}' there "
                    "are the same name in Unicode NFC, the form names are compared in"
                )
            if item.external != seen.external:
                message += "; one of them declares it external ('managed: false'): keep one"
            problems.append(SpecProblem(item.location, message))
    return problems


def dangling_problems(
    specs: Iterable[tuple[AnySpec, Document]],
    subscription_plans: set[str],
    tenants: set[str],
    complete: bool = True,
) -> list[SpecProblem]:
    """References to a subscription plan or tenant that no document defines.

    ``complete`` is false when some file could not be read: the target may be
    there, and the message says so.
    """
    unread = "" if complete else "; it may be in a file that could not be read"
    problems = []
    for spec, doc in specs:
        refs: list[tuple[str, str | None, str, set[str]]] = []
        if isinstance(spec, TenantSpec):
            refs = [
                ("plan", spec.plan, "plan", subscription_plans),
                ("parent", spec.parent, "tenant", tenants),
            ]
            owner = f"Tenant '{spec.name}'"
        elif isinstance(spec, OperatorSpec):
            refs = [("tenant", spec.tenant, "tenant", tenants)]
            owner = f"Operator '{spec.email}'"
        for field, target, what, known in refs:
            if target is None or target in known:
                continue
            own = {spec.name} if field == "parent" else set()  # not its own parent
            hint = did_you_mean(target, sorted(known - own))
            if not hint and not unread:
                hint = (
                    "; if it exists live and is managed elsewhere, declare it "
                    "(a document with 'managed: false', or 'external:' in reconciler.yaml)"
                )
            message = f"{owner} references unknown {what} '{target}' in '{field}'{hint}{unread}"
            problems.append(SpecProblem(doc.locate((field,)), message))
    return problems


def external_conflicts(
    declared: Iterable[Declared], external: Mapping[ResourceId, SourceLocation | None]
) -> list[SpecProblem]:
    """Documents that manage an object ``reconciler.yaml`` declares external: one or the other."""
    by_name = {(str(rid.kind.value), rid.key): where for rid, where in external.items()}
    problems = []
    for item in declared:
        if item.external or (item.kind, item.key) not in by_name:
            continue
        where = by_name[(item.kind, item.key)]
        at = f" at {where}" if where is not None else ""
        problems.append(
            SpecProblem(
                item.location,
                f"{item.kind} '{item.key}' is declared external in reconciler.yaml{at}: "
                "a spec cannot also define it; remove one of the two",
            )
        )
    return problems


def cycle_problems(tenants: Iterable[tuple[TenantSpec, Document]]) -> list[SpecProblem]:
    """Tenants that are their own ancestor: one problem per cycle, naming it."""
    parent: dict[str, str] = {}
    where: dict[str, SourceLocation] = {}
    for spec, doc in tenants:
        if spec.parent is not None:
            parent[spec.name] = spec.parent
            where[spec.name] = doc.locate(("parent",))
    walked: dict[str, int] = {}
    problems = []
    for walk, start in enumerate(sorted(parent)):
        path: list[str] = []
        node = start
        while node in parent and node not in walked:
            walked[node] = walk
            path.append(node)
            node = parent[node]
        if walked.get(node) != walk or node not in path:
            continue  # reached a root, or a tenant an earlier walk already settled
        cycle = path[path.index(node) :]
        first = min(cycle)
        cycle = cycle[cycle.index(first) :] + cycle[: cycle.index(first)]
        if len(cycle) == 1:
            message = f"Tenant '{first}' is its own parent"
        else:
            message = "tenant parents form a cycle: " + " → ".join([*cycle, first])
        problems.append(SpecProblem(where[first], message))
    return problems

"""External references in the spec language: ``managed: false`` and ``external:``.

A team that manages its own tenants on a shared platform refers to plans and
parent tenants that someone else manages. It declares them, and references to
them resolve like references to any document:

- a document with ``managed: false`` holds only its key (``kind: Plan``,
  ``name: enterprise``); any other field is an error at that field;
- ``external: [Plan/enterprise, Tenant/holding]`` in ``reconciler.yaml``, at
  the top level or per target (``targets.<name>.external``).

The engine checks each against the live state and never changes it
(:mod:`reconciler.engine.external`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from reconciler.errors import SourceLocation, SpecProblem
from reconciler.model import Kind, Resource, ResourceId
from reconciler.rules import RuleError, rule_id
from reconciler.spec.models import EXTERNAL_FIELDS, EXTERNAL_KINDS, ExternalSpec
from reconciler.spec.problems import validation_problems
from reconciler.spec.yamlload import Document, YamlPath

External = dict[ResourceId, SourceLocation | None]
"""Declared external objects, each with where it was declared."""


def external_document(
    doc: Document, data: dict[str, Any]
) -> tuple[ExternalSpec | None, list[SpecProblem]]:
    """A ``managed: false`` document as an :class:`ExternalSpec`, or its problems.

    Every field beyond the key is refused where it is written: a document that
    does not manage its object cannot say anything else about it.
    """
    problems = []
    kind = data.get("kind")
    if kind not in EXTERNAL_KINDS:
        problems.append(
            SpecProblem(
                doc.locate(("managed",)),
                f"'managed: false' is for objects other documents refer to "
                f"({', '.join(EXTERNAL_KINDS)}), not {kind}; to keep one from being "
                "pruned, use 'protect'",
            )
        )
        return None, problems
    for key in data:
        if key not in EXTERNAL_FIELDS:
            problems.append(
                SpecProblem(
                    doc.locate((key,), key=True),
                    f"'{key}' cannot be set on a document with 'managed: false': it only "
                    "names a live object managed elsewhere "
                    f"(allowed: {', '.join(EXTERNAL_FIELDS)})",
                )
            )
    body = {k: v for k, v in data.items() if k in EXTERNAL_FIELDS}
    try:
        spec = ExternalSpec.model_validate(body)
    except ValidationError as exc:
        return None, problems + validation_problems(exc, doc, EXTERNAL_FIELDS)
    return (spec if not problems else None), problems


def external_resource(spec: ExternalSpec, doc: Document) -> Resource:
    """The declared object: no fields (nothing is compared), not managed."""
    return Resource(ResourceId(Kind(spec.kind), spec.name), {}, source=doc.start, managed=False)


def external_entries(
    base: YamlPath, entries: Sequence[str], locate: Callable[[YamlPath], SourceLocation]
) -> tuple[External, list[SpecProblem]]:
    """An ``external:`` list of ``reconciler.yaml`` (under ``base``): the objects it names,
    and a problem for each entry that names none, at that entry."""
    found: External = {}
    problems = []
    for i, written in enumerate(entries):
        where = locate((*base, "external", i))
        try:
            rid = rule_id(written)
        except RuleError as exc:
            problems.append(SpecProblem(where, f"external entry {exc}"))
            continue
        if rid.kind.value not in EXTERNAL_KINDS:
            problems.append(
                SpecProblem(
                    where,
                    f"external entry '{written}': only objects other documents refer "
                    f"to can be external ({', '.join(EXTERNAL_KINDS)})",
                )
            )
            continue
        found.setdefault(rid, where)
    return found, problems

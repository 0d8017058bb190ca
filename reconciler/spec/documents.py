"""One spec file's documents, parsed and checked on their own.

What the loader does to a file it does not find in the cache (or to a changed
piece of one, :mod:`reconciler.spec.reuse`): its YAML documents, each
document's header and model, its ignore-field rules, and then, when nothing is
wrong, its resources. The checks across files (:mod:`reconciler.spec.references`)
come after, over every file, in :mod:`reconciler.spec.loader`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from reconciler.errors import SourceLocation, SpecProblem
from reconciler.spec.cache import REFERENCES, CachedReferences, LoadedFile
from reconciler.spec.external import external_document, external_resource
from reconciler.spec.models import (
    API_VERSION,
    EXTERNAL_KINDS,
    SPEC_MODELS,
    AnySpec,
    ExternalSpec,
    OperatorSpec,
    RoleSpec,
    SpecModel,
)
from reconciler.spec.names import nfc, visible
from reconciler.spec.problems import describe, did_you_mean, validation_problems
from reconciler.spec.references import Declared
from reconciler.spec.resources import ignore_field_problems, to_resources
from reconciler.spec.reuse import Tally
from reconciler.spec.yamlload import Document, YamlPath, parse_bytes

_NESTED_KINDS = {
    "TierDefaults": "tier defaults go under their Plan's 'tierDefaults'",
    "FeatureFlag": "feature flags go under their Tenant's 'features'",
    "Role": "roles go under their Tenant's 'roles'",
    "RoleAssignment": "role assignments are a role's 'members' under its Tenant's 'roles'",
}


def parse_piece(display: str, env: Mapping[str, str], data: bytes) -> LoadedFile | None:
    """A piece of a changed file parsed alone; ``None`` if it has any problem (the whole
    file is then parsed, and reports it as it would without a cache)."""
    part, complete, tallies = parse_file(data, display, env, [])
    return part if complete and tallies is not None else None


def parse_file(
    data: bytes, display: str, env: Mapping[str, str], problems: list[SpecProblem]
) -> tuple[LoadedFile, bool, list[Tally] | None]:
    """A file's bytes parsed and checked on their own: what they made, whether they were
    read to the end, and (when they have no problem) what each document made.

    Its problems are added to ``problems``; a file with any has no resources, but its
    valid documents' references still go to the checks across files.
    """
    result = parse_bytes(data, display, env)
    before = len(problems)
    problems += result.problems
    reported = {p.location for p in result.problems}
    part = LoadedFile(documents=len(result.documents))
    checked: list[tuple[Document, AnySpec | ExternalSpec | None, int]] = []
    for doc in result.documents:
        declared = len(part.declared)
        spec = _validate(doc, problems, part.declared, reported)
        checked.append((doc, spec, len(part.declared) - declared))
    for doc, spec, _ in checked:
        if spec is not None and not isinstance(spec, ExternalSpec):
            problems += ignore_field_problems(spec, doc)
    clean = len(problems) == before and result.complete
    tallies: list[Tally] = []
    for doc, spec, declared in checked:
        if spec is None:
            continue
        made = external = references = 0
        if isinstance(spec, ExternalSpec):
            if clean:
                part.external.append(external_resource(spec, doc))
                external = 1
        else:
            if clean:
                resources = to_resources(spec, doc)
                part.managed += resources
                made = len(resources)
            found = references_of(spec, doc)
            if found is not None:
                part.cached.append(found)
                references = 1
        tallies.append((doc.start.line, made, external, declared, references))
    return part, result.complete, tallies if clean else None


def references_of(spec: AnySpec, doc: Document) -> CachedReferences | None:
    """What the checks across files read of a parsed document, as a cached file keeps it.

    Holding these instead of the models and documents lets each file's YAML nodes,
    positions and models go as soon as its resources are made, rather than all of
    them staying until every file is read (175 MB of heap at 110,000 objects for
    80 MB of resources, mostly a location and a path per YAML key and value).
    """
    refs = {
        f: (value, doc.locate((f,)))
        for f in REFERENCES.get(type(spec), ())
        if (value := getattr(spec, f)) is not None
    }
    return (
        CachedReferences(spec.kind, getattr(spec, spec.KEY_FIELD), doc.start, refs)
        if refs
        else None
    )


def _validate(
    doc: Document,
    problems: list[SpecProblem],
    declared: list[Declared],
    reported: set[SourceLocation | None],
) -> AnySpec | ExternalSpec | None:
    """The document's model, or ``None`` with its problems recorded.

    ``managed: false`` makes it an :class:`ExternalSpec`; ``managed: true`` is the default.
    """
    data = doc.data
    if not isinstance(data, dict):
        problems.append(
            SpecProblem(doc.start, "a spec document must be a mapping with apiVersion and kind")
        )
        return None
    managed = data.get("managed", True)
    if not isinstance(managed, bool):
        message = f"'managed' must be true or false, not {describe(managed)}"
        problems.append(SpecProblem(doc.locate(("managed",)), message))
    body = {k: v for k, v in data.items() if k != "managed"}
    model = _header(doc, body, problems)
    if model is None:
        return None
    if managed is False:
        external, found = external_document(doc, data)
        problems += found
        name = data.get("name")
        if data["kind"] in EXTERNAL_KINDS and isinstance(name, str):
            declared.append(Declared(data["kind"], nfc(name), doc.start, name, external=True))
        return external
    data = body
    written = data.get(model.KEY_FIELD)
    if isinstance(written, str):
        key = nfc(written)  # names are compared in Unicode NFC
        key = key.lower() if model is OperatorSpec else key
        declared.append(Declared(data["kind"], key, doc.start, written))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems += validation_problems(exc, doc, _allowed_at(model), reported)
        return None


def _allowed_at(model: SpecModel) -> Callable[[YamlPath], list[str]]:
    """Field names accepted at a path: a role's own fields inside ``roles.<name>``."""

    def allowed(path: YamlPath) -> list[str]:
        if len(path) == 3 and path[0] == "roles":
            return [info.alias or name for name, info in RoleSpec.model_fields.items()]
        return model.field_aliases()

    return allowed


def _header(doc: Document, data: dict[str, Any], problems: list[SpecProblem]) -> SpecModel | None:
    """The model for the document's kind, if its apiVersion and kind are known."""
    ok = True
    version = data.get("apiVersion")
    if "apiVersion" not in data:
        problems.append(SpecProblem(doc.start, "missing required field 'apiVersion'"))
        ok = False
    elif version != API_VERSION:
        message = f"unknown apiVersion {version!r} (supported: {API_VERSION})"
        problems.append(SpecProblem(doc.locate(("apiVersion",)), message))
        ok = False
    kind = data.get("kind")
    if "kind" not in data:
        kinds = ", ".join(SPEC_MODELS)
        problems.append(SpecProblem(doc.start, f"missing required field 'kind' (one of {kinds})"))
        return None
    if not isinstance(kind, str):
        single = kind[0] if isinstance(kind, list) and len(kind) == 1 else None
        extra = f" (write it as one value: kind: {single})" if single in SPEC_MODELS else ""
        message = f"'kind' must be one of {', '.join(SPEC_MODELS)}, not {describe(kind)}{extra}"
        problems.append(SpecProblem(doc.locate(("kind",)), message))
        return None
    if kind not in SPEC_MODELS:
        hint = _NESTED_KINDS.get(kind)
        extra = f": {hint}" if hint else did_you_mean(kind, SPEC_MODELS)
        message = f"unknown kind '{visible(kind)}' (one of {', '.join(SPEC_MODELS)}){extra}"
        problems.append(SpecProblem(doc.locate(("kind",)), message))
        return None
    if not ok:  # the rest of the document is still checked: every problem at once
        body = {**data, "apiVersion": API_VERSION}
        try:
            SPEC_MODELS[kind].model_validate(body)
        except ValidationError as exc:
            body_doc = Document(doc.file, doc.start, body, doc.values, doc.keys)
            problems += validation_problems(exc, body_doc, _allowed_at(SPEC_MODELS[kind]))
        return None
    return SPEC_MODELS[kind]

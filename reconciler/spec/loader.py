"""Load a spec tree into the desired :class:`State`, or fail with every problem at once.

Files → documents (``yamlload``) → checked header → pydantic model (``models``)
→ checks across documents (``references``) → flat resources (``resources``). Nothing stops at
the first problem: a run reports all it can find, each with file:line:column.

References resolve to documents and to declared external objects: documents
with ``managed: false`` and the ``external:`` lists of ``reconciler.yaml``
(:mod:`reconciler.spec.external`), which become resources marked not managed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reconciler.errors import ReconcilerError, SourceLocation, SpecError, SpecProblem
from reconciler.model import Kind, State
from reconciler.spec.cache import REFERENCES, CachedReferences, LoadedFile, SpecCache
from reconciler.spec.external import External, external_document, external_resource
from reconciler.spec.models import (
    API_VERSION,
    EXTERNAL_KINDS,
    SPEC_MODELS,
    AnySpec,
    ExternalSpec,
    OperatorSpec,
    RoleSpec,
    SpecModel,
    TenantSpec,
)
from reconciler.spec.names import nfc, visible
from reconciler.spec.pieces import cut
from reconciler.spec.problems import describe, did_you_mean, validation_problems
from reconciler.spec.references import (
    Declared,
    cycle_problems,
    dangling_problems,
    duplicate_problems,
    external_conflicts,
)
from reconciler.spec.resources import ignore_field_problems, to_resources
from reconciler.spec.reuse import Tally, changed_file, spans
from reconciler.spec.yamlload import Document, FileResult, YamlPath, parse_bytes, read_bytes

CONFIG_NAMES = ("reconciler.yaml", "reconciler.yml")
SPEC_SUFFIXES = (".yaml", ".yml")

_NESTED_KINDS = {
    "TierDefaults": "tier defaults go under their Plan's 'tierDefaults'",
    "FeatureFlag": "feature flags go under their Tenant's 'features'",
    "Role": "roles go under their Tenant's 'roles'",
    "RoleAssignment": "role assignments are a role's 'members' under its Tenant's 'roles'",
}


def load_specs(
    path: Path | str, env: Mapping[str, str] | None = None, *, cache: SpecCache | None = None
) -> State:
    """The desired state written in ``path`` (a spec file or a directory of them).

    ``${VAR}`` in string values comes from ``env`` (default: ``os.environ``).
    Raises :class:`SpecError` listing every problem found, before any API call.
    With a ``cache`` (:mod:`reconciler.spec.cache`), files whose bytes it holds are not
    parsed again; the checks across files run over all of them all the same.
    """
    env = os.environ if env is None else env
    root = Path(path)
    problems: list[SpecProblem] = []
    files = discover(root, problems)
    complete = not problems
    loaded: list[LoadedFile] = []
    empty: list[str] = []
    for file in files:
        display = display_path(file)
        part, read_whole = _load_file(file, display, env, cache, problems)
        loaded.append(part)
        complete = complete and read_whole
        if read_whole and not part.documents:  # read to the end, nothing in it: no problem either
            empty.append(display)
    if not any(part.documents for part in loaded) and not problems:
        message = f"no spec documents found in '{root}'"
        if empty:
            names = ", ".join(empty[:5]) + (f" and {len(empty) - 5} more" if len(empty) > 5 else "")
            message += f" ({names}: empty, only comments or only null)"
        problems.append(SpecProblem(None, message))

    declared = [d for part in loaded for d in part.declared]
    problems += duplicate_problems(declared)
    configured, config_read = _external_in_config(root, env)
    problems += external_conflicts(declared, configured)
    subscription_plans = {d.key for d in declared if d.kind == "Plan"}
    subscription_plans |= {r.key for r in configured if r.kind is Kind.SUBSCRIPTION_PLAN}
    tenants = {d.key for d in declared if d.kind == "Tenant"}
    tenants |= {r.key for r in configured if r.kind is Kind.TENANT}
    known = {"plan": subscription_plans, "parent": tenants, "tenant": tenants}
    specs = [pair for part in loaded for pair in _checked(part, known)]
    problems += dangling_problems(specs, subscription_plans, tenants, complete and config_read)
    problems += cycle_problems((s, d) for s, d in specs if isinstance(s, TenantSpec))
    if problems:
        raise SpecError(shown(problems))
    if cache is not None and root.is_dir():
        cache.prune()
    managed = (r for part in loaded for r in part.managed)
    return State([*managed, *(r for part in loaded for r in part.external)])


def _checked(part: LoadedFile, known: Mapping[str, set[str]]) -> list[tuple[AnySpec, Document]]:
    """The documents of a file the checks across files must see, in file order.

    Parsed or cached, a file keeps the references of its documents (``part.cached``),
    and a stand-in is made only for a document where a check can find something:
    one with a parent (cycles) or a reference ``known`` lacks (dangling). The others
    cannot add a problem, so the checks report exactly what they would over every
    document.
    """
    return [
        cached.stand_in()
        for cached in part.cached
        if "parent" in cached.refs
        or any(value not in known.get(f, ()) for f, (value, _) in cached.refs.items())
    ]


def _load_file(
    file: Path,
    display: str,
    env: Mapping[str, str],
    cache: SpecCache | None,
    problems: list[SpecProblem],
) -> tuple[LoadedFile, bool]:
    """One file from the cache, else parsed and checked on its own (then cached if clean);
    and whether it was read to the end. Its problems are added to ``problems``."""
    result = FileResult()
    data = read_bytes(file, display, result)
    if data is None:
        problems += result.problems
        return LoadedFile(), False
    # ${VAR} may bring secrets: such a file's values are never written to the cache
    if cache is None or b"${" in data:
        part, complete, _ = _parse(data, display, env, problems)
        return part, complete
    key = cache.key(data)
    found = cache.get(key, display)
    if found is not None:
        if found.cut:
            cache.keep_path(file)
        return found, True
    pieces = cut(data)
    if pieces is None or len(pieces) < 2:  # one document: nothing to take from its last entry
        part, complete, tallies = _parse(data, display, env, problems)
        if tallies is not None:
            cache.put(key, part)
        return part, complete
    part_or_none = changed_file(file, display, pieces, cache, partial(_piece, display, env))
    if part_or_none is not None:
        part, complete = part_or_none, True
    else:
        part, complete, tallies = _parse(data, display, env, problems)
        if tallies is None:
            return part, complete
        part.spans = spans(pieces, tallies) or []
    cache.put(key, part)
    if part.spans:
        cache.remember(file, key)
    return part, complete


def _piece(display: str, env: Mapping[str, str], data: bytes) -> LoadedFile | None:
    """A piece of a changed file parsed alone; ``None`` if it has any problem (the whole
    file is then parsed, and reports it as it would without a cache)."""
    part, complete, tallies = _parse(data, display, env, [])
    return part if complete and tallies is not None else None


def _parse(
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
            found = _references(spec, doc)
            if found is not None:
                part.cached.append(found)
                references = 1
        tallies.append((doc.start.line, made, external, declared, references))
    return part, result.complete, tallies if clean else None


def _references(spec: AnySpec, doc: Document) -> CachedReferences | None:
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


def _external_in_config(root: Path, env: Mapping[str, str]) -> tuple[External, bool]:
    """Every object ``reconciler.yaml`` declares external, at the top level or for any
    target (which one a run uses is not known yet), and whether the file could be read.

    A file with problems declares nothing here: ``load_config`` reports them.
    """
    from reconciler.spec.config import load_config  # it reads this module: imported late

    try:
        config = load_config(root, env)
    except ReconcilerError:
        return {}, False
    found = dict(config.rules.external)
    for target in config.targets.values():
        for rid, where in target.rules.external.items():
            found.setdefault(rid, where)
    return found, True


def shown(problems: list[SpecProblem]) -> list[SpecProblem]:
    """The problems with any control, bidi or invisible character in a message escaped.

    Messages quote what the specs (or the environment, through ``${VAR}``)
    wrote; whatever that was, each problem stays one line that reads as it is.
    """
    return [SpecProblem(p.location, visible(p.message)) for p in problems]


def discover(root: Path, problems: list[SpecProblem]) -> list[Path]:
    """Spec files under ``root`` in a stable order, skipping hidden ones and the config."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        problems.append(SpecProblem(None, f"spec path '{root}' does not exist"))
        return []

    def unreadable(exc: OSError) -> None:
        where = exc.filename or root
        problems.append(SpecProblem(None, f"cannot read directory '{where}': {exc.strerror}"))

    found: list[Path] = []
    seen: dict[str, Path] = {}
    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable, followlinks=True):
        # Symlinked directories are followed (shared specs), but never in a circle.
        real = os.path.realpath(dirpath)
        if real in seen:
            problems.append(
                SpecProblem(
                    None,
                    f"symlink loop: '{dirpath}' leads back to '{seen[real]}'; "
                    "its specs are read once, from there",
                )
            )
            dirnames[:] = []
            continue
        seen[real] = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found += (
            Path(dirpath, name)
            for name in filenames
            if not name.startswith(".")
            and name.endswith(SPEC_SUFFIXES)
            and name not in CONFIG_NAMES
        )
    return sorted(found, key=lambda p: p.relative_to(root).parts)


def display_path(path: Path) -> str:
    """``path`` as the user passed it; an absolute path under the cwd made relative.

    A file name holding a newline or another character a name may not hold
    is shown with it escaped, so a location is always one line.
    """
    if path.is_absolute():
        try:
            return visible(str(path.relative_to(Path.cwd())))
        except ValueError:
            pass
    return visible(str(path))


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

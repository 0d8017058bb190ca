"""Load a spec tree into the desired :class:`State`, or fail with every problem at once.

Files → documents (``yamlload``) → checked header → pydantic model (``models``)
→ checks across documents (``references``) → flat resources (``resources``). Nothing stops at
the first problem: a run reports all it can find, each with file:line:column.
A file's own steps are in :mod:`reconciler.spec.documents`; this module walks
the tree, takes what it can from the cache (:mod:`reconciler.spec.cache`,
:mod:`reconciler.spec.reuse`) and runs the checks across files.

References resolve to documents and to declared external objects: documents
with ``managed: false`` and the ``external:`` lists of ``reconciler.yaml``
(:mod:`reconciler.spec.external`), which become resources marked not managed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import partial
from pathlib import Path

from reconciler.errors import ReconcilerError, SpecError, SpecProblem
from reconciler.model import Kind, State
from reconciler.spec.cache import LoadedFile, SpecCache
from reconciler.spec.documents import parse_file, parse_piece
from reconciler.spec.external import External
from reconciler.spec.models import (
    AnySpec,
    TenantSpec,
)
from reconciler.spec.names import visible
from reconciler.spec.pieces import cut
from reconciler.spec.references import (
    cycle_problems,
    dangling_problems,
    duplicate_problems,
    external_conflicts,
)
from reconciler.spec.reuse import changed_file, spans
from reconciler.spec.yamlload import Document, FileResult, read_bytes

CONFIG_NAMES = ("reconciler.yaml", "reconciler.yml")
SPEC_SUFFIXES = (".yaml", ".yml")


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
        part, complete, _ = parse_file(data, display, env, problems)
        return part, complete
    key = cache.key(data)
    found = cache.get(key, display)
    if found is not None:
        if found.cut:
            cache.keep_path(file)
        return found, True
    pieces = cut(data)
    if pieces is None or len(pieces) < 2:  # one document: nothing to take from its last entry
        part, complete, tallies = parse_file(data, display, env, problems)
        if tallies is not None:
            cache.put(key, part)
        return part, complete
    part_or_none = changed_file(file, display, pieces, cache, partial(parse_piece, display, env))
    if part_or_none is not None:
        part, complete = part_or_none, True
    else:
        part, complete, tallies = parse_file(data, display, env, problems)
        if tallies is None:
            return part, complete
        part.spans = spans(pieces, tallies) or []
    cache.put(key, part)
    if part.spans:
        cache.remember(file, key)
    return part, complete


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

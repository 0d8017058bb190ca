"""The dialect registry: every API reconciler speaks, built in or installed, one line each.

A *dialect* is one platform API. Its line names the modules that make it: the
provider that talks to the API, the sandbox emulation that serves it locally
and its options model, each as ``"module:attribute"``. They are imported only
when asked for, so reading the registry loads neither HTTP nor web-server code.

The built-in dialects are :data:`REGISTRY`. Others come from installed
distributions through the entry-point group ``reconciler.dialects`` (each entry
point names a :class:`DialectEntry`; docs/writing-a-dialect.md), loaded on first
use and kept for the process. The built-ins come first, then the installed ones
by name. An installed dialect that cannot be used (its entry point fails to
load, is not a :class:`DialectEntry`, or its name is taken by a built-in or by
another installed dialect) is left out and reported as a :class:`PluginProblem`,
logged once as a warning naming its distribution: a broken plugin never stops
reconciler.

This module is a leaf: it imports nothing from reconciler. The providers
package, the sandbox, the options models, ``reconciler.yaml``'s validation and
``reconciler apis`` all read it through :func:`entries`, :func:`names` and
:func:`entry`, and none of them reads the others' list.

Adding a built-in dialect: its provider module, its sandbox module, its options
model in ``reconciler.options`` if it has any, one line below, and
``reconciler apis --format markdown > docs/apis/README.md``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cache
from importlib import import_module
from importlib.metadata import EntryPoint, entry_points

GROUP = "reconciler.dialects"
"""The entry-point group installed dialects are declared in."""
BUILT_IN = "built-in"
"""The source of a dialect that ships with reconciler."""

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
_REFERENCE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DialectEntry:
    """One dialect: its name and where its halves live.

    An installed distribution declares one of these as the object of its entry
    point in the ``reconciler.dialects`` group; the registry sets its ``source``.
    """

    name: str
    """What users write as ``--api`` or ``api:``: lower case, digits, ``.``, ``_``, ``-``."""
    provider: str
    """``"module:attribute"`` of its :class:`~reconciler.providers.base.Provider` class."""
    sandbox: str
    """``"module:attribute"`` of its sandbox :class:`~reconciler.sandbox.dialect.Dialect`."""
    page: str
    """Its documentation: a page under ``docs/apis/`` for a built-in, a URL or a
    path in its own distribution for an installed one."""
    options: str = "reconciler.options:DialectOptions"
    """``"module:attribute"`` of its options model (:class:`~reconciler.options.DialectOptions`):
    the choices made where its document is silent, each a setting with today's choice as
    default. Read when ``reconciler.yaml`` is loaded, without importing the provider."""
    source: str = BUILT_IN
    """Where it comes from: ``built-in``, or the installed distribution's name and
    version (``reconciler-workspaces 0.1.0``). Set by the registry, not by a plugin."""

    @property
    def built_in(self) -> bool:
        return self.source == BUILT_IN


@dataclass(frozen=True)
class PluginProblem:
    """Why an installed dialect was left out: its distribution, its entry point, the reason."""

    distribution: str
    """The distribution's name and version, as :attr:`DialectEntry.source` would be."""
    dialect: str
    """The entry point's name (the dialect it meant to add)."""
    reason: str

    def __str__(self) -> str:
        return f"dialect '{self.dialect}' of {self.distribution} left out: {self.reason}"


def _line(name: str, module: str, provider: str, options: str = "") -> DialectEntry:
    return DialectEntry(
        name=name,
        provider=f"reconciler.providers.{module}:{provider}",
        sandbox=f"reconciler.sandbox.dialects.{module}:DIALECT",
        page=f"{name}.md",
        options=f"reconciler.options.{module}:{options}" if options else DialectEntry.options,
    )


REGISTRY: tuple[DialectEntry, ...] = (
    _line("reference", "reference", "ReferenceProvider", "ReferenceOptions"),
    _line("operator-v1", "operator_v1", "OperatorV1Provider", "OperatorV1Options"),
    _line("iaas-v1", "iaas_v1", "IaasProvider", "IaasV1Options"),
    _line("admin-operators", "admin_operators", "AdminOperatorsProvider", "AdminOperatorsOptions"),
    _line("platform-admin", "platform_admin", "PlatformAdminProvider", "PlatformAdminOptions"),
    _line("tenants-v1", "tenants_v1", "TenantsV1Provider", "TenantsV1Options"),
)
"""The built-in dialects, in the order documentation lists them (``reference`` first)."""


def find_entry_points() -> Iterable[EntryPoint]:
    """The entry points of the ``reconciler.dialects`` group in the installed distributions.

    The one place the registry asks the environment (tests replace it).
    """
    return entry_points(group=GROUP)


def _distribution(point: EntryPoint) -> str:
    dist = getattr(point, "dist", None)
    if dist is None:
        return "an unknown distribution"
    return f"{dist.name} {dist.version}"


def _entry_problem(point: EntryPoint, found: object) -> str | None:
    """Why what ``point`` loaded cannot be a registry line, or None when it can."""
    if not isinstance(found, DialectEntry):
        return (
            f"its entry point {point.value} is a {type(found).__name__}, "
            "not a reconciler.dialects.DialectEntry"
        )
    if not isinstance(found.name, str) or not _NAME.match(found.name):
        return f"its name {found.name!r} is not a dialect name (lower case, digits, '.', '_', '-')"
    if found.name != point.name:
        return f"its entry point is named '{point.name}' but its DialectEntry says '{found.name}'"
    for what in ("provider", "sandbox", "options"):
        reference = getattr(found, what)
        if not isinstance(reference, str) or not _REFERENCE.match(reference):
            return f'its {what} {reference!r} is not a "module:attribute" reference'
    if not isinstance(found.page, str) or not found.page.strip():
        return "it names no documentation page"
    return None


@cache
def _loaded() -> tuple[tuple[DialectEntry, ...], tuple[PluginProblem, ...]]:
    """Every installed entry point, loaded once: the usable lines, and the problems."""
    loaded: list[DialectEntry] = []
    problems: list[PluginProblem] = []
    for point in find_entry_points():
        distribution = _distribution(point)
        try:
            found: object = point.load()
        except Exception as exc:  # a plugin's bug, never reconciler's crash
            reason = f"its entry point {point.value} failed to load ({type(exc).__name__}: {exc})"
            problems.append(PluginProblem(distribution, point.name, reason))
            continue
        problem = _entry_problem(point, found)
        if problem is not None:
            problems.append(PluginProblem(distribution, point.name, problem))
            continue
        assert isinstance(found, DialectEntry)
        loaded.append(replace(found, source=distribution))
    return tuple(sorted(loaded, key=lambda e: (e.name, e.source))), tuple(problems)


_reported: set[PluginProblem] = set()


def _installed() -> tuple[list[DialectEntry], list[PluginProblem]]:
    """The installed lines whose names are free, and every problem (clashes included)."""
    loaded, failed = _loaded()
    built_in = {line.name for line in REGISTRY}
    sources: dict[str, list[str]] = {}
    for line in loaded:
        sources.setdefault(line.name, []).append(line.source)
    usable: list[DialectEntry] = []
    problems = list(failed)
    for line in loaded:
        others = [s for s in sources[line.name] if s != line.source]
        if line.name in built_in:
            reason = f"a built-in dialect is named '{line.name}'"
        elif others:
            reason = f"{', '.join(others)} installs a dialect of the same name"
        else:
            usable.append(line)
            continue
        problems.append(PluginProblem(line.source, line.name, reason))
    for problem in problems:
        if problem not in _reported:
            _reported.add(problem)
            log.warning("%s", problem)
    return usable, problems


def installed() -> list[DialectEntry]:
    """The usable installed dialects, by name, each with its distribution as ``source``."""
    return _installed()[0]


def problems() -> list[PluginProblem]:
    """The installed dialects left out, and why (each also logged once as a warning)."""
    return _installed()[1]


def forget_installed() -> None:
    """Look the installed dialects up again on next use (after installing one in-process)."""
    _loaded.cache_clear()
    _reported.clear()


def entries() -> list[DialectEntry]:
    """Every dialect: the built-ins in documentation order, then the installed ones by name."""
    return [*REGISTRY, *installed()]


def names() -> list[str]:
    """Every dialect's name, in :func:`entries` order."""
    return [line.name for line in entries()]


def entry(name: str) -> DialectEntry | None:
    """The line of ``name``, built in or installed, or None when no dialect has that name."""
    for found in entries():
        if found.name == name:
            return found
    return None


def load(reference: str) -> object:
    """The object a ``"module:attribute"`` reference names, importing its module now.

    A module that fails to import raises as it is: that is a bug, not an
    unknown dialect.
    """
    module, _, attribute = reference.partition(":")
    loaded: object = getattr(import_module(module), attribute)
    return loaded


__all__ = [
    "BUILT_IN",
    "GROUP",
    "REGISTRY",
    "DialectEntry",
    "PluginProblem",
    "entries",
    "entry",
    "find_entry_points",
    "forget_installed",
    "installed",
    "load",
    "names",
    "problems",
]

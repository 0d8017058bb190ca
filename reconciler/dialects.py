"""The dialect registry: every API reconciler speaks, one line each.

A *dialect* is one platform API. Its line names the two modules that make it:
the provider that talks to the API (``reconciler.providers``) and the sandbox
emulation that serves it locally (``reconciler.sandbox.dialects``), each as
``"module:attribute"``. Both are imported only when asked for, so reading the
registry loads neither HTTP nor web-server code.

This module is a leaf: it imports nothing from reconciler. The providers
package, the sandbox, ``reconciler apis`` and the generated
``docs/apis/README.md`` all read it, and none of them reads the others' list.

Adding a dialect: its provider module, its sandbox module, its options model
in ``reconciler.options`` if it has any, one line below, and
``reconciler apis --format markdown > docs/apis/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module


@dataclass(frozen=True)
class DialectEntry:
    """One registered dialect: its name and where its two halves live."""

    name: str
    provider: str
    """``"module:attribute"`` of its :class:`~reconciler.providers.base.Provider` class."""
    sandbox: str
    """``"module:attribute"`` of its sandbox :class:`~reconciler.sandbox.dialect.Dialect`."""
    page: str
    """Its page under ``docs/apis/``."""
    options: str = "reconciler.options:DialectOptions"
    """``"module:attribute"`` of its options model (:class:`~reconciler.options.DialectOptions`):
    the choices made where its document is silent, each a setting with today's choice as
    default. Read when ``reconciler.yaml`` is loaded, without importing the provider."""


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
"""Every dialect, in the order documentation lists them (``reference`` first)."""


def names() -> list[str]:
    """Every registered dialect's name, in registry order."""
    return [entry.name for entry in REGISTRY]


def entry(name: str) -> DialectEntry | None:
    """The registry line of ``name``, or None when no dialect has that name."""
    for found in REGISTRY:
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


__all__ = ["REGISTRY", "DialectEntry", "entry", "load", "names"]

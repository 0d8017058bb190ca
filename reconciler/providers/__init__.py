"""API adapters: one module per dialect, all behind :class:`~reconciler.providers.base.Provider`.

Which dialects exist, and where each one's provider lives, is the registry's
business (:mod:`reconciler.dialects`); a provider module is imported on first
use, so a run pays only for the API it talks to.
"""

from __future__ import annotations

from typing import Any

from reconciler import dialects as registry
from reconciler.errors import ConfigError
from reconciler.providers.base import (
    ApplyContext,
    Capabilities,
    KindHandlers,
    KindSupport,
    Provider,
    ReadScope,
)


def dialects() -> list[str]:
    """Every dialect, in the order the docs list them."""
    return registry.names()


def provider_class(dialect: str) -> type[Provider]:
    """The provider for ``dialect``, or a ConfigError listing the known ones."""
    entry = registry.entry(dialect)
    if entry is None:
        known = ", ".join(registry.names())
        raise ConfigError(f"unknown API dialect '{dialect}' (known: {known})")
    provider = registry.load(entry.provider)
    if not (isinstance(provider, type) and issubclass(provider, Provider)):
        raise TypeError(f"{entry.provider} is not a Provider class")
    if provider.capabilities.dialect != dialect:
        raise TypeError(f"{entry.provider} declares '{provider.capabilities.dialect}'")
    if provider.capabilities.options is not registry.load(entry.options):
        raise TypeError(f"{entry.provider} declares other options than {entry.options}")
    return provider


def describe(dialect: str) -> dict[str, Any]:
    """What ``dialect`` declares, as plain data for reports (``reconciler apis``)."""
    return provider_class(dialect).capabilities.describe()


__all__ = [
    "ApplyContext",
    "Capabilities",
    "KindHandlers",
    "KindSupport",
    "Provider",
    "ReadScope",
    "describe",
    "dialects",
    "provider_class",
]

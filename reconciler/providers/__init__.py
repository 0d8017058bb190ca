"""API adapters: one module per dialect, all behind :class:`~reconciler.providers.base.Provider`.

Each dialect lives in its own module exposing ``PROVIDER``; modules are
imported on first use, so a run pays only for the API it talks to.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from reconciler.errors import ConfigError
from reconciler.providers.base import ApplyContext, KindSupport, Provider

DIALECT_MODULES: dict[str, str] = {
    "reference": "reference",
    "operator-v1": "operator_v1",
    "iaas-v1": "iaas_v1",
    "admin-operators": "admin_operators",
    "platform-admin": "platform_admin",
    "tenants-v1": "tenants_v1",
}
"""Dialect name → module under ``reconciler.providers`` (and ``reconciler.sandbox.dialects``)."""


def dialects() -> list[str]:
    """Every dialect a provider exists for, in the order the docs list them."""
    return [name for name in DIALECT_MODULES if _load(name) is not None]


def dialect_module(package: str, dialect: str) -> ModuleType | None:
    """``package``'s module for ``dialect``, or None when the dialect has none there.

    A module that exists but fails to import raises: that is a bug, not absence.
    """
    module = DIALECT_MODULES.get(dialect)
    if module is None:
        return None
    name = f"{package}.{module}"
    try:
        return import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return None


def _load(dialect: str) -> type[Provider] | None:
    loaded = dialect_module("reconciler.providers", dialect)
    if loaded is None:
        return None
    provider: type[Provider] = loaded.PROVIDER
    return provider


def provider_class(dialect: str) -> type[Provider]:
    """The provider for ``dialect``, or a ConfigError listing the known ones."""
    provider = _load(dialect)
    if provider is None:
        known = ", ".join(dialects())
        raise ConfigError(f"unknown API dialect '{dialect}' (known: {known})")
    return provider


__all__ = [
    "DIALECT_MODULES",
    "ApplyContext",
    "KindSupport",
    "Provider",
    "dialect_module",
    "dialects",
    "provider_class",
]

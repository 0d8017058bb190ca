"""API adapters: one module per dialect, all behind :class:`~reconciler.providers.base.Provider`."""

from __future__ import annotations

from reconciler.errors import ConfigError
from reconciler.providers.base import ApplyContext, KindSupport, Provider
from reconciler.providers.reference import ReferenceProvider

PROVIDERS: dict[str, type[Provider]] = {cls.dialect: cls for cls in (ReferenceProvider,)}


def provider_class(dialect: str) -> type[Provider]:
    """The provider for ``dialect``, or a ConfigError listing the known ones."""
    try:
        return PROVIDERS[dialect]
    except KeyError:
        known = ", ".join(sorted(PROVIDERS))
        raise ConfigError(f"unknown API dialect '{dialect}' (known: {known})") from None


__all__ = ["PROVIDERS", "ApplyContext", "KindSupport", "Provider", "provider_class"]

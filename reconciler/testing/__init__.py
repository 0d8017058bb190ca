"""``reconciler.testing``: the conformance kit every dialect must pass, for pytest.

Subclass :class:`DialectConformance` in a test module (see docs/conformance-kit.md);
the fixtures it uses come from the ``reconciler`` pytest plugin
(:mod:`reconciler.testing.plugin`), which pytest loads wherever reconciler is installed.

The kit is imported on first use of :class:`DialectConformance`, not with this package:
the plugin lives here, and loading it must stay cheap for every pytest run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.testing.conformance import DialectConformance
    from reconciler.testing.workbench import Workbench


def __getattr__(name: str) -> Any:
    if name == "DialectConformance":
        from reconciler.testing.conformance import DialectConformance

        return DialectConformance
    if name == "Workbench":
        from reconciler.testing.workbench import Workbench

        return Workbench
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["DialectConformance", "Workbench"]

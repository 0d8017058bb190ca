"""workspaces-v1 passes reconciler's conformance kit (docs/conformance-kit.md).

The kit's checks run against this distribution's own sandbox emulation with
its example specs: converge from empty, a no-op second plan, paging past a
small page cap, adoption of objects made by hand, pruning, minimal writes,
``--show-calls`` equal to what apply sends, export then plan, and convergence
through injected faults. The second class runs them all again with the
dialect's options set for a server that answers otherwise, and the sandbox
seeded the same way: the options are proven, not just parsed.
"""

from __future__ import annotations

from pathlib import Path

from reconciler.testing import DialectConformance

SPECS = Path(__file__).resolve().parents[1] / "specs"


class TestWorkspacesV1(DialectConformance):
    dialect = "workspaces-v1"
    specs = SPECS


class TestWorkspacesV1WithOptions(DialectConformance):
    """A server with lists as ``{"items", "total"}`` paged by ``page``/``per_page``, and
    FastAPI-style ``{"detail": …}`` errors."""

    dialect = "workspaces-v1"
    specs = SPECS
    options = {
        "lists": {
            "workspaces": {
                "items": "items",
                "total": "total",
                "paging": "page",
                "limitParam": "per_page",
            },
            "flags": {"items": "items", "total": None, "paging": "cursor", "next": "next_cursor"},
        },
        "errors": {"message": "detail"},
    }

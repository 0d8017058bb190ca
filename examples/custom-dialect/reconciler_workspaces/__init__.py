"""reconciler's ``workspaces-v1`` dialect: the Workspaces API (README.md), installed from outside.

This module is what the entry point names (``pyproject.toml``, group
``reconciler.dialects``), so it stays light: reconciler imports it whenever it
lists dialects, and only the registry line below comes along. The provider,
the sandbox emulation and the options model are imported when a run or a
sandbox needs them.
"""

from __future__ import annotations

from reconciler.dialects import DialectEntry

DIALECT = DialectEntry(
    name="workspaces-v1",
    provider="reconciler_workspaces.provider:WorkspacesProvider",
    sandbox="reconciler_workspaces.sandbox:SANDBOX",
    options="reconciler_workspaces.options:WorkspacesOptions",
    page="examples/custom-dialect/README.md",
)
"""The registry line: the dialect's name and where its three halves live."""

__all__ = ["DIALECT"]

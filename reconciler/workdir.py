"""Where a spec tree keeps its local state: ``.reconciler/`` in the spec root.

The embedded sandbox's database and the apply journal live there, wherever the
command is run from: ``cd specs/tenants && reconciler plan ..`` finds the state
``reconciler plan specs`` made, and running from ``/`` writes nothing at ``/``.
The directory ignores itself (a ``.gitignore`` of ``*``, as pytest's cache does),
so a spec repository never commits it by accident.
"""

from __future__ import annotations

from pathlib import Path

STATE_DIR = ".reconciler"
IGNORE_ALL = "# reconciler's local state (embedded sandbox, journal): never committed\n*\n"


def spec_root(spec_path: Path | str) -> Path:
    """The directory a spec path names: itself, or the directory of a single spec file."""
    path = Path(spec_path).absolute()
    return path.parent if path.is_file() else path


def state_dir(root: Path) -> Path:
    """``root/.reconciler``, made (with its ``.gitignore``) when first needed."""
    found = root / STATE_DIR
    if not found.is_dir():
        found.mkdir(parents=True, exist_ok=True)
    ignore = found / ".gitignore"
    if not ignore.exists():
        ignore.write_text(IGNORE_ALL, encoding="utf-8")
    return found


__all__ = ["IGNORE_ALL", "STATE_DIR", "spec_root", "state_dir"]

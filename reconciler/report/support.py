"""The support matrix: which kinds each API dialect manages, and with what operations.

One source of truth, the providers' own ``supports`` declarations, rendered for
``reconciler apis`` and for the table in docs/apis/README.md (a test keeps the
two equal; ``python -m reconciler.report.support`` rewrites the docs table).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from reconciler.model import Action, Kind
from reconciler.providers import dialects, provider_class

OPERATIONS: tuple[Action, ...] = (
    Action.CREATE,
    Action.UPDATE,
    Action.SUSPEND,
    Action.RESUME,
    Action.DELETE,
)
LETTERS: dict[Action, str] = {
    Action.CREATE: "C",
    Action.UPDATE: "U",
    Action.SUSPEND: "S",
    Action.RESUME: "R",
    Action.DELETE: "D",
}
LEGEND = (
    "C create, U update, S suspend, R resume, D delete; '.' an operation the API "
    "lacks; '-' a kind it does not manage."
)
START, END = "<!-- support-matrix:start -->", "<!-- support-matrix:end -->"


def cell(dialect: str, kind: Kind) -> str:
    """``CURSD`` letters for what ``dialect`` can do with ``kind``, ``-`` for nothing."""
    support = provider_class(dialect).supports.get(kind)
    if support is None:
        return "-"
    letters = "".join(LETTERS[a] if a in support.operations else "." for a in OPERATIONS)
    return letters if letters.strip(".") else "read"


def matrix() -> dict[str, dict[str, str]]:
    """dialect → kind → cell, every dialect and kind included."""
    return {d: {k.value: cell(d, k) for k in Kind} for d in dialects()}


def details(dialect: str) -> dict[str, Any]:
    """What one dialect declares, per kind: operations, settable fields, choices, notes."""
    provider = provider_class(dialect)
    kinds: dict[str, Any] = {}
    for kind in Kind:
        support = provider.supports.get(kind)
        if support is None:
            continue
        kinds[kind.value] = {
            "operations": [a.value for a in OPERATIONS if a in support.operations],
            "fields": sorted(support.fields),
            "choices": {name: list(values) for name, values in support.choices.items()},
            "notes": support.notes,
        }
    return {"dialect": dialect, "title": provider.title, "kinds": kinds}


def render_text() -> str:
    table = matrix()
    names = list(table)
    width = max(len(k.value) for k in Kind)
    cols = [max(len(n), 5) for n in names]
    lines = ["  ".join([" " * width, *(n.ljust(w) for n, w in zip(names, cols, strict=True))])]
    for kind in Kind:
        row = [table[n][kind.value].ljust(w) for n, w in zip(names, cols, strict=True)]
        lines.append("  ".join([kind.value.ljust(width), *row]).rstrip())
    lines += ["", LEGEND, "Details of one API: reconciler apis DIALECT"]
    return "\n".join(lines)


def render_details_text(dialect: str) -> str:
    info = details(dialect)
    lines = [f"{dialect}: {info['title']}", ""]
    for kind, spec in info["kinds"].items():
        lines.append(f"{kind}: {', '.join(spec['operations']) or 'read only'}")
        lines.append(f"  fields: {', '.join(spec['fields']) or '(none)'}")
        for name, values in spec["choices"].items():
            lines.append(f"  {name}: one of {', '.join(values)}")
        if spec["notes"]:
            lines.append(f"  note: {spec['notes']}")
    return "\n".join(lines)


def render_markdown() -> str:
    table = matrix()
    names = list(table)
    lines = [
        "| kind | " + " | ".join(f"`{n}`" for n in names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for kind in Kind:
        cells = [f"`{table[n][kind.value]}`" for n in names]
        lines.append(f"| {kind.value} | " + " | ".join(cells) + " |")
    lines += ["", LEGEND]
    return "\n".join(lines)


def replace_block(text: str, block: str) -> str:
    """``text`` with what lies between the matrix markers replaced by ``block``."""
    head, start, rest = text.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise ValueError(f"markers {START} / {END} not found")
    return f"{head}{START}\n{block}\n{END}{tail}"


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/apis/README.md")
    target.write_text(replace_block(target.read_text(), render_markdown()))

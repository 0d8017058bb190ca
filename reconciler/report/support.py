"""The support matrix: which kinds each API dialect manages, and with what operations.

Rendered from plain data, each dialect as its declaration describes it
(``Capabilities.describe()``: dialect, title, and per kind its operations,
fields, choices and notes) plus where it comes from (``source``: ``built-in``
or the installed distribution, and ``page``: its documentation), for
``reconciler apis`` and for docs/apis/README.md, which is exactly
``reconciler apis --format markdown`` (:func:`render_readme`; a test keeps the
file equal to it). That page lists the built-in dialects only, so it reads the
same on every machine. Nothing here imports a provider.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.model import Kind
from reconciler.rules import spec_name

Described = Mapping[str, Any]
"""One dialect as ``Capabilities.describe()`` gives it, with its ``source`` and ``page``."""
BUILT_IN = "built-in"
"""The ``source`` of a dialect that ships with reconciler (``reconciler.dialects.BUILT_IN``)."""

LETTERS: dict[str, str] = {
    "create": "C",
    "update": "U",
    "suspend": "S",
    "resume": "R",
    "delete": "D",
}
"""Each operation's letter, in matrix order."""
LEGEND = (
    "C create, U update, S suspend, R resume, D delete; '.' an operation the API "
    "lacks; '-' a kind it does not manage."
)
START, END = "<!-- support-matrix:start -->", "<!-- support-matrix:end -->"


def cell(info: Described, kind: Kind) -> str:
    """``CURSD`` letters for what the dialect can do with ``kind``, ``-`` for nothing."""
    support = info["kinds"].get(kind.value)
    if support is None:
        return "-"
    done = set(support["operations"])
    letters = "".join(letter if op in done else "." for op, letter in LETTERS.items())
    return letters if letters.strip(".") else "read"


def matrix(infos: Sequence[Described]) -> dict[str, dict[str, str]]:
    """dialect → kind → cell, every dialect and kind included."""
    return {info["dialect"]: {k.value: cell(info, k) for k in Kind} for info in infos}


def source(info: Described) -> str:
    """Where the dialect comes from: ``built-in`` or its distribution's name and version."""
    return str(info.get("source", BUILT_IN))


def matrix_json(infos: Sequence[Described]) -> dict[str, dict[str, str]]:
    """:func:`matrix` with each dialect's ``source`` beside its cells (``--format json``)."""
    table = matrix(infos)
    return {info["dialect"]: {"source": source(info), **table[info["dialect"]]} for info in infos}


def docs_location(info: Described) -> str:
    """Where to read about the dialect: a built-in's page under docs/apis/, else its own."""
    page = str(info.get("page", ""))
    return f"docs/apis/{page}" if source(info) == BUILT_IN and page else page


def _sources(infos: Sequence[Described]) -> list[str]:
    """Each dialect with its source and title, one line each."""
    name_width = max(len("dialect"), *(len(info["dialect"]) for info in infos))
    source_width = max(len("source"), *(len(source(info)) for info in infos))
    rows = [("dialect", "source", "what it is")]
    rows += [(info["dialect"], source(info), info["title"]) for info in infos]
    return [
        f"{name.ljust(name_width)}  {where.ljust(source_width)}  {title}".rstrip()
        for name, where, title in rows
    ]


def render_text(infos: Sequence[Described]) -> str:
    table = matrix(infos)
    names = list(table)
    width = max(len(k.value) for k in Kind)
    cols = [max(len(n), 5) for n in names]
    lines = ["  ".join([" " * width, *(n.ljust(w) for n, w in zip(names, cols, strict=True))])]
    for kind in Kind:
        row = [table[n][kind.value].ljust(w) for n, w in zip(names, cols, strict=True)]
        lines.append("  ".join([kind.value.ljust(width), *row]).rstrip())
    lines += ["", LEGEND, "", *_sources(infos), "", "Details of one API: reconciler apis DIALECT"]
    return "\n".join(lines)


def render_details_text(info: Described) -> str:
    lines = [f"{info['dialect']}: {info['title']}", f"source: {source(info)}"]
    if docs_location(info):
        lines.append(f"docs: {docs_location(info)}")
    lines.append("")
    for kind, spec in info["kinds"].items():
        lines.append(f"{kind}: {', '.join(spec['operations']) or 'read only'}")
        fields = ", ".join(spec_name(f) for f in spec["fields"])  # as specs write them
        lines.append(f"  fields: {fields or '(none)'}")
        for name, values in spec["choices"].items():
            lines.append(f"  {spec_name(name)}: one of {', '.join(values)}")
        if spec["notes"]:
            lines.append(f"  note: {spec['notes']}")
    options = info.get("options") or []
    lines += ["", "options (api: {dialect, options: {...}} in reconciler.yaml):" if options else ""]
    for option in options:
        default = "null" if option["default"] is None else str(option["default"])
        lines.append(f"  {option['name']} ({option['type']}, default {default})")
        if option["description"]:
            lines.append(f"    {option['description']}")
    if not options:
        lines[-1] = "options: none"
    return "\n".join(lines)


def render_markdown(infos: Sequence[Described]) -> str:
    """The matrix as a Markdown table, with its legend."""
    table = matrix(infos)
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


README_HEAD = """\
# APIs reconciler manages

<!-- Generated: `reconciler apis --format markdown > docs/apis/README.md`. Edit
reconciler/report/support.py or the providers' declarations, not this file. -->

Each platform API is a *dialect*: one provider module in `reconciler/providers/`
and one emulation in `reconciler/sandbox/dialects/`, named together on one line
of the registry, `reconciler/dialects.py`. Choose it with `--api` (or `api:` of
a target in `reconciler.yaml`).

This page lists the built-in dialects. Others can be installed from their own
distributions ([writing-a-dialect.md](../writing-a-dialect.md);
[examples/custom-dialect](../../examples/custom-dialect/) is one):
`reconciler apis` lists every dialect of the machine it runs on, each with its
source (`built-in`, or the distribution's name and version).
"""

README_MATRIX = """\
## Support matrix

From the providers' declarations (`Capabilities`). A spec that asks a target for
a kind, field or operation its API lacks fails `validate`/`plan` before any
call, naming the field, the resource and the dialect.
"""

README_TAIL = """\
`reconciler apis DIALECT` lists each kind's settable fields and the values the
API accepts (roles, for instance).

Adding a dialect: its provider module, its sandbox module, one line in
`reconciler/dialects.py`, its page here, then
`reconciler apis --format markdown > docs/apis/README.md` (a test fails until
this file matches).
"""


def render_readme(infos: Sequence[Described]) -> str:
    """All of docs/apis/README.md: the dialects with their pages, then the matrix.

    ``infos`` are the built-in dialects: the page must not depend on what is installed.
    """
    rows = ["| dialect | what it is | page |", "|---|---|---|"]
    for info in infos:
        page = info["page"]
        rows.append(f"| `{info['dialect']}` | {info['title']} | [{page}]({page}) |")
    parts = [
        README_HEAD,
        "\n".join(rows) + "\n",
        README_MATRIX,
        f"{START}\n{render_markdown(infos)}\n{END}\n",
        README_TAIL.rstrip("\n"),
    ]
    return "\n".join(parts)

"""The pending changes as a dependency graph: mermaid for Markdown, dot for Graphviz.

An arrow ``A --> B`` means B waits for A, the same edges the executor honours.
Node labels carry the action mark and the resource, escaped for each format.
"""

from __future__ import annotations

from reconciler.engine.graph import predecessors
from reconciler.engine.plan import Plan
from reconciler.report.escape import dot_label, mermaid_label
from reconciler.report.values import MARKS

MERMAID_CLASSES = {
    "create": "fill:#e6ffed,stroke:#28a745",
    "update": "fill:#fff5b1,stroke:#b08800",
    "suspend": "fill:#f5e6ff,stroke:#6f42c1",
    "resume": "fill:#e6f7ff,stroke:#0366d6",
    "delete": "fill:#ffeef0,stroke:#d73a49",
}


def _label(plan: Plan, i: int) -> str:
    change = plan.changes[i]
    return f"{MARKS[change.action]} {change.id}"


def mermaid(plan: Plan) -> str:
    """A ``flowchart LR`` of the changes, coloured by action."""
    lines = ["flowchart LR"]
    for i, change in enumerate(plan.changes):
        lines.append(f'  n{i}["{mermaid_label(_label(plan, i))}"]:::{change.action.value}')
    for i, before in enumerate(predecessors(plan.changes)):
        for j in sorted(before):
            lines.append(f"  n{j} --> n{i}")
    used = {c.action.value for c in plan.changes}
    for name, style in MERMAID_CLASSES.items():
        if name in used:
            lines.append(f"  classDef {name} {style}")
    return "\n".join(lines)


def dot(plan: Plan) -> str:
    """A Graphviz digraph of the changes (render with ``dot -Tsvg``)."""
    colours = {"create": "green", "update": "goldenrod", "suspend": "purple"}
    colours |= {"resume": "blue", "delete": "red"}
    lines = ["digraph changes {", "  rankdir=LR;", "  node [shape=box, fontname=monospace];"]
    for i, change in enumerate(plan.changes):
        colour = colours.get(change.action.value, "black")
        lines.append(f'  n{i} [label="{dot_label(_label(plan, i))}", color={colour}];')
    for i, before in enumerate(predecessors(plan.changes)):
        for j in sorted(before):
            lines.append(f"  n{j} -> n{i};")
    lines.append("}")
    return "\n".join(lines)

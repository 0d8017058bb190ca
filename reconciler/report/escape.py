"""Making strings from specs and live APIs inert in Markdown, HTML and diagrams.

A tenant may be named ``<img src=x onerror=alert(1)>``, a display name may hold
a code fence or ``@org/team``: a report posted to a pull request must show
them, never run them, ping anyone or link an issue.
"""

from __future__ import annotations

import html
import re

ZWSP = "\u200b"
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
_MENTION = re.compile(r"([@#])(?=[\w\-/])")


def _break_links(text: str) -> str:
    """``@team`` and ``#12`` lose their meaning with an invisible space after the sign."""
    return _MENTION.sub(lambda m: m.group(1) + ZWSP, text)


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def md(text: object) -> str:
    """For Markdown text and table cells: HTML escaped, Markdown escaped, links broken."""
    # Order matters: links broken and Markdown escaped on the raw text, HTML
    # escaped last and without quote entities, so no '#' of an entity is touched.
    escaped = _MD_SPECIAL.sub(r"\\\1", _break_links(one_line(str(text))))
    return html.escape(escaped, quote=False)


def html_text(text: object) -> str:
    """For raw HTML blocks (``<summary>``), where Markdown is not parsed."""
    return html.escape(_break_links(one_line(str(text))), quote=False)


def fence(body: str, info: str = "") -> str:
    """A fenced code block no line of ``body`` can close: one backtick more than its longest run."""
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{body}\n{ticks}"


def comment_value(text: object) -> str:
    """For the inside of an HTML comment: nothing that could end it."""
    return str(text).replace("--", "- -").replace(">", "&gt;").replace('"', "&quot;")


def mermaid_label(text: object) -> str:
    """For a quoted mermaid label: entity codes for what mermaid or HTML would read."""
    out = []
    for ch in one_line(str(text)):
        if ch.isalnum() or ch in " /.-_:@":
            out.append(ch)
        else:
            out.append(f"#{ord(ch)};")
    return "".join(out)


def dot_label(text: object) -> str:
    return one_line(str(text)).replace("\\", "\\\\").replace('"', '\\"')

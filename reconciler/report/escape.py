"""Making strings from specs and live APIs inert in text, logs, Markdown, HTML and diagrams.

A tenant may be named ``<img src=x onerror=alert(1)>``, a display name may hold
a code fence or ``@org/team``: a report posted to a pull request must show
them, never run them, ping anyone or link an issue. A name may also hold a
newline, a NUL, a bidi override or a zero-width space: whatever is printed
shows them as visible escapes (:func:`inline`), so one line of output is one
line of the plan, and no line of a CI log can be a workflow command
(:func:`workflow_safe`).
"""

from __future__ import annotations

import html
import re

from reconciler.redact import redact

ZWSP = "\u200b"
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
_MENTION = re.compile(r"([@#])(?=[\w\-/])")

INVISIBLE = re.compile(
    "["
    "\x00-\x1f\x7f-\x9f"  # C0 (newline, tab, ESC, ...), DEL, C1 (NEL, CSI, ...)
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"  # format characters
    "\u200b-\u200f"  # zero-width space, non-joiner, joiner; LRM, RLM
    "\u2028-\u202e"  # line and paragraph separators; bidi embeddings and overrides
    "\u2060-\u206f"  # word joiner, invisible operators, bidi isolates, deprecated formats
    "\ud800-\udfff"  # lone surrogates (they cannot even be printed)
    "\ufeff\ufff9-\ufffb"  # zero-width no-break space (BOM), interlinear annotations
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"  # ... and tag characters
    "]"
)
"""Every control, format, separator or surrogate code point (Unicode categories Cc,
Cf, Zl, Zp, Cs): what can break a line, reorder it or hide in it. A test checks
this covers the categories of the running Python's Unicode database."""

_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(match: re.Match[str]) -> str:
    ch = match.group(0)
    code = ord(ch)
    if ch in _SHORT:
        return _SHORT[ch]
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def inline(text: object) -> str:
    """``text`` for one line of output: secrets redacted, invisible characters made visible.

    A newline becomes ``\\n``, a tab ``\\t``, NUL ``\\x00``, a right-to-left
    override ``\\u202e``, a zero-width space ``\\u200b``: the reader sees what is
    there, and nothing a value holds can start a new line, reorder or hide text.
    """
    return INVISIBLE.sub(_visible, redact(str(text)))


_LINE_BREAK = re.compile("(\r\n|[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029])")
_CI_COMMAND = re.compile(r"^(\s*)::")


def workflow_safe(text: str, *, json: bool = False) -> str:
    """``text`` with nothing a CI runner would take as a command.

    The GitHub Actions runner reads a line starting (after whitespace) with
    ``::`` as a workflow command (``::error::``, ``::add-mask::``,
    ``::stop-commands::``), and ``##[command]`` anywhere in a line in the older
    syntax (Azure Pipelines' too). Such a line gets a visible backslash in
    front of its ``::``, and every ``##[`` becomes ``##\\[`` (``##\\u005b`` in
    JSON, where it can only be inside a string: the document still decodes
    to the same value, and no JSON line can start with ``::``).
    """
    if "::" not in text and "##[" not in text:
        return text
    parts = _LINE_BREAK.split(text.replace("##[", "##\\u005b" if json else "##\\["))
    for i in range(0, len(parts), 2):  # even: lines; odd: the breaks between them
        parts[i] = _CI_COMMAND.sub(r"\1\\::", parts[i])
    return "".join(parts)


def _break_links(text: str) -> str:
    """``@team`` and ``#12`` lose their meaning with an invisible space after the sign."""
    return _MENTION.sub(lambda m: m.group(1) + ZWSP, text)


def md(text: object) -> str:
    """For Markdown text and table cells: one line, HTML and Markdown escaped, links broken."""
    # Order matters: made visible on one line first, links broken and Markdown
    # escaped on that text, HTML escaped last and without quote entities, so no
    # '#' of an entity is touched.
    escaped = _MD_SPECIAL.sub(r"\\\1", _break_links(inline(text)))
    return html.escape(escaped, quote=False)


def html_text(text: object) -> str:
    """For raw HTML blocks (``<summary>``), where Markdown is not parsed."""
    return html.escape(_break_links(inline(text)), quote=False)


def fence(body: str, info: str = "") -> str:
    """A fenced code block no line of ``body`` can close: one backtick more than its longest run."""
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{body}\n{ticks}"


def comment_value(text: object) -> str:
    """For the inside of an HTML comment: one line, nothing that could end it."""
    return inline(text).replace("--", "- -").replace(">", "&gt;").replace('"', "&quot;")


def mermaid_label(text: object) -> str:
    """For a quoted mermaid label: entity codes for what mermaid or HTML would read."""
    out = []
    for ch in inline(text):
        if ch.isalnum() or ch in " /.-_:@":
            out.append(ch)
        else:
            out.append(f"#{ord(ch)};")
    return "".join(out)


def dot_label(text: object) -> str:
    return inline(text).replace("\\", "\\\\").replace('"', '\\"')

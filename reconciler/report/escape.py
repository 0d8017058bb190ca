"""Making strings from specs and live APIs inert in text, logs, Markdown, HTML and diagrams.

A tenant may be named ``<img src=x onerror=alert(1)>``, a display name may hold
a code fence or ``@org/team``: a report posted to a pull request must show
them, never run them, ping anyone, link an issue (``#1``, ``GH-1``,
``owner/repo#1``), turn into an emoji (``:shipit:``) or into math (``$x$``).
A URL in a value is shown as code, as it is: Markdown escapes inside it would
make GitHub's autolinker point somewhere else. A name may also hold a newline,
a NUL, a bidi override or a zero-width space: whatever is printed shows them
as visible escapes (:func:`inline`), so one line of output is one line of the
plan, and no line of a CI log can be a workflow command (:func:`workflow_safe`).
"""

from __future__ import annotations

import html
import re

from reconciler.redact import redact

ZWSP = "\u200b"
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
_MENTION = re.compile(r"([@#])(?=[\w\-/])")
"""``@team``, ``@org/team``, ``#12``, ``owner/repo#12``: GitHub links the sign and what follows."""
_GH_REF = re.compile(r"\b(GH)(?=-\d)", re.I)
"""``GH-12``: GitHub's other spelling of an issue reference."""
_SHORTCODE = re.compile(r":(?=(?:[\w+\-]*[^\W\d_][\w+\-]*|100|1234|[+\-]1):)")
"""``:shipit:``, ``:+1:``, ``:100:``: GitHub turns a name between colons into an emoji
(names have a letter but these three; ``file.yaml:3:1`` and ``12:30:45`` are left alone)."""
_URL = re.compile(r"(?:(?:https?|ftp)://|www\.)[^\s<>`|\\]+", re.I)
"""What GitHub's autolinker makes a link of (emails aside: their ``@`` is broken)."""
_URL_TAIL = ".,:;!?'\"*_~"
ZWSP_ENTITY = "&#8203;"
"""The zero-width space as Markdown and HTML write it: the source stays free of invisible
characters, the rendered text breaks the link as the character does (Dependabot's way)."""
DOLLAR = "&#36;"
"""``$`` as an entity: GitHub starts math (``$x$``, ``$$``) only at a written ``$``."""

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
    """Mentions, issue references and emoji shortcodes lose their meaning with an
    invisible space after the sign (what GitHub's own bots do)."""
    text = _MENTION.sub(lambda m: m.group(1) + ZWSP, text)
    text = _GH_REF.sub(lambda m: m.group(1) + ZWSP, text)
    return _SHORTCODE.sub(":" + ZWSP, text)


def _entities(escaped: str) -> str:
    """``$`` and the zero-width spaces :func:`_break_links` put in, as entities (a value's own
    invisible characters were made visible escapes before)."""
    return escaped.replace("$", DOLLAR).replace(ZWSP, ZWSP_ENTITY)


def _md_words(text: str) -> str:
    """Text with no URL in it: links broken, Markdown then HTML escaped, ``$`` an entity."""
    # HTML escaped after Markdown and without quote entities, so no '#' of an
    # entity is touched; the dollar entity comes last, so its '&' stays.
    escaped = _MD_SPECIAL.sub(r"\\\1", _break_links(text))
    return _entities(html.escape(escaped, quote=False))


def _url_end(url: str) -> int:
    """Where a URL found in text ends: trailing punctuation and an unmatched ``)`` are text."""
    end = len(url)
    while end and (
        url[end - 1] in _URL_TAIL
        or (url[end - 1] == ")" and url[:end].count(")") > url[:end].count("("))
    ):
        end -= 1
    return end


def md(text: object) -> str:
    """For Markdown text: one line, HTML and Markdown escaped, nothing GitHub would link.

    A URL is shown as code, character for character (``http://127.0.0.1:8080``,
    never ``http://127\\.0\\.0\\.1``): no link at all rather than one that goes
    elsewhere than it says.
    """
    line = inline(text)
    out: list[str] = []
    last = 0
    for match in _URL.finditer(line):
        end = match.start() + _url_end(match.group(0))
        if end <= match.start():
            continue
        out.append(_md_words(line[last : match.start()]))
        out.append(code(line[match.start() : end]))
        last = end
    out.append(_md_words(line[last:]))
    return "".join(out)


def code(text: object) -> str:
    """An inline code span showing ``text`` as it is, on one line; inert on GitHub
    (no link, mention, emoji or math inside code). Empty text is shown as nothing."""
    line = inline(text)
    if not line:
        return ""
    longest = max((len(run) for run in re.findall(r"`+", line)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if line[0] in "` " or line[-1] in "` " else ""
    return f"{ticks}{pad}{line}{pad}{ticks}"


def html_text(text: object) -> str:
    """For raw HTML blocks (``<summary>``), where Markdown is not parsed."""
    return _entities(html.escape(_break_links(inline(text)), quote=False))


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

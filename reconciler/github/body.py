"""The text we post: the marker that finds it again, and cuts that respect GitHub's limits.

A later run finds its own comment or issue by the hidden marker line the
report renderer writes first (``<!-- reconciler-report target="…" specs="…" -->``);
one marker per target and spec directory, so reports of other targets are
left alone. GitHub rejects a comment over 65,536 characters and ignores a step
summary over 1 MiB, so nothing longer is ever sent: a cut falls between lines,
closes an open code fence, and says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from reconciler.report import limits, markdown

COMMENT_LIMIT = limits.COMMENT_LIMIT
"""Characters in an issue or comment body."""
STEP_SUMMARY_LIMIT = limits.STEP_SUMMARY_LIMIT
"""Bytes in one step's summary file."""
DEFAULT_MARKER = "<!-- reconciler-report -->"
_MARKER = re.compile(r'^<!-- reconciler-(report|apply)((?: [a-z]+="[^"\n]*")*) -->[ \t]*$', re.M)
_REPORT_MARKER_LINE = re.compile(
    r'^<!-- reconciler-report(?: [a-z]+="[^"\n]*")* -->[ \t]*\n?', re.M
)
_ATTR = re.compile(r'([a-z]+)="([^"]*)"')
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


@dataclass(frozen=True)
class Marker:
    """A post's identity: its marker line's attributes (``target``, ``specs``) and kind.

    ``report``: a plan or drift report (``<!-- reconciler-report … -->``);
    ``apply``: what the apply after a merge did (``<!-- reconciler-apply … -->``).
    """

    attrs: tuple[tuple[str, str], ...]
    kind: str = "report"

    def get(self, name: str) -> str | None:
        return dict(self.attrs).get(name)


def find_marker(body: str) -> Marker | None:
    """The first marker line of ``body`` (a whole line: text inside a diff cannot fake it)."""
    match = _MARKER.search(body)
    if match is None:
        return None
    return Marker(tuple(_ATTR.findall(match.group(2))), match.group(1))


def without_report_markers(text: str) -> str:
    """``text`` with its report marker lines removed (a report quoted inside another post)."""
    return _REPORT_MARKER_LINE.sub("", text)


def with_marker(report: str, target: str | None, specs: str | None) -> tuple[str, Marker]:
    """``report`` with a marker: its own, else one from ``target``/``specs``, else the default."""
    found = find_marker(report)
    if found is not None:
        return report, found
    line = markdown.marker(target or "", specs or "") if target or specs else DEFAULT_MARKER
    marker = find_marker(line)
    assert marker is not None  # markdown.marker writes exactly what _MARKER reads
    return f"{line}\n{report}", marker


def utf8_size(text: str) -> int:
    return len(text.encode("utf-8"))


def _fence_after(line: str, open_fence: str | None) -> str | None:
    """The code fence open after ``line`` (CommonMark: closed by a run at least as long)."""
    match = _FENCE.match(line)
    if match is None:
        return open_fence
    run = match.group(1)
    if open_fence is None:
        return run
    if run[0] == open_fence[0] and len(run) >= len(open_fence) and not line.strip()[len(run) :]:
        return None
    return open_fence


def clamp(
    text: str, limit: int, note: str, *, size: Callable[[str], int] = len
) -> tuple[str, bool]:
    """``text`` if it fits ``limit``; else its longest head of whole lines plus ``note``.

    Returns the text and whether it was cut. An open code fence is closed so the
    note renders as text. ``size`` measures (characters, or UTF-8 bytes).
    """
    if size(text) <= limit:
        return text, False
    tail = f"\n\n{note}\n"
    kept: list[str] = []
    used = 0
    fence: str | None = None
    for line in text.splitlines(keepends=True):
        after = _fence_after(line, fence)
        close = f"\n{after}" if after else ""
        if used + size(line) + size(close) + size(tail) > limit:
            break
        kept.append(line)
        used += size(line)
        fence = after
    if not kept:  # one enormous first line: cut inside it, as few characters as needed
        low, high = 0, len(text)
        while low < high:
            mid = (low + high + 1) // 2
            if size(text[:mid]) + size(tail) <= limit:
                low = mid
            else:
                high = mid - 1
        return text[:low] + tail, True
    head = "".join(kept).rstrip("\n")
    if fence:
        head += f"\n{fence}"
    return head + tail, True


class Summary(Enum):
    """What happened to the job summary."""

    NOT_SET = "not set"
    WRITTEN = "written"
    CUT = "cut to fit"
    FULL = "full"


def append_step_summary(report: str, environ: Mapping[str, str]) -> Summary:
    """Append ``report`` to ``$GITHUB_STEP_SUMMARY``, within its 1 MiB for the step."""
    name = environ.get("GITHUB_STEP_SUMMARY")
    if not name:
        return Summary.NOT_SET
    path = Path(name)
    existing = path.stat().st_size if path.exists() else 0
    text = ("\n" if existing else "") + report.rstrip("\n") + "\n"
    room = STEP_SUMMARY_LIMIT - existing
    note = "**Report cut: the job summary's 1 MiB is full.**"
    if room < utf8_size(note) + 200:
        return Summary.FULL
    text, cut = clamp(text, room, note, size=utf8_size)
    with path.open("a", encoding="utf-8", newline="") as summary:
        summary.write(text)
    return Summary.CUT if cut else Summary.WRITTEN


def failure_reason(log: Path | None) -> str:
    """Why a step failed, in one line: its log's ``error:`` lines, else its last line."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace") if log else ""
    except OSError:
        text = ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    return " ".join(errors or lines[-1:]) or "the step failed; see the job log"

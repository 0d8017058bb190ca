"""Checks that a Markdown report is well formed wherever it was cut (shared by tests/report)."""

from __future__ import annotations

import re

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


def open_fence_after(text: str) -> str | None:
    """The code fence still open at the end of ``text`` (CommonMark's rule), or None."""
    fence: str | None = None
    for line in text.splitlines():
        match = _FENCE.match(line)
        if match is None:
            continue
        run, rest = match.groups()
        if fence is None:
            fence = run
        elif run[0] == fence[0] and len(run) >= len(fence) and not rest.strip():
            fence = None
    return fence


def outside_fences(text: str) -> str:
    """``text`` without its fenced code blocks (where tags are only text)."""
    kept: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        match = _FENCE.match(line)
        if match is not None:
            run, rest = match.groups()
            if fence is None:
                fence = run
                continue
            if run[0] == fence[0] and len(run) >= len(fence) and not rest.strip():
                fence = None
                continue
        if fence is None:
            kept.append(line)
    return "\n".join(kept)


def details_depth_at(text: str, needle: str) -> int:
    """How many ``<details>`` are open where ``needle`` first appears (outside code)."""
    plain = outside_fences(text)
    head = plain[: plain.index(needle)]
    return head.count("<details>") - head.count("</details>")


def assert_balanced(text: str) -> None:
    """Every fence closed, every ``<details>`` and ``<summary>`` closed, in order."""
    assert open_fence_after(text) is None, "a code fence is left open"
    depth = 0
    for tag in re.findall(r"</?(?:details|summary)>", outside_fences(text)):
        if tag == "<details>":
            depth += 1
        elif tag == "</details>":
            depth -= 1
        assert depth >= 0, "a </details> closes nothing"
    assert depth == 0, "a <details> is left open"
    plain = outside_fences(text)
    assert plain.count("<summary>") == plain.count("</summary>")

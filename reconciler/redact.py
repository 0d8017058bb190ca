"""The one redaction step: secrets out of every message, log line, report and journal entry.

Two things are removed and replaced by ``[redacted]``:

- the secrets registered with :func:`register` (the target's token, registered
  where it is read; the GitHub token), also in their JSON-, repr- and
  percent-escaped forms, as a server or a library may echo them;
- anything that looks like a credential whatever its value: ``Bearer <value>``
  and ``Authorization: <value>`` (any case, also quoted as in JSON or a Python
  dict, ``"authorization": "…"``, and ``Proxy-Authorization``).

A leaf module (it imports nothing from reconciler), so every layer can use it:
errors where server text enters, the journal before it stores, the CLI before
it prints, the reports before they render.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

REDACTED = "[redacted]"

SHORT_SECRET = 8
"""Secrets shorter than this are removed only where they stand alone (not inside a
longer word), so a weak token such as ``dev`` does not mangle ``device``."""

_WORD = "A-Za-z0-9"

_BEARER = re.compile(r"\b(bearer)(\s+)(?!\[redacted\])([^\s\"'\\,;<>)\]}]+)", re.IGNORECASE)
_NOT_CREDENTIALS = frozenset(
    {"token", "tokens", "auth", "authentication", "scheme", "realm", "error", "header"}
)
"""Words after ``bearer`` that are prose (``invalid bearer token``), not a credential."""
# ``Authorization: value`` / ``"authorization": "value"`` / ``authorization='value'``:
# the value runs to the end of its quotes or of the line.
_AUTHORIZATION = re.compile(
    r"\b((?:proxy-)?authorization)"  # the header name
    r"(\\?[\"']?[ \t]*[:=][ \t]*)"  # its separator, maybe after a closing quote
    r"(\\?([\"'])(?:(?!\\?\4).)*|[^\r\n\"'\\]*)",  # a quoted value, or to the line's end
    re.IGNORECASE,
)

_lock = threading.Lock()
_secrets: list[tuple[str, re.Pattern[str] | None]] = []
"""Each registered form, longest first, with a boundary pattern (short ones) or None."""


def _forms(secret: str) -> Iterable[str]:
    """The secret and the shapes an echo may give it."""
    yield secret
    yield json.dumps(secret, ensure_ascii=True)[1:-1]
    yield repr(secret)[1:-1]
    yield quote(secret, safe="")


def register(secret: str | None) -> None:
    """Remove ``secret`` from everything redacted from now on (empty values are ignored)."""
    if not secret or not secret.strip():
        return
    global _secrets
    with _lock:
        known = dict(_secrets)
        for form in _forms(secret):
            if form not in known:
                short = len(form) < SHORT_SECRET
                boundary = rf"(?<![{_WORD}]){re.escape(form)}(?![{_WORD}])"
                known[form] = re.compile(boundary) if short else None
        _secrets = sorted(known.items(), key=lambda item: -len(item[0]))


def forget_all() -> None:
    """Drop every registered secret (a new CLI run, or a test)."""
    global _secrets
    with _lock:
        _secrets = []


def _authorization(match: re.Match[str]) -> str:
    value = match.group(3)
    if not value.strip():
        return match.group(0)
    quote_mark = ""
    if match.group(4):  # keep the opening quote (and its backslash): the value is inside
        quote_mark = value[: value.index(match.group(4)) + 1]
    return f"{match.group(1)}{match.group(2)}{quote_mark}{REDACTED}"


def _bearer(match: re.Match[str]) -> str:
    if match.group(3).lower().rstrip("=") in _NOT_CREDENTIALS:  # also ``realm="…"``
        return match.group(0)
    return f"{match.group(1)}{match.group(2)}{REDACTED}"


def redact(text: str) -> str:
    """``text`` without registered secrets, bearer credentials or Authorization values."""
    if not text:
        return text
    for form, pattern in _secrets:  # a snapshot: register() replaces the list whole
        if form in text:
            text = text.replace(form, REDACTED) if pattern is None else pattern.sub(REDACTED, text)
    lowered = text.lower()
    if "authorization" in lowered:
        text = _AUTHORIZATION.sub(_authorization, text)
    if "bearer" in lowered:
        text = _BEARER.sub(_bearer, text)
    return text


def holds_secret(text: str) -> bool:
    """Whether ``text`` holds a registered secret (in any of its escaped forms)."""
    for form, pattern in _secrets:
        if form in text and (pattern is None or pattern.search(text)):
            return True
    return False


def scrub(value: Any) -> Any:
    """``value`` with every string in it (keys too) redacted: for JSON documents."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value

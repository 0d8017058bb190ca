"""How a value gets into a URL path: one encoded segment, or refused before any call.

:func:`url_path` is the only way a value (from a spec or from the server) gets
into a URL path, each value encoded as exactly one segment; :func:`check_path`
(called by :meth:`~reconciler.providers.http.ApiClient.send` before anything is
sent) refuses any path that is not in that encoded form.
"""

from __future__ import annotations

import functools
import re
import string
from urllib.parse import quote

from reconciler.errors import PlanError

UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
"""RFC 3986 unreserved characters: the only ones a segment value keeps as they are."""
PLACEHOLDER = "{}"
"""A value's place in a :func:`url_path` template: always a whole segment."""
_CANONICAL_SEGMENT = re.compile(r"(?:[A-Za-z0-9\-._~]|%[0-9A-Fa-f]{2})+")
"""A segment as :func:`url_path` writes it: unreserved characters and ``%XX`` only."""


class UnsafePath(PlanError):
    """A path that is not in the encoded form :func:`url_path` writes; never sent."""

    def __init__(self, value: object, reason: str) -> None:
        self.value = value
        self.reason = reason
        super().__init__(f"refused to put {shown_value(value)} in a URL path: {reason}")


class UnsafePathSegment(UnsafePath):
    """A value that cannot be one URL path segment: refused before any request.

    Raised for values from specs and from the server alike (an id, a flag key, a
    role name): empty, not text or a whole number, holding ``/`` or ``\\`` (which
    servers may decode or treat as separators), control characters, or text that
    is not valid Unicode.
    """


def shown_value(value: object, limit: int = 60) -> str:
    """``value`` as it may be printed: ``repr`` escapes controls and bidi marks."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def segment_problem(value: object) -> str | None:
    """Why ``value`` cannot be sent as one URL path segment, or None when it can.

    Anything else (``?``, ``#``, ``%``, spaces, ``.``/``..``, any Unicode) is
    encoded by :func:`url_path` and reaches the server as the one segment it is.
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        return f"a {type(value).__name__} is not a path segment (only text or a whole number)"
    if isinstance(value, int):
        return None
    if not value:
        return "it is empty"
    if "/" in value:
        return "it contains '/', which servers may decode into a path separator"
    if "\\" in value:
        return "it contains '\\', which some servers treat as a path separator"
    for char in value:
        code = ord(char)
        if code < 0x20 or 0x7F <= code <= 0x9F:
            return f"it contains the control character U+{code:04X}"
        if 0xD800 <= code <= 0xDFFF:
            return f"it contains U+{code:04X}, an unpaired surrogate (not valid Unicode text)"
    return None


def encode_segment(value: str | int) -> str:
    """``value`` percent-encoded as exactly one segment, or :class:`UnsafePathSegment`.

    Everything outside the RFC 3986 unreserved characters is encoded (as UTF-8);
    ``.`` and ``..`` as whole segments become ``%2E`` and ``%2E%2E``, so no client
    or server resolves them as dot segments.
    """
    problem = segment_problem(value)
    if problem is not None:
        raise UnsafePathSegment(value, problem)
    text = str(value)
    if text in (".", ".."):
        return "%2E" * len(text)
    return quote(text, safe="")


@functools.lru_cache(maxsize=512)
def _template(template: str) -> tuple[str, ...]:
    """The segments of a template or base, checked: placeholders only as whole segments."""
    if template == "":
        return ()
    if not template.startswith("/"):
        raise ValueError(f"a path template starts with '/': {template!r}")
    segments = tuple(template[1:].split("/"))
    for segment in segments:
        if segment == PLACEHOLDER:
            continue
        if "{" in segment or "}" in segment:
            raise ValueError(f"a placeholder must be a whole segment: {template!r}")
        if segment in ("", ".", "..") or not set(segment) <= UNRESERVED:
            raise ValueError(f"a template segment must be plain text: {template!r}")
    return segments


def url_path(template: str, *values: str | int, base: str = "") -> str:
    """The path ``base`` + ``template`` with each ``{}`` replaced by one encoded value.

    ``url_path("/tenants/{}/feature-flags/{}", tenant_id, key, base=BASE)``. The
    template (and ``base``) are the provider's own constants: plain segments and
    ``{}`` placeholders that are whole segments. Each value becomes exactly one
    segment (:func:`encode_segment`); a value that cannot be one raises
    :class:`UnsafePathSegment` before any request is made. This is the only place
    a path is built from values.
    """
    if PLACEHOLDER in _template(base):
        raise ValueError(f"a base path has no placeholders: {base!r}")
    segments = _template(template)
    if segments.count(PLACEHOLDER) != len(values):
        raise ValueError(
            f"{template!r} has {segments.count(PLACEHOLDER)} placeholders, "
            f"given {len(values)} values"
        )
    given = iter(values)
    built = [encode_segment(next(given)) if s == PLACEHOLDER else s for s in segments]
    return base + "".join("/" + segment for segment in built)


def path_problem(path: str) -> str | None:
    """Why ``path`` is not in the form :func:`url_path` writes, or None when it is.

    ``""`` or ``/`` followed by non-empty segments of unreserved characters and
    ``%XX`` escapes, none of them a raw ``.`` or ``..``: a path httpx sends
    unchanged and no server resolves to another.
    """
    if path == "":
        return None
    if not path.startswith("/"):
        return "it does not start with '/'"
    for segment in path[1:].split("/"):
        if segment in (".", ".."):
            return f"it holds a raw {segment!r} segment"
        if not _CANONICAL_SEGMENT.fullmatch(segment):
            return f"segment {shown_value(segment)} is empty or not percent-encoded"
    return None


def check_path(path: str) -> None:
    """Raise :class:`UnsafePath` unless ``path`` is in :func:`url_path`'s encoded form."""
    problem = path_problem(path)
    if problem is not None:
        raise UnsafePath(path, problem)


__all__ = [
    "PLACEHOLDER",
    "UNRESERVED",
    "UnsafePath",
    "UnsafePathSegment",
    "check_path",
    "encode_segment",
    "path_problem",
    "segment_problem",
    "shown_value",
    "url_path",
]

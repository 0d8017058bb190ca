"""The rules every name and key in the specs follows, and how a bad one is shown.

A name is what reconciler puts in URLs, matches live objects by and prints in
change plans, so it must be one unambiguous thing: no character that changes how
text around it is displayed (bidi controls), none that cannot be seen
(zero-width, soft hyphen, fillers), none that breaks a line or a terminal
(C0, DEL, C1, line separators), nothing that is a path step (``.``, ``..``),
no whitespace at either end, and at most a known length. Names are compared
in Unicode NFC, the form the desired state stores: ``café`` written composed
or decomposed is one name.

Every message shows the offending text with such characters escaped
(``\\n``, ``\\u202e``), never raw, and names the character:
``contains U+202E (RIGHT-TO-LEFT OVERRIDE) at position 4``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

# Forbidden code points by reason: (first, last) inclusive ranges.
_CONTROL = ((0x0000, 0x001F), (0x007F, 0x009F))
_BIDI = ((0x061C, 0x061C), (0x200E, 0x200F), (0x202A, 0x202E), (0x2066, 0x2069))
_SEPARATOR = ((0x2028, 0x2029),)
_SPACE = (  # whitespace other than the plain space U+0020
    (0x00A0, 0x00A0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
)
_INVISIBLE = (  # zero-width, format (Unicode category Cf) and filler characters
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x0600, 0x0605),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180E, 0x180E),
    (0x200B, 0x200D),
    (0x2060, 0x2065),
    (0x206A, 0x206F),
    (0x3164, 0x3164),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)
_SURROGATE = ((0xD800, 0xDFFF),)

_REASONS: tuple[tuple[tuple[tuple[int, int], ...], str], ...] = (
    (_CONTROL, "control characters are not allowed"),
    (_BIDI, "bidirectional controls are not allowed (they change how the text is displayed)"),
    (_SEPARATOR, "line and paragraph separators are not allowed"),
    (_SPACE, "the only whitespace allowed is the plain space (U+0020)"),
    (_INVISIBLE, "invisible characters are not allowed (two names would look the same)"),
    (_SURROGATE, "a lone surrogate is not a character"),
)

_C0_NAMES = (
    "NULL",
    "START OF HEADING",
    "START OF TEXT",
    "END OF TEXT",
    "END OF TRANSMISSION",
    "ENQUIRY",
    "ACKNOWLEDGE",
    "BELL",
    "BACKSPACE",
    "CHARACTER TABULATION",
    "LINE FEED",
    "LINE TABULATION",
    "FORM FEED",
    "CARRIAGE RETURN",
    "SHIFT OUT",
    "SHIFT IN",
    "DATA LINK ESCAPE",
    "DEVICE CONTROL ONE",
    "DEVICE CONTROL TWO",
    "DEVICE CONTROL THREE",
    "DEVICE CONTROL FOUR",
    "NEGATIVE ACKNOWLEDGE",
    "SYNCHRONOUS IDLE",
    "END OF TRANSMISSION BLOCK",
    "CANCEL",
    "END OF MEDIUM",
    "SUBSTITUTE",
    "ESCAPE",
    "INFORMATION SEPARATOR FOUR",
    "INFORMATION SEPARATOR THREE",
    "INFORMATION SEPARATOR TWO",
    "INFORMATION SEPARATOR ONE",
)
_OTHER_NAMES = {0x7F: "DELETE", 0x85: "NEXT LINE", 0x9B: "CONTROL SEQUENCE INTRODUCER"}
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

NAME_MAX = 200
"""Plan, tenant, device tier, role, tier and target names; parents, members, roles."""
FLAG_MAX = 100
"""Feature flag keys."""
EMAIL_MAX = 320
"""Operator emails (64 for the local part, 255 for the domain, and the '@')."""
REF_MAX = 512
"""Entries naming a field or an object by a path: ``ignoreFields``, ``protect``."""

FLAG_ALPHABET = re.compile(r"[A-Za-z0-9_.:-]+")
EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


_FORBIDDEN = re.compile(
    "["
    + "".join(f"\\U{first:08x}-\\U{last:08x}" for ranges, _ in _REASONS for first, last in ranges)
    + "]"
)
"""Any forbidden character: the fast check, run on every name of a large tree."""


def _reason(cp: int) -> str | None:
    for ranges, reason in _REASONS:
        if any(first <= cp <= last for first, last in ranges):
            return reason
    return None


def is_forbidden(char: str) -> bool:
    """Whether ``char`` may never appear in a name or key."""
    return _FORBIDDEN.fullmatch(char) is not None


def char_label(char: str) -> str:
    """``U+202E (RIGHT-TO-LEFT OVERRIDE)``: the code point and its Unicode name."""
    cp = ord(char)
    name = unicodedata.name(char, "")
    if not name:
        if cp < 0x20:
            name = _C0_NAMES[cp]
        elif cp in _OTHER_NAMES:
            name = _OTHER_NAMES[cp]
        elif 0x80 <= cp <= 0x9F:
            name = "C1 CONTROL"
        elif 0xD800 <= cp <= 0xDFFF:
            name = "SURROGATE"
        else:
            name = "UNASSIGNED"
    return f"U+{cp:04X} ({name})"


def escape_char(char: str) -> str:
    """One character as an escape a person can read: ``\\n``, ``\\x00``, ``\\u202e``."""
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    cp = ord(char)
    if cp < 0xA0:  # C0, DEL, C1
        return f"\\x{cp:02x}"
    if cp < 0x10000:
        return f"\\u{cp:04x}"
    return f"\\U{cp:08x}"


def visible(text: str) -> str:
    """``text`` with every character a name may not hold escaped; the rest as is.

    Used on every message about the specs, so no line of output can be broken,
    reordered or hidden by what a spec or the environment wrote.
    """
    if _FORBIDDEN.search(text) is None:
        return text
    return _FORBIDDEN.sub(lambda m: escape_char(m.group()), text)


def spelled(text: str) -> str:
    """``text`` with every character beyond ASCII escaped: how two look-alikes differ.

    ``'caf\\u00e9'`` (composed) against ``'cafe\\u0301'`` (decomposed).
    """
    return "".join(c if " " <= c <= "~" else escape_char(c) for c in text)


def nfc(text: str) -> str:
    """The form names are compared and stored in (Unicode NFC)."""
    return unicodedata.normalize("NFC", text)


def text_problem(text: str, *, max_length: int) -> str | None:
    """What is wrong with ``text`` as a name or key under the common rules, or ``None``.

    The rules: not empty; none of the forbidden characters; not ``.`` or ``..``;
    no whitespace at either end; at most ``max_length`` characters (in NFC).
    """
    if text == "":
        return "must not be empty"
    bad = _FORBIDDEN.search(text)
    if bad is not None:
        char = bad.group()
        return (
            f"contains {char_label(char)} at position {bad.start() + 1} "
            f"in '{visible(text)}': {_reason(ord(char))}"
        )
    if text in (".", ".."):
        return f"must not be '{text}' (it means 'here' or 'the parent' in a path)"
    if text != text.strip():
        return f"must not start or end with whitespace (got '{text}')"
    length = len(nfc(text))
    if length > max_length:
        return f"must be at most {max_length} characters, not {length}"
    return None


Check = Callable[[str], str | None]
"""An extra rule of one kind of name: the message, or ``None`` when it holds."""


def no_slash(text: str) -> str | None:
    """Plan, tenant and other object names: a ``/`` would read as a path step."""
    return f"must not contain '/' (got '{text}')" if "/" in text else None


def flag_alphabet(text: str) -> str | None:
    """Feature flag keys: ``A-Z a-z 0-9 _ . : -`` only."""
    if FLAG_ALPHABET.fullmatch(text):
        return None
    return f"must be 1-{FLAG_MAX} letters, digits, '_', '.', ':' or '-' (got '{text}')"


def email_shape(text: str) -> str | None:
    """Operator emails: one ``@``, a non-empty local part, a dotted domain, no spaces."""
    if EMAIL_SHAPE.fullmatch(text):
        return None
    return f"is not a valid email address (name@domain.tld, no spaces) (got '{text}')"


def validator(max_length: int, *checks: Check) -> Callable[[str], str]:
    """A pydantic after-validator: the rules, then the NFC form of the value.

    A broken rule raises ``ValueError`` with the message (the value escaped),
    which the spec loader shows at the value's file:line:column.
    """

    def validate(value: str) -> str:
        message = text_problem(value, max_length=max_length)
        for check in checks:
            if message is not None:
                break
            message = check(value)
        if message is not None:
            raise ValueError(visible(message))
        return nfc(value)

    return validate


def _char_class() -> str:
    """The forbidden characters of the Basic Multilingual Plane as a regex class body.

    JSON Schema patterns are ECMA-262 without the ``u`` flag, which sees
    characters beyond U+FFFF as surrogate pairs: those are left to the loader.
    """
    parts = []
    for ranges, _ in _REASONS:
        if ranges is _SURROGATE:
            continue
        for first, last in ranges:
            if first > 0xFFFF:
                continue
            parts.append(f"\\u{first:04x}" + (f"-\\u{last:04x}" if last > first else ""))
    return "".join(parts)


FORBIDDEN_CLASS = _char_class()
"""For schemas: ``[^...]`` of this is a character a name may hold (BMP only)."""

NOT_A_DOT_PATH = r"(?!\.\.?$)"

NAME_PATTERN = (
    rf"^{NOT_A_DOT_PATH}[^\s/{FORBIDDEN_CLASS}](?:[^/{FORBIDDEN_CLASS}]*[^\s/{FORBIDDEN_CLASS}])?$"
)
"""Names with no ``/``, as a JSON Schema pattern (length is in min/maxLength)."""

KEY_PATTERN = (
    rf"^{NOT_A_DOT_PATH}[^\s{FORBIDDEN_CLASS}](?:[^{FORBIDDEN_CLASS}]*[^\s{FORBIDDEN_CLASS}])?$"
)
"""Keys and other identifiers that may hold ``/``, as a JSON Schema pattern."""

FLAG_PATTERN = rf"^{NOT_A_DOT_PATH}[A-Za-z0-9_.:-]{{1,{FLAG_MAX}}}$"
"""Feature flag keys, as a JSON Schema pattern."""

EMAIL_PATTERN = (
    rf"^[^@\s{FORBIDDEN_CLASS}]+@[^@\s.{FORBIDDEN_CLASS}]+(\.[^@\s.{FORBIDDEN_CLASS}]+)+$"
)
"""Operator emails, as a JSON Schema pattern (length is in maxLength)."""


def json_schema(pattern: str, max_length: int, description: str) -> dict[str, Any]:
    """The JSON Schema of one kind of name, for editors (the loader is the authority)."""
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": max_length,
        "pattern": pattern,
        "description": description,
    }

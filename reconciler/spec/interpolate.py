"""``${VAR}`` interpolation of string values from the environment.

Secrets and per-environment values stay out of the repository; the result is
always a string (``port: ${PORT}`` gives ``"8080"``, never a number), so a
value's type never depends on what the environment happens to hold.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_START = re.compile(r"\$\$\{|\$\{")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def interpolate(text: str, env: Mapping[str, str]) -> tuple[str, list[str]]:
    """Replace each ``${NAME}`` by ``env[NAME]``; ``$${`` stands for a literal ``${``.

    Returns the new text and one message per reference that could not be
    resolved (the reference is then left as written). Substituted values are
    not interpolated again.
    """
    if "${" not in text:
        return text, []
    out: list[str] = []
    errors: list[str] = []
    pos = 0
    while (match := _START.search(text, pos)) is not None:
        out.append(text[pos : match.start()])
        if match.group() == "$${":
            out.append("${")
            pos = match.end()
            continue
        end = text.find("}", match.end())
        if end < 0:
            errors.append("unterminated '${' (write '$${' for a literal '${')")
            out.append(text[match.start() :])
            pos = len(text)
            break
        name = text[match.end() : end]
        raw = text[match.start() : end + 1]
        if not _NAME.fullmatch(name):
            errors.append(
                f"invalid variable reference '{raw}': a name is letters, digits and '_', "
                "not starting with a digit (write '$${' for a literal '${')"
            )
            out.append(raw)
        elif name not in env:
            errors.append(f"environment variable '{name}' is not set (used as '{raw}')")
            out.append(raw)
        else:
            out.append(env[name])
        pos = end + 1
    out.append(text[pos:])
    return "".join(out), errors

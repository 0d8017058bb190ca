"""Turn pydantic's validation errors into spec problems a person can act on.

pydantic reports ``loc`` paths and terse English; we map each path back to the
YAML key or value it came from and say which field, what was expected, what
was given and, for near misses, what was probably meant.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails

from reconciler.errors import SourceLocation, SpecProblem
from reconciler.spec.models import PATTERN_HINTS
from reconciler.spec.names import visible
from reconciler.spec.yamlload import Document, YamlPath

_EXPECTED = {
    "string_type": "a string",
    "int_type": "a whole number",
    "bool_type": "true or false",
    "dict_type": "a mapping",
    "list_type": "a list",
    "float_type": "a number",
}


SYNONYMS: dict[str, tuple[str, ...]] = {
    "active": ("enabled", "enable", "on", "running", "live", "activated"),
    "suspended": ("paused", "frozen", "blocked", "suspend"),
    "disabled": ("disable", "off", "deactivated"),
    "inactive": ("deactivated",),
}
"""Words people write for a state, by the state: spelling alone would turn ``enabled``
into ``disabled``, the opposite of what was meant."""


def did_you_mean(given: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or ``""``.

    A word that means one of the choices (``enabled`` for ``active``) wins over one
    that is spelled alike.
    """
    options = list(choices)
    lowered = {c.lower(): c for c in options}
    if given.lower() in lowered:
        return f" (did you mean '{lowered[given.lower()]}'?)"
    meant = [c for c in options if given.lower() in SYNONYMS.get(c.lower(), ())]
    if meant:
        return f" (did you mean '{meant[0]}'?)"
    camel = to_camel(given)
    if camel in options:
        return f" (did you mean '{camel}'?)"
    close = difflib.get_close_matches(given, options, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def describe(value: Any) -> str:
    """A value as the YAML author would recognise it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string '{value}'"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def validation_problems(
    exc: ValidationError,
    doc: Document,
    fields: Sequence[str] | Callable[[YamlPath], Sequence[str]],
    skip: Collection[SourceLocation | None] = (),
) -> list[SpecProblem]:
    """One problem per pydantic error, at the YAML node it concerns.

    ``fields`` are the field names accepted (for did-you-mean), or a function
    giving those accepted at the path of an unknown field. Errors at a location
    in ``skip`` are dropped: a value already reported (say, an unset
    ``${VAR}`` left as written) should not be reported twice.
    """
    allowed = fields if callable(fields) else (lambda _path: fields)
    problems = []
    for error in exc.errors(include_url=False):
        loc: YamlPath = tuple(error["loc"])
        on_key = bool(loc) and loc[-1] == "[key]"
        path = loc[:-1] if on_key else loc
        if error["type"] == "extra_forbidden":
            on_key = True
        elif error["type"] == "missing":
            path = path[:-1]  # point at the mapping that lacks the field
        where = doc.locate(path, key=on_key)
        if where in skip:
            continue
        message = _message(error, loc, on_key, allowed(path))
        problems.append(SpecProblem(where, visible(message)))
    return problems


def _message(error: ErrorDetails, loc: YamlPath, on_key: bool, fields: Sequence[str]) -> str:
    kind = error["type"]
    given: Any = error.get("input")
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    path = loc[:-1] if loc and loc[-1] == "[key]" else loc
    name = ".".join(str(p) for p in path)
    if kind == "missing":
        return f"missing required field '{name}'"
    if kind == "extra_forbidden":
        hint = did_you_mean(str(path[-1]), fields) or f" (allowed: {', '.join(fields)})"
        return f"unknown field '{name}'{hint}"
    if on_key:
        subject = f"key '{path[-1]}' in '{'.'.join(str(p) for p in path[:-1])}'"
    else:
        subject = f"'{name}'"
    if kind in _EXPECTED:
        tip = ""
        if kind == "string_type" and isinstance(given, int | float | bool):
            tip = " (quote it to make it a string)"
        return f"{subject} must be {_EXPECTED[kind]}, not {describe(given)}{tip}"
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        choices = re.findall(r"'([^']*)'", str(expected))
        hint = did_you_mean(given, choices) if isinstance(given, str) else ""
        return f"{subject} must be {expected}, not {describe(given)}{hint}"
    if kind == "string_pattern_mismatch":
        hint = PATTERN_HINTS.get(str(ctx.get("pattern")), f"must match {ctx.get('pattern')}")
        return f"{subject} {hint} (got '{given}')"
    if kind == "string_too_short":
        return f"{subject} must not be empty"
    if kind == "string_too_long":
        return f"{subject} must be at most {ctx.get('max_length')} characters, not {len(given)}"
    if kind in ("greater_than_equal", "less_than_equal"):
        op, bound = (">=", ctx.get("ge")) if kind == "greater_than_equal" else ("<=", ctx.get("le"))
        return f"{subject} must be {op} {bound}, not {describe(given)}"
    if kind == "value_error":
        return f"{subject} {ctx.get('error', error['msg'])}"
    return f"{subject}: {error['msg']}"

"""Everything the CLI prints goes through here: redacted, CI-safe, one line per name.

:func:`say` is the one way to write to stdout or stderr; :func:`say_error`
shows a :class:`ReconcilerError`; :class:`ClickHandler` sends log records
through :func:`say`; :func:`use_colour` decides on colour. Names and values
inside messages are already escaped onto one line by the renderers
(:func:`reconciler.report.escape.inline`).
"""

from __future__ import annotations

import logging
import os
import sys

import click

from reconciler import redact
from reconciler.errors import ReconcilerError, SpecError, StalePlanError, UnsupportedError
from reconciler.report.escape import inline, workflow_safe


def say(message: object = "", *, err: bool = False, nl: bool = True, json: bool = False) -> None:
    """Print ``message``: the one way the CLI writes to stdout or stderr.

    Secrets are redacted (:func:`reconciler.redact.redact`) and no line can be a
    CI workflow command (:func:`reconciler.report.escape.workflow_safe`: a line
    starting with ``::`` gets a visible backslash, ``##[`` becomes ``##\\[``).
    ``json``: ``message`` is a JSON document, already redacted value by value
    (:func:`reconciler.redact.scrub`); it stays one that decodes the same.
    """
    text = str(message) if json else redact.redact(str(message))
    click.echo(workflow_safe(text, json=json), err=err, nl=nl)


class SafeStream:
    """A stream for click's own messages (usage errors) that writes through :func:`say`."""

    def __init__(self, err: bool) -> None:
        self.err = err

    def write(self, data: str) -> int:
        say(data, err=self.err, nl=False)
        return len(data)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def say_error(exc: ReconcilerError) -> None:
    """One error as ``error: ...``; anything from specs or servers escaped onto its line."""
    if isinstance(exc, (SpecError, UnsupportedError)):
        for problem in exc.problems:
            say(f"error: {inline(problem)}", err=True)
        count = len(exc.problems)
        say(f"{count} problem{'s' if count != 1 else ''} found; nothing was changed.", err=True)
        return
    if isinstance(exc, StalePlanError):  # its lines name live objects: shown from data
        first = str(exc).split("\n", 1)[0]
        say(f"error: {inline(first)}", err=True)
        for line in exc.moved:
            say(f"  {inline(line)}", err=True)
        say("Make and review a new plan.", err=True)
        return
    first, *rest = str(exc).split("\n")
    say(f"error: {inline(first)}", err=True)
    for line in rest:  # our own line breaks; each line escaped
        say(inline(line), err=True)


class ClickHandler(logging.Handler):
    """Log records to stderr as it is at the moment of the record (what tests capture).

    The message is escaped onto one line (a name in it cannot start a line of
    its own) and, with the rest of the record, goes out through :func:`say`.
    """

    def emit(self, record: logging.LogRecord) -> None:
        try:
            safe = logging.makeLogRecord(record.__dict__)
            safe.msg, safe.args = inline(record.getMessage()), None
            say(self.format(safe), err=True)
        except Exception:
            self.handleError(record)


def setup_logging(verbose: int) -> None:
    """One :class:`ClickHandler` on the root logger, at the level ``-v`` asks for."""
    level = logging.WARNING - 10 * min(verbose, 2)
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, ClickHandler)]:
        root.removeHandler(handler)
    handler = ClickHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs full URLs at INFO; they hold no token, but keep them for -vv only.
    logging.getLogger("httpx").setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)


def use_colour(no_colour: bool = False) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set (no-color.org)."""
    return not no_colour and "NO_COLOR" not in os.environ and sys.stdout.isatty()

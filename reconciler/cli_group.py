"""The ``reconciler`` group's machinery: one place for errors and exit codes, lazy commands.

:class:`ReconcilerGroup` is the group class of :func:`reconciler.cli.main`: it
turns every error into a message and an exit code, registers commands that are
imported only when used (issue 15), and gives every command ``-v`` and help
examples printed as written. It lives apart so the command modules and the
entry point can share the exit codes without importing each other.

Importing it stays light: click and the CLI's own output helpers only.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, MutableMapping
from typing import Any

import click

from reconciler.cli_output import SafeStream, say, say_error, setup_logging
from reconciler.errors import ReconcilerError

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
EXIT_SIGINT = 130  # 128 + SIGINT, as a shell reports a run ended by Ctrl-C


class ReconcilerGroup(click.Group):
    """Turns every error into a message on stderr and exit code 1; imports commands lazily.

    Exit codes have one meaning each (README, "Exit codes"): 0 done or nothing to
    do, 2 changes or drift found (and nothing else), 1 every error, a usage
    error and a declined prompt included. click exits 2 on a usage error; here
    that is 1, so a cron job reading 2 as drift is never fooled by a typo.

    A command registered with :meth:`lazy_command` is imported when it runs, so
    ``plan`` never loads the GitHub client or the sandbox's server; ``--help``
    lists it by its summary without importing it. ``commands`` holds them all,
    imported on access.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._lazy: dict[str, Callable[[], click.Command]] = {}
        self._summaries: dict[str, str] = {}
        self._commands: dict[str, click.Command] = {}
        super().__init__(*args, **kwargs)

    @property
    def commands(self) -> MutableMapping[str, click.Command]:
        """Every command, the lazy ones imported now (for ``--help``, docs and tests)."""
        for name in list(self._lazy):
            self._import(name)
        return self._commands

    @commands.setter
    def commands(self, value: MutableMapping[str, click.Command]) -> None:
        self._commands = dict(value)

    def lazy_command(self, name: str, load: Callable[[], click.Command], summary: str) -> None:
        """Register command ``name``, which ``load()`` imports and gives when it is used;
        ``summary`` (the first paragraph of its help) is what ``--help`` lists meanwhile."""
        self._lazy[name] = load
        self._summaries[name] = summary

    def summary(self, name: str) -> str | None:
        """What ``--help`` lists for a lazy command without importing it."""
        return self._summaries.get(name)

    def _import(self, name: str) -> None:
        self.add_command(self._lazy.pop(name)(), name)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._lazy:
            self._import(cmd_name)
        return self._commands.get(cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self._commands, *self._lazy})

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's list of commands, a lazy one shown by its summary: ``--help`` imports
        none of them (the GitHub commands alone import ~270 ms, issue 15)."""
        listed = [
            (name, self._commands.get(name) or click.Command(name, help=self._summaries[name]))
            for name in self.list_commands(ctx)
        ]
        listed = [(name, cmd) for name, cmd in listed if not cmd.hidden]
        if listed:
            limit = formatter.width - 6 - max(len(name) for name, _ in listed)
            with formatter.section("Commands"):
                formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in listed])

    def main(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("standalone_mode", True) is False:
            return super().main(*args, **kwargs)
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.Exit as exc:  # --help, --version, ctx.exit(n)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:  # usage errors: printed the safe way, exit 1
            exc.show(file=SafeStream(err=True))  # type: ignore[arg-type]
            sys.exit(EXIT_ERROR)
        except click.Abort as exc:
            if isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
                say("Interrupted (SIGINT).", err=True)  # plan, drift, export: nothing written
                sys.exit(EXIT_SIGINT)
            say("Aborted; nothing more was started.", err=True)
            sys.exit(EXIT_ERROR)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        name = name or cmd.name
        if name is None:
            raise TypeError("Command has no name.")
        keep_examples(cmd)
        verbose_anywhere(cmd)
        self._lazy.pop(name, None)
        self._commands[name] = cmd  # as click's own, without importing the lazy ones

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ReconcilerError as exc:
            say_error(exc)
            sys.exit(EXIT_ERROR)


def keep_examples(cmd: click.Command) -> None:
    """Indented paragraphs of a command's help (its examples) are printed as written:
    click rewraps every paragraph, which breaks a long example line in two."""
    if cmd.help:
        paragraphs = inspect.cleandoc(cmd.help).split("\n\n")
        cmd.help = "\n\n".join(
            "\b\n" + p
            if p.strip() and all(ln.startswith("    ") for ln in p.splitlines() if ln)
            else p
            for p in paragraphs
        )
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            keep_examples(sub)


def _more_logging(ctx: click.Context, param: click.Parameter, value: int) -> None:
    if value:
        root = ctx.find_root()
        setup_logging(value + int(root.params.get("verbose") or 0))


def verbose_anywhere(cmd: click.Command) -> None:
    """``-v`` after the command name too (``reconciler plan specs -v``), as people type it."""
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            verbose_anywhere(sub)
        return
    if not any(isinstance(p, click.Option) and "-v" in p.opts for p in cmd.params):
        cmd.params.append(
            click.Option(
                ["-v", "--verbose"],
                count=True,
                expose_value=False,
                callback=_more_logging,
                help="More logging on stderr (-vv for debug).",
            )
        )

"""The ``reconciler`` command: a thin click layer over :mod:`reconciler.core`.

Every command calls one library function; errors become messages and exit codes
in one place (:class:`ReconcilerGroup`), so a user error never shows a traceback.
Exit codes: 0 success, 1 every error (usage errors and a declined prompt too),
2 changes pending (``plan --detailed-exitcode``) or drift, and nothing else.

Everything printed goes through :func:`say` (:mod:`reconciler.cli_output`):
secrets redacted, and no line a CI runner would take as a workflow command.
Shared options are gathered into one value each (:mod:`reconciler.cli_options`);
``plan`` and ``drift`` reports are assembled in :mod:`reconciler.cli_report`;
``sandbox`` and the GitHub commands live in ``cli_sandbox`` and ``cli_github``.

Importing this module stays light (issue 15, "CLI import time"): ``--version``
and ``--help`` run before any command, so :mod:`reconciler.core` (and with it
pydantic, httpx, the engine) is imported inside the commands that call it.
``tests/test_import_time.py`` keeps it so.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, MutableMapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import click


def _without_httpx_cli() -> None:
    """Keep httpx's own command-line client out: ``import httpx`` imports it, and with it
    rich's console, progress and syntax and pygments' lexers (~50 ms a run), which
    reconciler never uses. A stand-in takes its place unless httpx was imported already."""
    if "httpx" in sys.modules:
        return
    stand_in = ModuleType("httpx._main", "Not loaded by reconciler: run the httpx command.")

    def main(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("httpx's command-line client is not loaded in reconciler's process")

    stand_in.main = main  # type: ignore[attr-defined]
    sys.modules.setdefault("httpx._main", stand_in)


_without_httpx_cli()

from reconciler import __version__, redact  # noqa: E402  (after the stand-in)
from reconciler.cli_options import (  # noqa: E402
    ReportOptions,
    no_parallelism,
    only_option,
    report_options,
    spec_argument,
    target_options,
    tls_options,
)
from reconciler.cli_output import ClickHandler, SafeStream, say, say_error, setup_logging  # noqa: E402
from reconciler.cli_output import use_colour as use_colour  # noqa: E402
from reconciler.errors import ReconcilerError  # noqa: E402
from reconciler.model import ResourceId  # noqa: E402
from reconciler.report.escape import inline  # noqa: E402

if TYPE_CHECKING:
    from reconciler.interrupt import Caught
    from reconciler.runs import PlanRun
    from reconciler.targets import TargetChoice

__all__ = ["ClickHandler", "main", "say", "stdin_is_terminal", "use_colour"]

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


def stdin_is_terminal() -> bool:
    """Whether someone can answer a prompt (tests replace this to play the person)."""
    return sys.stdin.isatty()


@click.group(cls=ReconcilerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
@click.option("-v", "--verbose", count=True, help="More logging on stderr (-vv for debug).")
def main(verbose: int) -> None:
    """Reconcile multi-tenant SaaS platforms with the YAML specs in a repository.

    Example:

        reconciler plan specs && reconciler apply specs
    """
    redact.forget_all()  # one run, one set of secrets: each is registered where it is read
    setup_logging(verbose)


@main.command()
@spec_argument
@no_parallelism
@target_options
def validate(path: Path, choice: TargetChoice) -> None:
    """Check the specs and reconciler.yaml without calling any API (no token needed).

    Every problem is reported with its file:line:column, and so is everything the
    target's API cannot do (the chosen target, else the one plan would use).

    Example:

        reconciler validate specs
    """
    from reconciler import core

    desired = core.validate(path, choice)
    say(f"{inline(path)}: {len(desired)} objects, all valid.")


@main.command()
@tls_options
@spec_argument
@target_options
@report_options
@only_option
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 0 with no changes, 2 with changes, 1 on error."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the plan (changes + fingerprints of what was read) for `reconciler apply FILE`.",
)
@click.option(
    "--show-calls",
    is_flag=True,
    help="Also list the exact HTTP writes apply would send (sensitive values masked).",
)
def plan(
    path: Path,
    choice: TargetChoice,
    report: ReportOptions,
    only: tuple[ResourceId, ...],
    detailed_exitcode: bool,
    out: Path | None,
    show_calls: bool,
) -> None:
    """Show what apply would change, without changing anything.

    With --out, save the plan: `reconciler apply FILE` then applies exactly it,
    and refuses if the live state moved since. With --base, the report splits
    what this branch changes from drift already on the platform.

    Example:

        reconciler plan specs --out plan.json --format markdown --base origin/main
    """
    from reconciler import core
    from reconciler.cli_report import show_review

    review = core.review(path, choice, base=report.base, show_calls=show_calls, only=only)
    show_review(review, "reconciler plan", report)
    if out is not None:
        core.save_plan(review.run, out, path)
        shown = inline(out)
        say(f"Plan saved to {shown}; apply it with: reconciler apply {shown}", err=True)
    if detailed_exitcode and review.run.plan.has_changes:
        sys.exit(EXIT_CHANGES)


@main.command()
@tls_options
@spec_argument
@target_options
@report_options
def drift(path: Path, choice: TargetChoice, report: ReportOptions) -> None:
    """Compare the live platform with the specs; exit 2 when they differ.

    Exit codes: 0 no drift, 2 drift, 1 error. Run it on a schedule to notice
    changes made by hand.

    Example:

        reconciler drift specs --format markdown --output drift.md
    """
    from reconciler import core
    from reconciler.cli_report import show_review

    review = core.review(path, choice, base=report.base)
    show_review(review, "reconciler drift report", report)
    if review.run.plan.has_changes:
        sys.exit(EXIT_CHANGES)


@main.command()
@tls_options
@spec_argument
@target_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "dot"]),
    default="mermaid",
    show_default=True,
)
def graph(path: Path, choice: TargetChoice, fmt: str) -> None:
    """Draw the pending changes in dependency order (mermaid or Graphviz dot).

    An arrow A --> B means B waits for A.

    Example:

        reconciler graph specs --format dot | dot -Tsvg > changes.svg
    """
    from reconciler import core
    from reconciler.report import graph as graphs

    run = core.plan(path, choice)
    say(graphs.mermaid(run.plan) if fmt == "mermaid" else graphs.dot(run.plan))


@main.command()
@tls_options
@spec_argument
@target_options
@only_option
@click.option("--auto-approve", is_flag=True, help="Apply without asking (for CI).")
@click.option(
    "--allow-mass-changes",
    is_flag=True,
    help="Apply even when removals exceed the guard's limits (see reconciler.yaml 'guards').",
)
@click.option("--no-color", is_flag=True, help="Never colour the output.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: the plan, what was applied and what is left, on stdout (docs/json-report.md); "
    "the human-readable lines go to stderr.",
)
def apply(
    path: Path,
    choice: TargetChoice,
    only: tuple[ResourceId, ...],
    auto_approve: bool,
    allow_mass_changes: bool,
    no_color: bool,
    fmt: str,
) -> None:
    """Apply the specs (or a saved plan) to the target: show, confirm, apply, verify.

    On a terminal it asks before changing anything; in CI pass --auto-approve.
    Without a terminal and without --auto-approve it refuses rather than waits.
    PATH may be a plan saved by `plan --out`: exactly that plan is applied, and
    nothing at all if the live state changed since it was made.

    Ctrl-C or SIGTERM stops it without losing anything: no new change starts,
    those in flight get 10 s to finish, then a summary (applied, failed, not
    started, unknown) and exit 130 (143 for SIGTERM); a second one stops at once.
    Every write is journaled before it is sent; the next run re-reads.

    Example:

        reconciler apply specs --auto-approve
        reconciler apply plan.json --auto-approve
    """
    from reconciler import core, planfile
    from reconciler.cli_report import target_dict
    from reconciler.interrupt import StopRequest, signals_stop
    from reconciler.progress import ApplyProgress, render_stopped, stopping_notice
    from reconciler.report import json_report, text

    as_json = fmt == "json"
    colour = use_colour(no_color) and not as_json
    human = functools.partial(say, err=as_json)  # with --format json, stdout is the document
    interactive = stdin_is_terminal()
    progress = ApplyProgress(live=None if not no_color else False)
    stop = StopRequest()
    stop.listen(lambda s: progress.note(stopping_notice(s.reason, s.at_once, s.grace)))

    def approve(run: PlanRun) -> bool:
        human(text.render_plan(run.plan, run.target.describe(), colour))
        if not auto_approve:
            if not interactive:
                raise click.UsageError(
                    "no terminal to confirm on; review the plan and re-run with --auto-approve"
                )
            if not click.confirm("\nApply these changes?", default=False):
                return False
        progress.start(len(run.plan.changes))
        return True

    with signals_stop(stop) as caught:
        try:
            if planfile.is_plan_file(path):
                if choice.names_a_target:
                    raise click.UsageError(
                        "a saved plan names its own target; drop --target/--api/--url"
                    )
                run = core.apply_saved(
                    path,
                    approve=approve,
                    on_event=progress,
                    allow_mass_changes=allow_mass_changes,
                    tls=choice,
                    stop=stop,
                    only=only,
                )
            else:
                run = core.apply(
                    path,
                    choice,
                    approve=approve,
                    on_event=progress,
                    allow_mass_changes=allow_mass_changes,
                    stop=stop,
                    only=only,
                )
        except click.UsageError as exc:
            say(f"error: {inline(exc.message)}", err=True)
            sys.exit(EXIT_ERROR)
        except (KeyboardInterrupt, click.Abort):  # Ctrl-C at the prompt is an Abort
            _interrupted_before_applying(caught)
            raise
        finally:
            progress.stop()
    if as_json:
        document = json_report.apply_document(run, target_dict(run.planned))
        say(json_report.dumps(redact.scrub(document)), json=True)
    if run.result is None:
        if not run.approved:  # declined at the prompt: not done, so not success (as Terraform)
            human("Apply cancelled; nothing was changed.")
            sys.exit(EXIT_ERROR)
        else:
            human(text.render_plan(run.planned.plan, run.planned.target.describe(), colour))
            human("Nothing to apply.")
        return
    if run.result.stopped:
        human(render_stopped(run.result))
    else:
        human(text.render_apply(run.result, run.converged, run.remaining))
    if run.result.verify_error:  # what the writes did is above; the re-read failed
        say(
            f"error: the re-read to verify the apply failed: {inline(run.result.verify_error)}",
            err=True,
        )
    if caught.exit_status is not None:
        sys.exit(caught.exit_status)  # 130 after SIGINT, 143 after SIGTERM
    if not run.ok:
        sys.exit(EXIT_ERROR)


def _interrupted_before_applying(caught: Caught) -> None:
    """A signal before any change began: say nothing was changed and exit as signalled."""
    from reconciler.interrupt import signal_name

    if caught.exit_status is None:
        return  # not a signal (end of input at the prompt): the caller re-raises
    name = signal_name(caught.signals[0])
    say(f"Interrupted ({name}) before any change was made; nothing was changed.", err=True)
    sys.exit(caught.exit_status)


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@no_parallelism
@target_options
@tls_options
@click.option(
    "--layout",
    type=click.Choice(["kind", "tenant"]),
    default="kind",
    show_default=True,
    help="One file per kind, or one file per tenant (with its flags and roles).",
)
@click.option("--force", is_flag=True, help="Overwrite spec files that exist.")
@click.option(
    "--config",
    "config_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Spec directory whose reconciler.yaml names the targets (default: OUT_DIR).",
)
def export(
    out_dir: Path,
    choice: TargetChoice,
    layout: str,
    force: bool,
    config_dir: Path | None,
) -> None:
    """Write YAML specs from a target's live state, to adopt an existing platform.

    A plan of the exported specs right after shows no changes. Nothing is
    pruned until you choose a policy in the written reconciler.yaml.

    Example:

        reconciler export specs --api reference --url https://platform.example.com
    """
    from reconciler import core
    from reconciler import export as exporting
    from reconciler.spec.config import load_config

    config = load_config(config_dir or out_dir) if (config_dir or out_dir).is_dir() else None
    resolved = core.resolve_for_export(config, choice)
    written = exporting.export(
        resolved, out_dir, "tenant" if layout == "tenant" else "kind", force=force
    )
    for path in written.written:
        say(f"wrote {inline(path)}")
    for left in written.left_out:
        say(f"warning: {inline(left)}", err=True)
    where = inline(out_dir)
    say(f"Exported {inline(resolved.describe())} into {where}; check with: reconciler plan {where}")


@main.command()
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the schema to this file instead of stdout.",
)
def schema(output: Path | None) -> None:
    """Print the JSON Schema of spec documents, for completion and checks in editors.

    Point the YAML language server at it with a first line such as
    `# yaml-language-server: $schema=docs/schema/spec.schema.json`.

    Example:

        reconciler schema --output docs/schema/spec.schema.json
    """
    from reconciler.report import json_report
    from reconciler.spec import spec_json_schema

    text = json_report.dumps(spec_json_schema()) + "\n"
    if output is None:
        say(text, nl=False, json=True)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        say(f"Schema written to {inline(output)}", err=True)


@main.command()
@click.argument("dialect", required=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
def apis(dialect: str | None, fmt: str) -> None:
    """List the API dialects, where each comes from and what it can manage (kinds x operations).

    Built-in dialects first, then those installed from other distributions
    (entry-point group reconciler.dialects), each with its source. An installed
    one that cannot be loaded is left out with a warning. With a DIALECT, show
    its source, settable fields, accepted values, notes and options. The
    Markdown is docs/apis/README.md exactly: the built-in dialects only.

    Example:

        reconciler apis
        reconciler apis tenants-v1
        reconciler apis --format markdown > docs/apis/README.md
    """
    from reconciler import dialects as registry
    from reconciler.report import json_report, support

    if dialect is not None:
        info = _described(dialect)
        if fmt == "json":
            say(json_report.dumps(info), json=True)
        else:
            say(support.render_details_text(info))
        return
    if fmt == "markdown":  # the docs page: the same on every machine
        say(support.render_readme([_described(line.name) for line in registry.REGISTRY]))
        return
    infos = []
    for line in registry.entries():
        try:
            infos.append(_described(line.name))
        except Exception as exc:  # an installed dialect's bug must not hide the others
            if line.built_in:
                raise
            reason = f"its provider could not be loaded ({type(exc).__name__}: {exc})"
            problem = registry.PluginProblem(line.source, line.name, reason)
            say(f"warning: {inline(str(problem))}", err=True)
    if fmt == "json":
        say(json_report.dumps(support.matrix_json(infos)), json=True)
    else:
        say(support.render_text(infos))


def _described(name: str) -> dict[str, Any]:
    """What dialect ``name`` declares, with its source and documentation (``reconciler apis``).

    A name no dialect has is the providers' ConfigError naming the known ones.
    """
    from reconciler import dialects as registry
    from reconciler.providers import describe

    info = describe(name)
    line = registry.entry(name)
    assert line is not None  # describe found it
    return {**info, "source": line.source, "page": line.page}


def _lazy(name: str) -> click.Command:
    """The command ``name`` of a module imported only when one of its commands is used."""
    if name in ("comment", "drift-issue", "github"):
        from reconciler.cli_github import comment, drift_issue, github

        return {"comment": comment, "drift-issue": drift_issue, "github": github}[name]
    if name == "sandbox":
        from reconciler.cli_sandbox import sandbox

        return sandbox
    if name == "init":
        from reconciler.cli_init import init

        return init
    from reconciler.cli_probe import probe

    return probe


LAZY_SUMMARIES = {
    "comment": "Post REPORT_FILE as the one sticky reconciler comment on a pull request.",
    "drift-issue": "Keep one GitHub issue open while the live platform drifts from the specs.",
    "github": "The steps of reconciler's GitHub workflow (action.yml runs them).",
    "sandbox": "Run the sandbox: a local HTTP server that emulates the documented APIs.",
    "init": "Write a starter spec directory: reconciler.yaml, one example per kind, .gitignore.",
    "probe": "Check, reading only, that the target's API answers as its dialect and options say.",
}
"""The first paragraph of each lazy command's help, listed by ``--help`` without importing
the command (``tests/test_import_time.py`` checks each against the command's own)."""

for _name, _summary in LAZY_SUMMARIES.items():
    main.lazy_command(_name, functools.partial(_lazy, _name), _summary)

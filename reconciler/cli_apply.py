"""``reconciler apply``: show, confirm, apply, verify, and stop cleanly on a signal.

A thin command over :func:`reconciler.core.apply` (and ``apply_saved`` for a
plan file), imported inside the command (issue 15). The prompt, the progress
and the signal handling (Ctrl-C or SIGTERM: nothing new starts, a summary, exit
130 or 143) are the command's; the library only sees a ``StopRequest``.
It is registered on the group by :mod:`reconciler.cli`.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler import redact
from reconciler.cli_group import EXIT_ERROR
from reconciler.cli_options import only_option, spec_argument, target_options, tls_options
from reconciler.cli_output import say, use_colour
from reconciler.model import ResourceId
from reconciler.report.escape import inline

if TYPE_CHECKING:
    from reconciler.interrupt import Caught
    from reconciler.runs import PlanRun
    from reconciler.targets import TargetChoice


def stdin_is_terminal() -> bool:
    """Whether someone can answer a prompt (tests replace this to play the person).

    Replace it here: ``reconciler.cli`` re-exports it, but ``apply`` reads it from this module."""
    return sys.stdin.isatty()


@click.command()
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

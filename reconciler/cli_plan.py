"""``validate``, ``plan``, ``drift`` and ``graph``: the commands that read and change nothing.

Each is a thin command over :mod:`reconciler.core`, imported inside the command
(issue 15); ``plan`` and ``drift`` reports are assembled in
:mod:`reconciler.cli_report`. They are registered on the group by
:mod:`reconciler.cli`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.cli_group import EXIT_CHANGES
from reconciler.cli_options import (
    ReportOptions,
    no_parallelism,
    only_option,
    report_options,
    spec_argument,
    target_options,
    tls_options,
)
from reconciler.cli_output import say
from reconciler.model import ResourceId
from reconciler.report.escape import inline

if TYPE_CHECKING:
    from reconciler.targets import TargetChoice


@click.command()
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


@click.command()
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


@click.command()
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


@click.command()
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

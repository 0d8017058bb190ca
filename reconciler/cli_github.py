"""``reconciler comment`` and ``reconciler drift-issue``: reports onto GitHub from a workflow.

Thin commands over :mod:`reconciler.github`. Their errors are ReconcilerErrors,
so the main group turns them into one message and exit code 1; the token is
never printed (it is registered with :mod:`reconciler.redact` as it is read,
and everything printed goes through the CLI's ``say``). The report also goes
to the job summary first, so it is there even when posting fails.
"""

from __future__ import annotations

import os
from typing import TextIO

import click

from reconciler import redact
from reconciler.github import context
from reconciler.github.body import Marker, Summary, append_step_summary, with_marker
from reconciler.github.client import GitHubClient
from reconciler.github.comment import post_report
from reconciler.github.issue import LABEL, report_clean, report_drift
from reconciler.report import escape


def say(message: str, *, err: bool = False) -> None:
    """The CLI's one output function (imported late: reconciler.cli imports this module)."""
    from reconciler.cli import say as cli_say

    cli_say(message, err=err)


def _github_context() -> context.GitHubContext:
    ctx = context.from_environ(os.environ)
    redact.register(ctx.token)
    return ctx


def _prepare(report_file: TextIO, target: str | None, specs: str | None) -> tuple[str, Marker]:
    """The report with its marker, written to the job summary; notes on stderr."""
    body, marker = with_marker(report_file.read(), target, specs)
    for name, given in (("target", target), ("specs", specs)):
        own = marker.get(name)
        if given and own is not None and own != escape.comment_value(given):
            say(
                f"note: the report's marker says {name}={escape.inline(repr(own))}; "
                f"it identifies the report, not --{name}",
                err=True,
            )
    summary = append_step_summary(body, os.environ)
    if summary in (Summary.CUT, Summary.FULL):
        say(f"warning: job summary {summary.value}: it holds at most 1 MiB", err=True)
    return body, marker


def report_argument(func: click.decorators.FC) -> click.decorators.FC:
    return click.argument("report_file", metavar="REPORT_FILE", type=click.File("r", "utf-8"))(func)


def marker_options(func: click.decorators.FC) -> click.decorators.FC:
    """``--target`` / ``--specs`` / ``--author``: which earlier post is ours."""
    options = [
        click.option("--target", help="Target name for the marker, if the report has none."),
        click.option("--specs", help="Spec path for the marker, if the report has none."),
        click.option(
            "--author",
            help="Only edit what this login wrote (e.g. 'github-actions[bot]'); "
            "default: anyone's post with the same marker.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.command("comment")
@report_argument
@click.option(
    "--pr",
    type=click.IntRange(min=1),
    help="Pull request number (default: from the event in $GITHUB_EVENT_PATH).",
)
@marker_options
def comment(
    report_file: TextIO,
    pr: int | None,
    target: str | None,
    specs: str | None,
    author: str | None,
) -> None:
    """Post REPORT_FILE as the one sticky reconciler comment on a pull request.

    A later run finds the comment by the report's hidden marker (same target
    and specs) and edits it in place, so a pull request holds one comment per
    target. REPORT_FILE '-' reads stdin. Uses GITHUB_TOKEN (the workflow needs
    `permissions: pull-requests: write`), GITHUB_REPOSITORY and GITHUB_API_URL;
    also appends the report to $GITHUB_STEP_SUMMARY when set.

    Example:

        reconciler comment report.md --target production --specs specs
    """
    body, marker = _prepare(report_file, target, specs)
    ctx = _github_context()
    number = pr or context.pull_request_number(os.environ)
    with GitHubClient(ctx) as client:
        posted = post_report(client, number, body, marker, author)
    where = escape.inline(f"{ctx.repository}#{number}")
    url = escape.inline(posted.url)
    if posted.action == "unchanged":
        say(f"The reconciler comment on {where} is already up to date: {url}")
    else:
        say(f"{posted.action.capitalize()} the reconciler comment on {where}: {url}")
    if posted.cut:
        say("warning: the report was cut to GitHub's 65,536-character limit", err=True)


@click.command("drift-issue")
@report_argument
@click.option(
    "--state",
    type=click.Choice(["drift", "clean"]),
    required=True,
    help="drift: open or update the issue; clean: close it (map `reconciler drift` "
    "exit 2 to drift, 0 to clean).",
)
@click.option(
    "--label", default=LABEL, show_default=True, help="Label the issue carries and is found by."
)
@marker_options
def drift_issue(
    report_file: TextIO,
    state: str,
    label: str,
    target: str | None,
    specs: str | None,
    author: str | None,
) -> None:
    """Keep one GitHub issue open while the live platform drifts from the specs.

    With --state drift it opens "Drift detected: TARGET" (labelled --label),
    or replaces the open one's body with REPORT_FILE; with --state clean it
    closes that issue with a comment. The issue is found again by its label and
    the report's marker. Uses GITHUB_TOKEN (the workflow needs `permissions:
    issues: write`) and GITHUB_REPOSITORY; REPORT_FILE '-' reads stdin.

    Example:

        reconciler drift-issue drift.md --state drift --target production
    """
    body, marker = _prepare(report_file, target, specs)
    ctx = _github_context()
    with GitHubClient(ctx) as client:
        if state == "drift":
            result = report_drift(client, body, marker, label=label, author=author)
        else:
            run = context.run_url(os.environ)
            result = report_clean(client, marker, label=label, author=author, run_url=run)
    where = escape.inline(f"{ctx.repository}#{result.number}")
    url = escape.inline(result.url)
    messages = {
        "opened": f"Opened the drift issue {where}: {url}",
        "updated": f"Updated the drift issue {where}: {url}",
        "unchanged": f"The drift issue {where} is already up to date: {url}",
        "closed": f"Closed the drift issue {where}: {url}",
        "none": "No drift and no open drift issue: nothing to do.",
    }
    say(messages[result.action])

"""``reconciler comment``, ``drift-issue`` and ``github …``: reconciler in a GitHub workflow.

Thin commands over :mod:`reconciler.github`: reports onto GitHub, and the steps
of the reusable workflow (``github run``, ``github apply-merged``, ``github
plan-failed``), which ``action.yml`` runs as
``python -m reconciler.github github …``. Their errors are ReconcilerErrors,
so the main group turns them into one message and exit code 1; the token is
never printed (it is registered with :mod:`reconciler.redact` as it is read,
and everything printed goes through the CLI's ``say``). The report also goes
to the job summary first, so it is there even when posting fails.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TextIO

import click

from reconciler import redact
from reconciler.errors import ReconcilerError
from reconciler.github import artifacts, context, merge_apply, pulls, trusted
from reconciler.github.body import (
    Marker,
    Summary,
    append_step_summary,
    failure_reason,
    find_marker,
    with_marker,
)
from reconciler.github.client import GitHubClient
from reconciler.github.comment import find_comment, post_report
from reconciler.github.issue import LABEL, report_clean, report_drift
from reconciler.report import escape, markdown, metadata, stale
from reconciler.spec.config import load_config


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


# ---- the reusable workflow's steps: `reconciler github …` ---------------------------------

REFUSED_ARGS = ("--target", "--api", "--url", "--insecure", "--allow-http")
"""Arguments that would choose another target or weaken TLS: the target comes from the
target input and ``reconciler.yaml`` (checked against the base branch), never from args."""


def _checked_args(args: tuple[str, ...] | list[str], what: str) -> list[str]:
    for arg in args:
        if arg.split("=", 1)[0] in REFUSED_ARGS:
            raise click.UsageError(
                f"{what} may not hold {arg.split('=', 1)[0]}: the target and its TLS settings "
                "come from the target input and reconciler.yaml, which is compared with the "
                "base branch before the token is used"
            )
    return list(args)


def _input_token() -> str | None:
    token = os.environ.get(merge_apply.INPUT_TOKEN, "").strip() or None
    if token is not None:
        redact.register(token)
    return token


def _workflow_step(func: click.decorators.FC) -> click.decorators.FC:
    """``--specs`` / ``--target``: the spec directory and target input of the workflow."""
    func = click.option(
        "--target", default="", help="The target input (empty: reconciler.yaml's default)."
    )(func)
    return click.option("--specs", default="specs", show_default=True, help="Spec directory.")(func)


@click.group("github")
def github() -> None:
    """The steps of reconciler's GitHub workflow (action.yml runs them).

    Each keeps the platform token to the target the base branch names, and
    the GitHub token to GitHub.
    """


@github.command(
    "run",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@_workflow_step
@click.option(
    "--trusted-ref",
    help="Git ref whose reconciler.yaml the target must match (a pull request's base branch).",
)
@click.option(
    "--artifact",
    "suffix",
    metavar="SUFFIX",
    help="Name the artifact of this run (pull request number, or run attempt): written as "
    "the step output artifact-name, and named in the report.",
)
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def run(
    specs: str, target: str, trusted_ref: str | None, suffix: str | None, command: tuple[str, ...]
) -> None:
    """Run one reconciler COMMAND with the platform token, if the target may have it.

    The token (from $RECONCILER_INPUT_TOKEN) is handed over under the target's
    tokenEnv only, and only when the target in SPECS/reconciler.yaml routes it
    exactly as the one at --trusted-ref does; COMMAND may not choose another
    target. Exits with COMMAND's exit code.

    Example:

        reconciler github run --specs specs --trusted-ref origin/main --artifact 7 -- plan specs
    """
    if command[0] not in ("plan", "drift"):
        raise click.UsageError(f"github run runs plan or drift, not {command[0]!r}")
    args = _checked_args(command, "the arguments")
    env = merge_apply.child_env(os.environ, None, None)  # the input token is not passed on
    if suffix is not None:
        if not re.fullmatch(r"[A-Za-z0-9-]{1,40}", suffix):
            raise click.UsageError("--artifact is a pull request number or a run attempt")
        name = artifacts.artifact_name(command[0], target, specs, suffix)
        context.write_outputs(os.environ, {"artifact-name": name})
        env["RECONCILER_ARTIFACT"] = name  # the report says where its full version is
    chosen = trusted.checked_target(Path(specs), target, trusted_ref)
    if target:
        args += ["--target", target]
    # In this process (one interpreter start less per step): the environment becomes the
    # command's, the input token only under the target's tokenEnv.
    env = merge_apply.child_env(env, chosen, _input_token())
    for name in merge_apply.WITHHELD:
        os.environ.pop(name, None)
    os.environ.update(env)
    root = click.get_current_context().find_root().command
    code: object
    try:
        code = root.main(args=args, prog_name="reconciler")
    except SystemExit as exc:
        code = exc.code
    raise click.exceptions.Exit(code if isinstance(code, int) else 0 if code is None else 1)


@github.command("apply-merged")
@_workflow_step
@click.option("--base-sha", required=True, help="The commit the branch was at before the push.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--environment", default="", help="The job's environment, named in the notice.")
@click.option("--apply-args", default="", help="Extra `apply` arguments, split on whitespace.")
@click.option("--plan-args", default="", help="Extra `plan` arguments, split on whitespace.")
@click.option("--author", help="Only edit a notice this login wrote.")
def apply_merged(
    specs: str,
    target: str,
    base_sha: str,
    out: Path,
    environment: str,
    apply_args: str,
    plan_args: str,
    author: str | None,
) -> None:
    """Apply exactly the plan reviewed on the pull request that made this commit.

    Refuses, applies nothing and posts a new plan on the merged pull request
    (and the job summary) when the plan is missing, was made from other specs,
    names another target, or the live state moved; exit 1 then. On a re-run,
    the new plan an earlier attempt posted is the one applied. Uses GITHUB_SHA,
    GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, GITHUB_TOKEN (`actions: read`,
    `pull-requests: write`) and the platform token in $RECONCILER_INPUT_TOKEN.

    Example:

        reconciler github apply-merged --specs specs --base-sha "$BEFORE" --out out
    """
    environ = os.environ
    ctx = _github_context()
    commit = pulls.check_sha(environ.get("GITHUB_SHA", ""), "GITHUB_SHA")
    repository = context.event(os.environ).get("repository")
    branch = repository.get("default_branch") if isinstance(repository, dict) else None
    job = merge_apply.MergeJob(
        specs=specs,
        target=target,
        commit=commit,
        base=pulls.check_sha(base_sha, "--base-sha"),
        branch=branch if isinstance(branch, str) and branch else None,
        out=out,
        run_id=context.run_number(environ, "GITHUB_RUN_ID"),
        attempt=context.run_number(environ, "GITHUB_RUN_ATTEMPT") or 1,
        environment=environment,
        apply_args=tuple(_checked_args(apply_args.split(), "--apply-args")),
        plan_args=tuple(_checked_args(plan_args.split(), "--plan-args")),
        author=author,
    )
    token = _input_token()
    with GitHubClient(ctx) as client:
        result = merge_apply.apply_merge(
            client, job, token=token, environ=environ, meta=metadata.from_environ(environ)
        )
    for note in result.notes:
        say(note, err=True)
    summary = append_step_summary(result.body, environ)
    if summary in (Summary.CUT, Summary.FULL):
        say(f"warning: job summary {summary.value}: it holds at most 1 MiB", err=True)
    outputs = {
        "outcome": result.outcome.value,
        "artifact-name": artifacts.artifact_name("apply", target, specs, job.attempt),
    }
    if result.pull is not None:
        outputs["pull-request"] = str(result.pull.number)
    if result.replan_dir is not None:
        outputs["replan-dir"] = str(result.replan_dir)
        outputs["replan-artifact"] = artifacts.artifact_name("replan", target, specs, job.attempt)
    context.write_outputs(environ, outputs)
    where = f" (#{result.pull.number})" if result.pull is not None else ""
    say(f"apply after merge{where}: {result.outcome.value}", err=result.exit_code != 0)
    raise click.exceptions.Exit(result.exit_code)


@github.command("plan-failed")
@_workflow_step
@click.option(
    "--reason-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The failed step's stderr; its error lines are the reason shown.",
)
@click.option("--pr", type=click.IntRange(min=1), help="Pull request (default: the event's).")
@click.option("--author", help="Only edit a comment this login wrote.")
def plan_failed(
    specs: str, target: str, reason_file: Path | None, pr: int | None, author: str | None
) -> None:
    """Mark the pull request's plan comment stale after its plan failed, saying why.

    Example:

        reconciler github plan-failed --specs specs --reason-file plan.stderr
    """
    reason = failure_reason(reason_file)
    ctx = _github_context()
    number = pr or context.pull_request_number(os.environ)
    try:
        chosen = trusted.pick(load_config(specs), target)
        name = chosen.name if chosen is not None else merge_apply.EMBEDDED_NAME
    except ReconcilerError:
        name = target  # a broken reconciler.yaml: the target input is all there is
    marker = find_marker(markdown.marker(name, specs))
    assert marker is not None
    with GitHubClient(ctx) as client:
        previous = find_comment(client, number, marker, author)
        body = stale.stale_report(
            str(previous["body"]) if previous else None,
            failed=metadata.from_environ(os.environ),
            reason=reason,
            target=name,
            specs=specs,
        )
        posted = post_report(client, number, body, marker, author)
    say(
        f"Marked the plan comment on #{number} stale ({posted.action}): {escape.inline(posted.url)}"
    )

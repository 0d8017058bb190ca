"""A review rendered for ``plan`` and ``drift``: text, JSON or Markdown, to stdout or a file.

The renderers live in :mod:`reconciler.report`; this module only puts one
:class:`reconciler.runs.Review` through the one the user chose, with the
options of :class:`reconciler.cli_options.ReportOptions`, and writes the result
redacted (and CI-safe on stdout).

The Markdown report says what it is in a footer line: the commit, the run and
the time. In GitHub Actions they come from the runner's variables
(``GITHUB_SHA``; ``GITHUB_SERVER_URL``, ``GITHUB_REPOSITORY`` and
``GITHUB_RUN_ID`` make the run's link), and ``RECONCILER_ARTIFACT`` names the
artifact the workflow uploads the full report in (:mod:`reconciler.report.metadata`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler import redact
from reconciler.cli_options import ReportOptions
from reconciler.cli_output import say, use_colour
from reconciler.report import json_report, metadata, text
from reconciler.report.escape import inline

if TYPE_CHECKING:
    from reconciler.runs import PlanRun, Review


def emit(report: str, output: Path | None, *, json: bool = False) -> None:
    """A report to stdout or a file; redacted either way (and CI-safe on stdout).

    ``json``: the report is a JSON document whose values are already redacted.
    """
    if output is None:
        say(report, nl=not report.endswith("\n"), json=json)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(report if json else redact.redact(report), encoding="utf-8")
        say(f"Report written to {inline(output)}", err=True)


def target_dict(run: PlanRun) -> dict[str, Any]:
    t = run.target
    # "api": the JSON report's key for the dialect's name, as in reconciler.yaml
    return {"name": t.name, "api": t.dialect, "url": t.url, "embedded": t.embedded}


def show_review(review: Review, title: str, options: ReportOptions) -> None:
    """Render one review in the chosen format, to stdout or a file (and the JSON report)."""
    run = review.run
    document = redact.scrub(json_report.review_dict(review, target_dict(run)))
    if options.json_report_path is not None:
        options.json_report_path.parent.mkdir(parents=True, exist_ok=True)
        options.json_report_path.write_text(json_report.dumps(document) + "\n", encoding="utf-8")
    if options.fmt == "json":
        emit(json_report.dumps(document) + "\n", options.output, json=True)
    elif options.fmt == "markdown":
        emit(_markdown(review, title, options), options.output)
    else:
        emit(_text(review, options.no_color) + "\n", options.output)


def report_metadata(
    commit: str | None = None,
    run_url: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> metadata.Metadata:
    """What a Markdown report says it is: the given commit and run link, else GitHub's."""
    return metadata.from_environ(
        os.environ if environ is None else environ, commit=commit, run_url=run_url, now=now
    )


def _markdown(review: Review, title: str, options: ReportOptions) -> str:
    from reconciler.report import markdown  # jinja2: only a Markdown report needs it

    run = review.run
    built = markdown.build_report(
        title=title,
        target=run.target.describe(),
        target_name=run.target.name,
        specs=review.spec_path,
        plan=run.plan,
        pr_changes=review.pr_changes,
        drift=review.drift if review.pr_changes is not None else None,
        reverted=review.reverted,
        base=review.base_label,
        template=options.template,
        calls=(
            text.render_calls(run.preview.calls, run.preview.unknown)
            if run.preview is not None
            else None
        ),
        meta=report_metadata(options.commit, options.run_url),
        report_file=options.json_report_path.name if options.json_report_path else None,
    )
    return built.render(options.max_length)


def _text(review: Review, no_color: bool) -> str:
    run = review.run
    rendered = text.render_plan(run.plan, run.target.describe(), use_colour(no_color))
    guards = text.render_guards(run.mass_changes, run.lockout)
    if guards:
        rendered += "\n\n" + guards
    if run.preview is not None:
        rendered += "\n\n" + text.render_calls(run.preview.calls, run.preview.unknown)
    if review.pr_changes is not None:
        rendered += "\n\n" + text.render_review(review.pr_changes, review.drift, review.reverted)
    return rendered

"""The comment the apply job leaves on the merged pull request when it did not apply the plan.

"Plan on the pull request, apply on merge" holds only if the merge applies what
was reviewed. When that plan is missing, was made from other specs, or the
platform moved since, the job applies nothing and says so where the reviewers
are: on the merged pull request (and in the job summary), with the new plan and
what to do next. Its own hidden marker (``reconciler-apply``) keeps it apart
from the pull request's plan comment, which stays as it was reviewed; a re-run
edits it in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from reconciler.report import escape
from reconciler.report.metadata import Metadata, footer, run_text

REASON_LINES = 40
REASON_CHARS = 4_000
"""Lines and characters of the refusal shown (its end); the job log has all of it."""


class Outcome(Enum):
    """What the apply job did with the merged pull request's plan."""

    APPLIED = "applied"
    NOTHING_TO_DO = "nothing to do"
    REFUSED = "refused"
    """Not applied; a new plan of the merged specs is attached."""
    NO_NEW_PLAN = "no new plan"
    """Not applied, and the new plan could not be made either."""
    TARGET_CHANGED = "target changed"
    """Not applied and not re-planned: the target is not the base branch's."""


@dataclass(frozen=True)
class Source:
    """Which plan was (or would have been) applied: a pull request's, or a re-run's."""

    artifact: str
    pull: int | None = None
    commit: str = ""
    """The pull request's head commit its plan was made on."""
    attempt: int | None = None
    """The earlier attempt of this job that made and posted the plan."""

    def markdown(self) -> str:
        where = escape.code(self.artifact)
        if self.attempt is not None:
            return f"the new plan made and posted by attempt {self.attempt} (artifact {where})"
        commit = f", commit {escape.code(self.commit[:12])}" if self.commit else ""
        pull = f"#{self.pull}" if self.pull is not None else "the pull request"
        return f"the plan reviewed on {pull} (artifact {where}{commit})"


@dataclass(frozen=True)
class ApplyReport:
    """Everything the notice shows; ``reason`` is plain text (the refusal, as printed)."""

    outcome: Outcome
    target: str
    specs: str
    meta: Metadata
    source: Source | None = None
    reason: str = ""
    environment: str = ""
    new_plan: str = ""
    """The Markdown report of the new plan (REFUSED), its own marker line removed."""
    new_plan_artifact: str = ""


def apply_marker(target: str, specs: str) -> str:
    """The hidden first line a re-run finds this comment by (one per target and specs)."""
    return (
        f'<!-- reconciler-apply target="{escape.comment_value(target)}" '
        f'specs="{escape.comment_value(specs)}" -->'
    )


_HEADLINES = {
    Outcome.APPLIED: "✅ Applied",
    Outcome.NOTHING_TO_DO: "☑️ Nothing to apply",
    Outcome.REFUSED: "⛔ The reviewed plan was not applied as reviewed",
    Outcome.NO_NEW_PLAN: "⛔ Not applied, and no new plan could be made",
    Outcome.TARGET_CHANGED: "⛔ Not applied: the target is not the base branch's",
}


def _reason(text: str) -> str:
    if len(text) > REASON_CHARS:
        text = "…" + text[-REASON_CHARS:]
    lines = text.strip("\n").splitlines()
    if len(lines) > REASON_LINES:
        lines = [*lines[:REASON_LINES], f"… {len(lines) - REASON_LINES} more lines in the job log"]
    return escape.fence("\n".join(escape.inline(line) for line in lines), "text")


def _what_to_do(report: ApplyReport) -> str:
    run = run_text(report.meta, "this run")
    env = escape.code(report.environment) if report.environment else "its environment"
    if report.outcome is Outcome.REFUSED:
        where = (
            f" (artifact {escape.code(report.new_plan_artifact)})"
            if report.new_plan_artifact
            else ""
        )
        return (
            "**What to do:**\n"
            f"1. Review the new plan below{where}: it is what applying the merged specs "
            "would do now. Nothing of it has been applied.\n"
            f"2. To apply exactly it, re-run the failed `apply` job of {run}. It runs in "
            f"the protected environment {env}, so its reviewers approve it first; the re-run "
            "applies this plan and nothing else, and again nothing if the platform moves "
            "before it runs.\n"
            "3. Not what should happen? Change the specs in a new pull request instead.\n"
        )
    if report.outcome is Outcome.NO_NEW_PLAN:
        return (
            f"**What to do:** read the log of {run}, fix the cause, then re-run the failed "
            f"`apply` job (approved through {env} again): it plans anew and stops there.\n"
        )
    if report.outcome is Outcome.TARGET_CHANGED:
        return (
            "**What to do:** nothing to re-run. This is by design: the platform token only "
            "goes where the base branch said. From the next pull request on, plans and "
            "applies use the target as merged; if the change was not intended, revert it.\n"
        )
    return ""


def render(report: ApplyReport) -> str:
    """The comment body (Markdown), marker line first."""
    parts = [
        apply_marker(report.target, report.specs),
        f"## {_HEADLINES[report.outcome]}",
        f"**Target:** {escape.code(report.target)} · **Specs:** {escape.code(report.specs)}",
    ]
    if report.source is not None:
        label = "Applied" if report.outcome is Outcome.APPLIED else "Plan"
        parts.append(f"**{label}:** {report.source.markdown()}.")
    if report.reason and report.outcome is not Outcome.APPLIED:
        parts.append("**Why:**\n\n" + _reason(report.reason))
    if report.outcome is Outcome.NOTHING_TO_DO:
        parts.append("The live state already matches the merged specs: nothing was changed.")
    todo = _what_to_do(report)
    if todo:
        parts.append(todo.rstrip("\n"))
    made = footer(report.meta, "Made")
    if made:
        parts.append(f"<sub>{made}</sub>")
    body = "\n\n".join(parts) + "\n"
    if report.new_plan:
        body += "\n---\n\n### The new plan\n\n" + report.new_plan.strip("\n") + "\n"
    return body

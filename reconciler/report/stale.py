"""The sticky comment after a plan run failed: the plan shown is stale, and why.

A pull request's report comment is edited in place on every push. When a later
run cannot make a plan (specs that no longer validate, an API that is down),
leaving the old plan up unchanged would let a reviewer approve what is no
longer the branch. :func:`stale_report` puts a notice above the old report
(``the plan shown was made at <sha>; a later run (<link>) failed: <reason>``),
keeping its marker line first so the same comment is found and edited again.
"""

from __future__ import annotations

import re

from reconciler.report import escape
from reconciler.report.limits import COMMENT_LIMIT
from reconciler.report.markdown import marker
from reconciler.report.metadata import Metadata, read, run_text, short, when

REASON_MAX = 1_000
"""Characters of the failure's reason shown; the run's log has the rest."""
_BANNER = re.compile(r"<!-- reconciler-stale -->\n.*?<!-- /reconciler-stale -->\n\n?", re.S)
_MARKER_LINE = re.compile(r"^<!-- reconciler-report(?: [a-z]+=\"[^\"\n]*\")* -->[ \t]*\n?", re.M)


def _reason(reason: str) -> str:
    text = reason if len(reason) <= REASON_MAX else reason[:REASON_MAX] + "…"
    return escape.md(text)


def stale_notice(shown: Metadata, failed: Metadata, reason: str) -> str:
    """The notice alone (Markdown): which plan is shown, which run failed, and why."""
    made = f"at commit {escape.code(short(shown.commit))}" if shown.commit else "earlier"
    if shown.run_url:
        made += f" by {run_text(shown, 'an earlier run')}"
    later = run_text(failed, "a later run")
    if failed.commit:
        later += f" for commit {escape.code(short(failed.commit))}"
    if failed.time:
        later += f" at {when(failed.time)}"
    return (
        "<!-- reconciler-stale -->\n"
        "> [!CAUTION]\n"
        f"> **This plan is stale.** The plan shown was made {made}; {later} failed: "
        f"{_reason(reason)}\n"
        "> It is not what the branch would do now: fix the failure and push again "
        "before approving or merging.\n"
        "<!-- /reconciler-stale -->\n"
    )


def _no_plan(failed: Metadata, reason: str) -> str:
    made = f" for commit {escape.code(short(failed.commit))}" if failed.commit else ""
    return (
        "<!-- reconciler-stale -->\n"
        "> [!CAUTION]\n"
        f"> **No plan could be made{made}:** {run_text(failed, 'the run')} failed: "
        f"{_reason(reason)}\n"
        "<!-- /reconciler-stale -->\n"
    )


def stale_report(
    previous: str | None,
    *,
    failed: Metadata,
    reason: str,
    target: str = "",
    specs: str = "",
    limit: int = COMMENT_LIMIT,
) -> str:
    """The comment body that replaces ``previous`` (the report shown) after a failed run.

    ``failed``: the failed run's commit, link and time; ``reason``: why it
    failed (shown on one line, escaped). The shown plan's commit and run are
    read from ``previous``'s hidden metadata line. Its marker line stays first
    (else one is made from ``target`` and ``specs``); an earlier notice is
    replaced, not stacked. With no previous report (``None``, or only an
    earlier notice), the notice says no plan could be made. Never longer than
    ``limit``: when the old report does not fit under the notice, a pointer to
    its run replaces it.
    """
    found = _MARKER_LINE.search(previous or "")
    head = found.group(0).rstrip("\n") if found else marker(target, specs)
    rest = _BANNER.sub("", _MARKER_LINE.sub("", previous or "", count=1), count=1).strip("\n")
    if not rest.strip():
        return f"{head}\n{_no_plan(failed, reason)}"[:limit]
    shown = read(rest)
    notice = stale_notice(shown, failed, reason)
    text = f"{head}\n{notice}\n{rest}\n"
    if len(text) <= limit:
        return text
    pointer = (
        "The report of that plan is too long to keep under this notice; it is in "
        f"the job summary of {run_text(shown, 'its run')}.\n"
    )
    return f"{head}\n{notice}\n{pointer}"[:limit]

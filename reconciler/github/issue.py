"""One open issue per drifting target: opened when drift appears, kept current, then closed.

A scheduled drift check that opened an issue every run would be muted within a
day. The issue is found again by its label and the report's marker (same
target and specs), its body replaced while drift lasts, and closed with a
comment once the live state matches the specs again.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from reconciler.github.body import COMMENT_LIMIT, Marker, clamp
from reconciler.github.client import Access, GitHubClient
from reconciler.github.comment import CUT_NOTE, is_ours

ACCESS = Access("write issues", "issues: write")
LABEL = "reconciler-drift"
TITLE_LIMIT = 256
FOOTER = (
    "\n\n---\n_Kept current by `reconciler drift-issue` while the drift lasts; "
    "closed by it once the live state matches the specs again._\n"
)


@dataclass(frozen=True)
class IssueResult:
    """What was done: ``opened``, ``updated``, ``unchanged``, ``closed`` or ``none``."""

    action: str
    number: int | None = None
    url: str = ""


def title_for(marker: Marker) -> str:
    """``Drift detected: <target>``: fixed per target, so people recognise it."""
    raw = marker.get("target") or marker.get("specs") or "reconciler"
    name = " ".join(html.unescape(raw).split())
    return f"Drift detected: {name}"[:TITLE_LIMIT]


def find_issue(
    client: GitHubClient, marker: Marker, label: str = LABEL, author: str | None = None
) -> dict[str, Any] | None:
    """Our open drift issue: labelled ``label``, same marker; pull requests skipped."""
    for item in client.pages(
        f"{client.repo_path}/issues", ACCESS, params={"state": "open", "labels": label}
    ):
        if "pull_request" not in item and is_ours(item, marker, author):
            return item
    return None


def report_drift(
    client: GitHubClient,
    report: str,
    marker: Marker,
    *,
    label: str = LABEL,
    author: str | None = None,
) -> IssueResult:
    """Open the drift issue with ``report``, or bring the open one up to date."""
    body = clamp(report, COMMENT_LIMIT - len(FOOTER), CUT_NOTE)[0].rstrip("\n") + FOOTER
    issue = find_issue(client, marker, label, author)
    if issue is None:
        created = client.call(
            "POST",
            f"{client.repo_path}/issues",
            ACCESS,
            json={"title": title_for(marker), "body": body, "labels": [label]},
        )
        return IssueResult("opened", int(created["number"]), str(created.get("html_url", "")))
    number = int(issue["number"])
    if issue.get("body") == body:
        return IssueResult("unchanged", number, str(issue.get("html_url", "")))
    updated = client.call(
        "PATCH",
        f"{client.repo_path}/issues/{number}",
        ACCESS,
        subject=f"issue #{number}",
        json={"body": body},
    )
    return IssueResult("updated", number, str(updated.get("html_url", "")))


def report_clean(
    client: GitHubClient,
    marker: Marker,
    *,
    label: str = LABEL,
    author: str | None = None,
    run_url: str | None = None,
) -> IssueResult:
    """Close the open drift issue, saying why; nothing to do when there is none."""
    issue = find_issue(client, marker, label, author)
    if issue is None:
        return IssueResult("none")
    number = int(issue["number"])
    where = f" ([run]({run_url}))" if run_url else ""
    client.call(
        "POST",
        f"{client.repo_path}/issues/{number}/comments",
        ACCESS,
        subject=f"issue #{number}",
        json={"body": f"No drift any more: the live state matches the specs{where}. Closing."},
    )
    closed = client.call(
        "PATCH",
        f"{client.repo_path}/issues/{number}",
        ACCESS,
        subject=f"issue #{number}",
        json={"state": "closed", "state_reason": "completed"},
    )
    return IssueResult("closed", number, str(closed.get("html_url", "")))

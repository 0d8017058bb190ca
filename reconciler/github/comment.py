"""One sticky comment per report on a pull request, edited in place on every run.

Each push to a pull request would otherwise add a comment, burying the review
and tripping GitHub's secondary rate limits. The earlier comment is found by
its marker (same target and specs) on any page of the conversation; comments
of other targets, and, with ``author``, of anyone else, are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reconciler.github.body import COMMENT_LIMIT, Marker, clamp, find_marker
from reconciler.github.client import Access, GitHubClient

ACCESS = Access("write comments", "pull-requests: write")
CUT_NOTE = (
    "**Report cut at GitHub's 65,536-character limit; the full report is in the "
    "job summary and the run's artifacts.**"
)


@dataclass(frozen=True)
class Posted:
    """What was done: ``created``, ``updated`` or ``unchanged``, and where."""

    action: str
    comment_id: int
    url: str
    cut: bool


def is_ours(item: dict[str, Any], marker: Marker, author: str | None) -> bool:
    """Same marker (so same target and specs), and the expected author when one is given."""
    body = item.get("body")
    if not isinstance(body, str) or find_marker(body) != marker:
        return False
    login = (item.get("user") or {}).get("login")
    return author is None or login == author


def find_comment(
    client: GitHubClient, number: int, marker: Marker, author: str | None = None
) -> dict[str, Any] | None:
    """Our earlier comment on pull request ``number``, searching every page."""
    path = f"{client.repo_path}/issues/{number}/comments"
    for item in client.pages(path, ACCESS, subject=f"pull request #{number}"):
        if is_ours(item, marker, author):
            return item
    return None


def post_report(
    client: GitHubClient,
    number: int,
    report: str,
    marker: Marker,
    author: str | None = None,
) -> Posted:
    """Edit our earlier comment to ``report``, or create it; never over the size limit."""
    body, cut = clamp(report, COMMENT_LIMIT, CUT_NOTE)
    existing = find_comment(client, number, marker, author)
    if existing is None:
        created = client.call(
            "POST",
            f"{client.repo_path}/issues/{number}/comments",
            ACCESS,
            subject=f"pull request #{number}",
            json={"body": body},
        )
        return Posted("created", int(created["id"]), str(created.get("html_url", "")), cut)
    comment_id = int(existing["id"])
    if existing.get("body") == body:
        return Posted("unchanged", comment_id, str(existing.get("html_url", "")), cut)
    updated = client.call(
        "PATCH",
        f"{client.repo_path}/issues/comments/{comment_id}",
        ACCESS,
        subject=f"comment {comment_id}",
        json={"body": body},
    )
    return Posted("updated", comment_id, str(updated.get("html_url", "")), cut)

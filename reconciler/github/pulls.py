"""Which pull request a commit on the default branch merged.

The apply job runs on the push of the merge; the plan it must apply was made on
the pull request. GitHub's "pull requests associated with a commit" lists, for
a commit on the default branch, the pull request that merged it, but also open
ones that merely contain it; only a merged one whose merge commit is this very
commit, into the default branch, is taken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from reconciler.errors import ConfigError
from reconciler.github.client import Access, GitHubClient
from reconciler.providers.paths import url_path

ACCESS = Access("read pull requests", "pull-requests: read")
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


@dataclass(frozen=True)
class MergedPull:
    """A merged pull request: its number, the head commit its plan runs had, its link."""

    number: int
    head_sha: str
    url: str


def check_sha(sha: str, what: str) -> str:
    """``sha`` if it is a full commit id (a ConfigError naming ``what`` otherwise)."""
    if not _SHA.fullmatch(sha):
        raise ConfigError(f"{what} must be a full commit SHA, not {sha!r}")
    return sha


def _merged(item: dict[str, Any], sha: str, branch: str | None) -> MergedPull | None:
    number = item.get("number")
    head, base = item.get("head"), item.get("base")
    head_sha = str(head.get("sha", "")) if isinstance(head, dict) else ""
    base_ref = base.get("ref") if isinstance(base, dict) else None
    if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
        return None
    if not item.get("merged_at") or item.get("merge_commit_sha") != sha:
        return None
    if branch is not None and base_ref != branch:
        return None
    if not _SHA.fullmatch(head_sha):
        return None
    return MergedPull(number, head_sha, str(item.get("html_url", "")))


def merged_pull(client: GitHubClient, sha: str, branch: str | None) -> MergedPull | None:
    """The pull request merged into ``branch`` as commit ``sha``; None for a direct push."""
    owner, repo = client.context.repository.split("/")
    path = url_path("/repos/{}/{}/commits/{}/pulls", owner, repo, check_sha(sha, "the commit"))
    for item in client.pages(path.lstrip("/"), ACCESS, subject=f"commit {sha[:12]}"):
        found = _merged(item, sha, branch)
        if found is not None:
            return found
    return None

"""Where a change comes from, in one line: for APIs that record a reason, and for reports.

Read from the standard CI environment (GitHub Actions), so a bulk flag change on
a platform's audit log says "reconciler: commit 1a2b3c4 of acme/platform-specs
(PR #42)" instead of nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path


def pull_request_number(env: Mapping[str, str]) -> int | None:
    """The PR number from the event file GitHub Actions provides, if this run has one."""
    event_path = env.get("GITHUB_EVENT_PATH")
    if not event_path:
        return None
    try:
        event = json.loads(Path(event_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for key in ("pull_request", "issue"):
        number = (event.get(key) or {}).get("number") if isinstance(event, dict) else None
        if isinstance(number, int):
            return number
    return None


def describe_origin(env: Mapping[str, str] | None = None) -> str:
    """``reconciler`` plus commit, repository and PR when known."""
    env = os.environ if env is None else env
    parts = ["reconciler"]
    sha = env.get("GITHUB_SHA") or env.get("RECONCILER_COMMIT")
    repo = env.get("GITHUB_REPOSITORY")
    if sha:
        parts.append(f"commit {sha[:12]}" + (f" of {repo}" if repo else ""))
    number = pull_request_number(env)
    if number is not None:
        parts.append(f"PR #{number}")
    return ": ".join([parts[0], ", ".join(parts[1:])]) if len(parts) > 1 else parts[0]

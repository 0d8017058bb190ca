"""Where a GitHub Actions run is: API URL, repository, token and pull request.

All of it comes from the standard environment of a workflow run, so the
commands need no configuration in CI; each missing piece is a ConfigError that
names the variable to set. The token is kept out of every repr and message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from reconciler.errors import ConfigError

DEFAULT_API_URL = "https://api.github.com"
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class GitHubContext:
    """What every call needs: the API's base URL, ``owner/name`` and the token."""

    api_url: str
    repository: str
    token: str = field(repr=False)


def api_url(environ: Mapping[str, str]) -> str:
    """``$GITHUB_API_URL`` (GitHub Enterprise sets it); plain http only on this machine."""
    raw = environ.get("GITHUB_API_URL") or DEFAULT_API_URL
    try:
        url = httpx.URL(raw)
    except httpx.InvalidURL as exc:
        raise ConfigError(f"GITHUB_API_URL is not a URL: {exc}") from None
    if url.scheme == "http" and url.host in LOOPBACK:
        return raw.rstrip("/")
    if url.scheme != "https" or not url.host:
        raise ConfigError(
            f"GITHUB_API_URL must be an https:// URL (got {raw!r}); the token is sent to it"
        )
    return raw.rstrip("/")


def from_environ(environ: Mapping[str, str]) -> GitHubContext:
    """The context of this run, from ``GITHUB_TOKEN``, ``GITHUB_REPOSITORY``, ``GITHUB_API_URL``."""
    token = environ.get("GITHUB_TOKEN", "").strip()
    if not token:
        raise ConfigError(
            "GITHUB_TOKEN is not set; in a workflow step add "
            "`env: GITHUB_TOKEN: ${{ github.token }}`"
        )
    repository = environ.get("GITHUB_REPOSITORY", "").strip()
    if not repository:
        raise ConfigError("GITHUB_REPOSITORY is not set (owner/name of the repository)")
    if not _REPOSITORY.fullmatch(repository):
        raise ConfigError(f"GITHUB_REPOSITORY must be owner/name, not {repository!r}")
    return GitHubContext(api_url=api_url(environ), repository=repository, token=token)


def pull_request_number(environ: Mapping[str, str]) -> int:
    """The pull request of this run, from the event file: ``pull_request`` or ``issue``."""
    event_path = environ.get("GITHUB_EVENT_PATH", "").strip()
    event_name = environ.get("GITHUB_EVENT_NAME") or "this"
    if not event_path:
        raise ConfigError("GITHUB_EVENT_PATH is not set: not in a workflow run? pass --pr N")
    try:
        event = json.loads(Path(event_path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the event file GITHUB_EVENT_PATH: {exc}") from None
    if isinstance(event, dict):
        for key in ("pull_request", "issue"):
            section = event.get(key)
            number = section.get("number") if isinstance(section, dict) else None
            if isinstance(number, int) and not isinstance(number, bool) and number > 0:
                return number
    raise ConfigError(
        f"the {event_name} event names no pull request (no pull_request.number or "
        "issue.number in GITHUB_EVENT_PATH); run on pull_request or pass --pr N"
    )


def run_url(environ: Mapping[str, str]) -> str | None:
    """A link to this workflow run, when the environment says which run it is."""
    server = environ.get("GITHUB_SERVER_URL", "").rstrip("/")
    repository = environ.get("GITHUB_REPOSITORY", "")
    run_id = environ.get("GITHUB_RUN_ID", "")
    if server and repository and run_id.isdigit():
        return f"{server}/{repository}/actions/runs/{run_id}"
    return None


def run_number(environ: Mapping[str, str], name: str) -> int | None:
    """A positive whole number from ``$name`` (``GITHUB_RUN_ID``, ``GITHUB_RUN_ATTEMPT``)."""
    raw = environ.get(name, "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else None


def write_outputs(environ: Mapping[str, str], values: Mapping[str, str]) -> None:
    """Append ``name=value`` step outputs to ``$GITHUB_OUTPUT`` (nothing outside a run).

    Values are ours (paths, numbers, names) and one line each; a line break
    would let a value set another output, so it is refused.
    """
    name = environ.get("GITHUB_OUTPUT")
    if not name:
        return
    lines = []
    for key, value in values.items():
        if "\n" in value or "\r" in value or "\n" in key or "=" in key:
            raise ConfigError(f"step output {key!r} must be one line")
        lines.append(f"{key}={value}\n")
    with Path(name).open("a", encoding="utf-8") as output:
        output.writelines(lines)


def event(environ: Mapping[str, str]) -> dict[str, Any]:
    """The event of this run (``$GITHUB_EVENT_PATH``); empty when there is none to read."""
    path = environ.get("GITHUB_EVENT_PATH", "")
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}

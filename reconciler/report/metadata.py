"""What a posted report is: the commit it was made from, the run that made it, when.

A pull-request comment is edited in place on every push, so a reader must be
able to tell which commit the plan shown belongs to, and find the run (its job
summary, its artifacts) that made it. :class:`Metadata` holds that; the
Markdown report shows it in a footer line and in a hidden ``reconciler-meta``
line that :mod:`reconciler.report.stale` reads back.

In GitHub Actions the values come from the runner's variables when not given
(:func:`from_environ`): ``GITHUB_SHA`` for the commit (on a pull request the
merge commit the job checked out, which is what was planned),
``GITHUB_SERVER_URL``/``GITHUB_REPOSITORY``/``GITHUB_RUN_ID`` for the run's
link, and ``RECONCILER_ARTIFACT`` for the name of the artifact the workflow
uploads the full report in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from reconciler.report import escape

_SHA = re.compile(r"[0-9a-fA-F]{7,64}")
_SAFE_URL = re.compile(r"https?://[A-Za-z0-9.\-]+(?::\d+)?(?:/[^\s]*)?")
_URL_SAFE = ":/?#[]@!&'*+,;=%-._~"
"""What a link destination keeps as it is; parentheses, quotes and the rest are percent-encoded."""
_META = re.compile(r'^<!-- reconciler-meta((?: [a-z]+="[^"\n]*")*) -->[ \t]*$', re.M)
_ATTR = re.compile(r'([a-z]+)="([^"]*)"')


@dataclass(frozen=True)
class Metadata:
    """Where a report comes from; every part optional (a local run has none)."""

    commit: str | None = None
    run_url: str | None = None
    time: datetime | None = None
    artifact: str | None = None
    """The name of the artifact holding the full report (the workflow's choice)."""

    @property
    def known(self) -> bool:
        return bool(self.commit or self.run_url)


def from_environ(
    environ: Mapping[str, str],
    *,
    commit: str | None = None,
    run_url: str | None = None,
    artifact: str | None = None,
    now: datetime | None = None,
) -> Metadata:
    """Given values, else GitHub Actions' variables; the time only when a commit or run is known."""
    commit = commit or environ.get("GITHUB_SHA") or None
    if run_url is None:
        server, repo, run = (
            environ.get(name, "")
            for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
        )
        if server and repo and run:
            run_url = f"{server.rstrip('/')}/{repo}/actions/runs/{run}"
    artifact = artifact or environ.get("RECONCILER_ARTIFACT") or None
    time = None
    if commit or run_url:
        time = now or datetime.now(UTC)
    return Metadata(commit=commit, run_url=run_url or None, time=time, artifact=artifact)


def short(commit: str) -> str:
    """A commit as people write it (12 hex digits); anything else as it is, on one line."""
    return commit[:12] if _SHA.fullmatch(commit) else escape.inline(commit)


def link(url: str | None, text: str) -> str:
    """``[text](url)`` for an http(s) URL whose host is plain; else ``text`` and the URL as code.

    ``text`` is Markdown already; the destination is percent-encoded where
    Markdown would end or bend it, so the link goes where the URL says.
    """
    if not url:
        return text
    if not _SAFE_URL.fullmatch(url):
        return f"{text} ({escape.code(url)})"
    return f"[{text}]({quote(url, safe=_URL_SAFE)})"


def run_text(meta: Metadata, fallback: str = "this run") -> str:
    """``[run 123](…)``: the run as a link, named by its id when the URL ends with one."""
    if not meta.run_url:
        return fallback
    tail = meta.run_url.rstrip("/").rsplit("/", 1)[-1]
    return link(meta.run_url, f"run {tail}" if tail.isdigit() else fallback)


def where_full(meta: Metadata, report_file: str | None) -> str:
    """Where the full report is, as Markdown: the run's job summary, its artifact, the file."""
    places = []
    if meta.run_url:
        places.append(f"the job summary of {run_text(meta)}")
    file = f" (file {escape.code(report_file)})" if report_file else ""
    if meta.artifact:
        places.append(f"the artifact {escape.code(meta.artifact)}{file}")
    elif report_file:
        places.append(f"the file {escape.code(report_file)}")
    if not places:
        return f"the JSON report ({escape.code('--format json')})"
    return " and in ".join(places)


def when(time: datetime) -> str:
    return time.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def footer(meta: Metadata, verb: str = "Made") -> str:
    """One line: commit, run, time; empty when nothing is known."""
    parts = []
    if meta.commit:
        parts.append(f"{verb} from commit {escape.code(short(meta.commit))}")
    if meta.run_url:
        parts.append(("by " if parts else f"{verb} by ") + run_text(meta))
    if meta.time:
        parts.append(f"at {when(meta.time)}")
    return " ".join(parts) + "." if parts else ""


def hidden_line(meta: Metadata) -> str:
    """A hidden HTML comment line a later run reads back (:func:`read`); empty if nothing known."""
    attrs = [
        (name, value)
        for name, value in (
            ("commit", meta.commit),
            ("run", meta.run_url),
            ("time", meta.time.astimezone(UTC).isoformat() if meta.time else None),
        )
        if value
    ]
    if not attrs:
        return ""
    body = " ".join(f'{name}="{escape.comment_value(value)}"' for name, value in attrs)
    return f"<!-- reconciler-meta {body} -->"


def read(body: str) -> Metadata:
    """The metadata a report's hidden line holds (none: an empty :class:`Metadata`)."""
    match = _META.search(body)
    if match is None:
        return Metadata()
    attrs = dict(_ATTR.findall(match.group(1)))
    time = None
    if attrs.get("time"):
        try:
            time = datetime.fromisoformat(attrs["time"])
        except ValueError:
            time = None
    return Metadata(commit=attrs.get("commit") or None, run_url=attrs.get("run") or None, time=time)

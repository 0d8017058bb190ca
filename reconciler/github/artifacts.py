"""The workflow's artifacts: their names, and finding and reading a saved plan in one.

The pull request's plan job uploads its plan as ``reconciler-plan-<key>-<PR>``;
the apply job after the merge looks it up by that name through the REST API
(``actions: read``), because a job can only download its own run's artifacts
with ``actions/download-artifact`` and the plan was made in another run. The key
holds the target and the spec directory, so two targets or two spec trees of
one repository never share an artifact (or a concurrency group). Names are
made here only; the workflow takes them from the action's outputs.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import re
import zipfile
from dataclasses import dataclass
from typing import Any

from reconciler.errors import ConfigError
from reconciler.github.client import Access, GitHubClient
from reconciler.providers.paths import url_path

ACCESS = Access("read the workflow's artifacts", "actions: read")
KINDS = ("plan", "apply", "replan", "drift")
"""plan: a pull request's plan (suffix: its number); apply: what an apply job did
(suffix: the run attempt); replan: the new plan an apply job made when it refused
(suffix: the run attempt); drift: a drift check's reports (suffix: the run attempt)."""
ZIP_LIMIT = 64 * 1024 * 1024
"""An artifact is a plan and two reports: anything bigger is not ours."""
MEMBER_LIMIT = 32 * 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def spec_dir(specs: str) -> str:
    """``specs`` as one spelling: ``./specs/`` and ``specs`` are the same directory."""
    normal = posixpath.normpath(specs.replace("\\", "/") or ".")
    return normal.removeprefix("./")


def key(target: str, specs: str) -> str:
    """``<target>-<specs>-<hash>``: readable, and unique per (target, spec directory).

    Artifact names may not hold ``/``, ``:``, ``"`` and a few more, so the
    readable part is squeezed to safe characters; the hash of the exact pair
    keeps ``a/b`` and ``a_b`` apart.
    """
    directory = spec_dir(specs)
    readable = _UNSAFE.sub("_", f"{target or 'default'}-{directory}").strip("_.-")[:60]
    digest = hashlib.sha256(f"{target}\0{directory}".encode()).hexdigest()[:8]
    return f"{readable}-{digest}"


def artifact_name(kind: str, target: str, specs: str, suffix: int | str) -> str:
    """The name of the ``kind`` artifact (see :data:`KINDS`) of a target and spec directory."""
    if kind not in KINDS:
        raise ValueError(f"unknown artifact kind {kind!r}")
    return f"reconciler-{kind}-{key(target, specs)}-{suffix}"


@dataclass(frozen=True)
class Artifact:
    """One artifact as the REST API lists it (untrusted: every field checked on reading)."""

    id: int
    name: str
    run_id: int | None
    head_sha: str
    created_at: str
    expired: bool


def _artifact(item: dict[str, Any]) -> Artifact | None:
    ident = item.get("id")
    run = item.get("workflow_run")
    run = run if isinstance(run, dict) else {}
    run_id = run.get("id")
    if not isinstance(ident, int) or isinstance(ident, bool) or ident <= 0:
        return None
    return Artifact(
        id=ident,
        name=str(item.get("name", "")),
        run_id=run_id if isinstance(run_id, int) and not isinstance(run_id, bool) else None,
        head_sha=str(run.get("head_sha", "")),
        created_at=str(item.get("created_at", "")),
        expired=item.get("expired") is not False,
    )


def _listed(client: GitHubClient, path: str, name: str) -> list[Artifact]:
    """The unexpired artifacts called exactly ``name`` at ``path``, newest first."""
    found = (
        _artifact(item)
        for item in client.pages(path, ACCESS, params={"name": name}, key="artifacts")
    )
    kept = [a for a in found if a is not None and a.name == name and not a.expired]
    return sorted(kept, key=lambda a: (a.created_at, a.id), reverse=True)


def latest_for_commit(client: GitHubClient, name: str, head_sha: str) -> Artifact | None:
    """The newest unexpired artifact ``name`` uploaded by a run on commit ``head_sha``.

    A pull request's runs carry its head commit; an artifact of an earlier push
    (another head) is not the plan of what was merged.
    """
    owner, repo = client.context.repository.split("/")
    path = url_path("/repos/{}/{}/actions/artifacts", owner, repo).lstrip("/")
    return next((a for a in _listed(client, path, name) if a.head_sha == head_sha), None)


def in_run(client: GitHubClient, run_id: int, name: str) -> Artifact | None:
    """The artifact ``name`` of workflow run ``run_id`` (an earlier attempt's), if any."""
    owner, repo = client.context.repository.split("/")
    path = url_path("/repos/{}/{}/actions/runs/{}/artifacts", owner, repo, run_id).lstrip("/")
    return next(iter(_listed(client, path, name)), None)


def read_files(
    client: GitHubClient, artifact: Artifact, names: tuple[str, ...]
) -> dict[str, bytes]:
    """The files ``names`` at the top of ``artifact``'s zip (those it holds).

    Members are read by exact name, never extracted, so a crafted archive
    cannot write anywhere; sizes are bounded.
    """
    owner, repo = client.context.repository.split("/")
    path = url_path("/repos/{}/{}/actions/artifacts/{}/zip", owner, repo, artifact.id)
    subject = f"artifact {artifact.name}"
    data = client.download(path.lstrip("/"), ACCESS, subject=subject, limit=ZIP_LIMIT)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = {info.filename: info for info in archive.infolist()}
            files = {}
            for name in names:
                info = members.get(name)
                if info is None or info.is_dir():
                    continue
                if info.file_size > MEMBER_LIMIT:
                    raise ConfigError(f"{subject}: {name} is over {MEMBER_LIMIT} bytes")
                files[name] = archive.read(info)
            return files
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise ConfigError(f"{subject} is not a readable zip archive: {exc}") from None

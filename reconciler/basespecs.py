"""The specs of the base branch, for reports that split a PR's changes from drift.

``--base`` is a git ref (``origin/main``) or a directory holding the base specs.
A ref is read with ``git archive``, so the working tree is never touched; a
spec directory that does not exist at the base (a new repository layout) is
an empty desired state. What is read from the temporary extract names its
files as git does, ``<ref>:<path in the repository>``: reports and errors
point at the base branch's file, never at a directory that is gone.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from dataclasses import replace
from pathlib import Path

from reconciler.errors import ConfigError, SourceLocation, SpecError
from reconciler.model import State
from reconciler.spec import load_specs
from reconciler.spec.loader import display_path


def _git(args: list[str], cwd: Path) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise ConfigError("--base with a git ref needs git on PATH") from None
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()
        raise ConfigError(f"git {' '.join(args)} failed: {message}")
    return done.stdout


def load_base(base: str, spec_path: Path) -> State:
    """The desired state the base specs describe."""
    as_dir = Path(base)
    if as_dir.is_dir():
        return _load(as_dir, base)
    spec_dir = spec_path if spec_path.is_dir() else spec_path.parent
    spec_dir = spec_dir.resolve()
    root = Path(_git(["rev-parse", "--show-toplevel"], spec_dir).decode().strip())
    relative = spec_dir.relative_to(root).as_posix() or "."
    _git(["rev-parse", "--verify", "--quiet", f"{base}^{{commit}}"], root)
    listing = _git(["ls-tree", "-r", "--name-only", base, "--", relative], root)
    if not listing.strip():
        return State()
    archive = _git(["archive", "--format=tar", base, "--", relative], root)
    with tempfile.TemporaryDirectory(prefix="reconciler-base-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        prefix = display_path(Path(tmp)).rstrip("/") + "/"
        return _load(Path(tmp) / relative, f"{base}:{relative}", (prefix, f"{base}:"))


def _renamed(
    location: SourceLocation | None, rename: tuple[str, str] | None
) -> SourceLocation | None:
    """``location`` with the extract's directory replaced by ``<ref>:``."""
    if location is None or rename is None or not location.file.startswith(rename[0]):
        return location
    return replace(location, file=rename[1] + location.file[len(rename[0]) :])


def _load(path: Path, label: str, rename: tuple[str, str] | None = None) -> State:
    try:
        state = load_specs(path)
    except SpecError as exc:
        first = "; ".join(
            str(replace(p, location=_renamed(p.location, rename))) for p in exc.problems[:3]
        )
        raise ConfigError(f"the base specs ({label}) do not validate: {first}") from None
    for resource in state:
        resource.source = _renamed(resource.source, rename)
        resource.field_sources = {
            name: _renamed(loc, rename) or loc for name, loc in resource.field_sources.items()
        }
    return state

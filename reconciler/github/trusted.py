"""Where the platform token may go: only to a target the base branch already names.

A pull request controls its branch's ``reconciler.yaml``: its ``url`` decides
where the token is sent, its ``tokenEnv`` which secret is read. So before a
workflow hands a token to reconciler, the target the run would use is compared
with the same target in ``reconciler.yaml`` at a trusted git ref (the pull
request's base branch; for the apply after a merge, the commit the default
branch was at before it). Any difference in the route of the token (dialect,
URL, variable, TLS settings) refuses the run before any call: a change of
target is merged on its own and used from the next pull request on.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import ConfigError
from reconciler.spec.config import CONFIG_NAMES, Config, load_config
from reconciler.targets import Target


class TargetChanged(ConfigError):
    """The run's target routes the token differently from the trusted ref's."""

    def __init__(self, name: str, where: str, differences: list[str]) -> None:
        self.name, self.where, self.differences = name, where, differences
        shown = "; ".join(differences)
        super().__init__(
            f"target '{name}' differs from the one at {where}: {shown}. The platform token "
            f"is only sent where {where} says: change a target's api, url, tokenEnv or TLS "
            "settings in a pull request of its own (its plan and apply are refused); once it "
            "is merged, the next pull request plans and applies against the new target"
        )


@dataclass(frozen=True)
class Route:
    """What decides where a token goes and which secret it is."""

    dialect: str
    url: str | None
    token_env: str
    ca_bundle: str | None = None
    insecure: bool = False
    allow_plain_http: bool = False


def route(target: Target, config_dir: Path | None = None) -> Route:
    """``target``'s route; a CA bundle under ``config_dir`` is compared by its relative path."""
    ca = target.ca_bundle
    if ca is not None and config_dir is not None:
        base = str(config_dir.absolute()) + os.sep
        ca = ca.removeprefix(base) if ca.startswith(base) else ca
    return Route(
        target.dialect, target.url, target.token_env, ca, target.insecure, target.allow_plain_http
    )


def pick(config: Config, name: str) -> Target | None:
    """The configured target a run given ``--target name`` (or none) uses; None: the sandbox.

    The same choice :func:`reconciler.targets.resolve_target` makes, without
    reading any token.
    """
    chosen = name or config.default_target
    if not chosen and len(config.targets) == 1:
        chosen = next(iter(config.targets))
    if not chosen:
        if config.targets:
            known = ", ".join(sorted(config.targets))
            raise ConfigError(f"several targets are configured ({known}); set the target input")
        return None
    if chosen not in config.targets:
        known = ", ".join(sorted(config.targets)) or "none configured"
        raise ConfigError(f"unknown target '{chosen}' (known: {known})")
    return config.targets[chosen]


def _git(args: list[str], cwd: Path, *, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise ConfigError("comparing the target with the base branch needs git on PATH") from None
    if check and done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()
        raise ConfigError(f"git {' '.join(args)} failed: {message}")
    return done


def config_at(ref: str, spec_dir: Path) -> Config:
    """``reconciler.yaml`` of ``spec_dir`` as it is at git ``ref`` (``Config()`` if none there)."""
    if not ref or ref.startswith("-"):
        raise ConfigError(f"not a git ref: {ref!r}")
    directory = spec_dir if spec_dir.is_dir() else spec_dir.parent
    directory = directory.resolve()
    root = Path(_git(["rev-parse", "--show-toplevel"], directory).stdout.decode().strip())
    _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], root)
    relative = directory.relative_to(root.resolve()).as_posix()
    for name in CONFIG_NAMES:
        path = name if relative == "." else f"{relative}/{name}"
        shown = _git(["cat-file", "blob", f"{ref}:{path}"], root, check=False)
        if shown.returncode == 0:
            with tempfile.TemporaryDirectory(prefix="reconciler-trusted-") as tmp:
                (Path(tmp) / name).write_bytes(shown.stdout)
                return load_config(tmp)
    return Config()


def _differences(proposed: Route, trusted: Route) -> list[str]:
    return [
        f"{label} {getattr(proposed, field)!r} (there: {getattr(trusted, field)!r})"
        for field, label in (
            ("dialect", "api"),
            ("url", "url"),
            ("token_env", "tokenEnv"),
            ("ca_bundle", "caBundle"),
            ("insecure", "insecure"),
            ("allow_plain_http", "allowPlainHttp"),
        )
        if getattr(proposed, field) != getattr(trusted, field)
    ]


def checked_target(spec_dir: Path, name: str, trusted_ref: str | None) -> Target | None:
    """The target this run may hand the token to (None: the embedded sandbox, no token).

    With ``trusted_ref``, the working tree's target must route the token exactly
    as the same target does at that ref; otherwise :class:`TargetChanged`.
    """
    directory = spec_dir if spec_dir.is_dir() else spec_dir.parent
    proposed = pick(load_config(directory), name)
    if proposed is None or trusted_ref is None:
        return proposed
    base = config_at(trusted_ref, directory)
    trusted = base.targets.get(proposed.name)
    if trusted is None:
        raise TargetChanged(proposed.name, trusted_ref, ["it is not configured there"])
    assert base.source is not None  # a configured target comes from a file
    differences = _differences(route(proposed, directory), route(trusted, base.source.parent))
    if differences:
        raise TargetChanged(proposed.name, trusted_ref, differences)
    return proposed


def check_plan_target(planned: Target, trusted: Target) -> None:
    """A saved plan names its own target: it must be ``trusted`` (name, api, url, tokenEnv)."""
    differences = _differences(
        Route(planned.dialect, planned.url, planned.token_env),
        Route(trusted.dialect, trusted.url, trusted.token_env),
    )
    if planned.name != trusted.name:
        differences.insert(0, f"name {planned.name!r} (there: {trusted.name!r})")
    if differences:
        raise ConfigError(
            f"the saved plan names another target than '{trusted.name}' of the base branch: "
            f"{'; '.join(differences)}; the platform token only goes where the base branch says"
        )

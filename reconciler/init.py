"""``reconciler init``: a starter spec directory a new user can plan straight away.

It writes ``reconciler.yaml`` (with the target when one is given, the token only
as the name of its variable), one example document per kind the dialect manages,
and a ``.gitignore`` line for local state. Nothing is overwritten unless asked.
The starter plans against the embedded sandbox as it is, and validates against
the dialect it names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.errors import ConfigError
from reconciler.model import Kind
from reconciler.targets import DEFAULT_TOKEN_ENV
from reconciler.workdir import STATE_DIR

EXAMPLES: dict[Kind, tuple[str, str, dict[str, tuple[str, str]]]] = {
    Kind.DEVICE_TIER: (
        "device-tiers.yaml",
        "kind: DeviceTier\nname: sensor\n",
        {"display_name": ("displayName", "Sensors")},
    ),
    Kind.SUBSCRIPTION_PLAN: (
        "plans.yaml",
        "kind: Plan\nname: starter\n",
        {"display_name": ("displayName", "Starter")},
    ),
    Kind.TENANT: (
        "tenants/example.yaml",
        "kind: Tenant\nname: example\n",
        {"display_name": ("displayName", "Example Corp")},
    ),
    Kind.OPERATOR: (
        "operators.yaml",
        "kind: Operator\nemail: ops@example.com\n",
        {"name": ("name", "Platform Ops")},
    ),
}
"""Per kind: the starter file, its document's head, and fields shown where the API sets them."""


@dataclass
class Started:
    """What ``init`` wrote and what it found already there (and left alone)."""

    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)


def _config(dialect: str, url: str | None, token_env: str) -> str:
    head = (
        "# reconciler's settings for the specs in this directory.\napiVersion: reconciler.dev/v1\n"
    )
    if url is None:
        target = (
            "# No target: plan and apply use the embedded sandbox (state in .reconciler/).\n"
            "# To manage a real platform:\n"
            "#   defaultTarget: production\n"
            "#   targets:\n"
            "#     production:\n"
            f"#       api: {dialect}\n"
            "#       url: https://platform.example.com\n"
            f"#       tokenEnv: {token_env}\n"
        )
    else:
        target = (
            "defaultTarget: production\n"
            "targets:\n"
            "  production:\n"
            f"    api: {dialect}\n"
            f"    url: {url}\n"
            f"    tokenEnv: {token_env}  # the token is read from this variable, never written\n"
        )
    prune = (
        "# What happens to live objects no spec names: ignore (the default) until you\n"
        "# trust the specs, then suspend, delete or suspend-then-delete, per kind.\n"
        "prune: {}\n"
    )
    return head + target + prune


def init_specs(
    directory: Path,
    dialect: str,
    kinds: Mapping[Kind, frozenset[str]],
    *,
    role: str | None = None,
    url: str | None = None,
    token_env: str = DEFAULT_TOKEN_ENV,
    force: bool = False,
) -> Started:
    """Write a starter spec tree into ``directory`` for a dialect managing ``kinds``
    (each with the fields the API can set).

    ``role``: the operator role the example operator gets, when the dialect needs one.

    Files that exist are kept (listed in :attr:`Started.kept`) unless ``force``;
    ``.gitignore`` is only ever appended to.
    """
    if directory.exists() and not directory.is_dir():
        raise ConfigError(f"'{directory}' exists and is not a directory")
    files = {Path("reconciler.yaml"): _config(dialect, url, token_env)}
    for kind, (name, head, optional) in EXAMPLES.items():
        if kind not in kinds:
            continue
        text = "apiVersion: reconciler.dev/v1\n" + head
        for field_name, (key, value) in optional.items():
            if field_name in kinds[kind]:
                text += f"{key}: {value}\n"
        if kind is Kind.OPERATOR and role:
            text += f"role: {role}\n"
        files[Path(name)] = text
    started = Started()
    for relative, text in files.items():
        path = directory / relative
        if path.exists() and not force:
            started.kept.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        started.written.append(path)
    ignore = directory / ".gitignore"
    lines = ignore.read_text(encoding="utf-8").splitlines() if ignore.exists() else []
    if f"{STATE_DIR}/" not in lines and STATE_DIR not in lines:
        prefix = "\n" if lines and lines[-1] != "" else ""
        with ignore.open("a", encoding="utf-8") as out:
            out.write(
                f"{prefix}# reconciler's local state (embedded sandbox, journal)\n{STATE_DIR}/\n"
            )
        started.written.append(ignore)
    return started


__all__ = ["EXAMPLES", "Started", "init_specs"]

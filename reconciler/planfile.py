"""Saved plans: what ``plan --out`` writes and ``apply PLAN.json`` executes.

A saved plan holds the ordered changes, the desired state they come from (to
verify after the apply), the target (never its token: only the name of the
variable that holds it) and a fingerprint of every live object the plan read.
Before applying, the live state is read again; if any fingerprint moved, an
object appeared or one vanished, the apply is refused with the list: the
reviewed plan no longer describes what would happen, and a silent re-plan
would apply something nobody reviewed. It also records a digest of the spec
tree it was made from (every file the loader reads, ``reconciler.yaml`` too):
``apply`` refuses the plan when the specs on disk are no longer those, so a
plan reviewed on a pull request is applied only from the very specs merged.
This module is the file around them; the plan and resources in it are turned
to and from plain data by :mod:`reconciler.plan_codec`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from reconciler import __version__, redact
from reconciler.engine.plan import Plan
from reconciler.errors import ConfigError, PlanError
from reconciler.model import Kind, Resource, ResourceId, State
from reconciler.options import parse
from reconciler.plan_codec import (
    SECRET,
    Sensitive,
    dump_location,
    dump_plan,
    dump_resource,
    is_secret,
    load_location,
    load_plan,
    load_resource,
    secret_digest,
)
from reconciler.rules import GuardPolicy, Rules
from reconciler.spec.config import RetriesSpec, positive_rate
from reconciler.spec.loader import CONFIG_NAMES, discover
from reconciler.targets import ADAPTIVE, PARALLELISM_LIMIT, RetryPolicy, Target

__all__ = [  # the codec's names stay importable from here, where they were first
    "FORMAT",
    "FORMAT_VERSION",
    "SECRET",
    "SavedPlan",
    "Sensitive",
    "SpecsChangedError",
    "check_spec_tree",
    "dump",
    "dump_plan",
    "fingerprint",
    "fingerprints",
    "is_plan_file",
    "is_secret",
    "load",
    "load_plan",
    "moved",
    "restore_secrets",
    "secret_digest",
    "spec_tree",
    "write",
]

FORMAT = "reconciler-plan"
FORMAT_VERSION = 4
"""2: every field of resources, changes and the plan (rules, protection, notes);
3: the digest of the spec tree the plan was made from (``spec_tree``); 4: the target's
``maxParallelism``, ``maxRequestsPerSecond`` and ``retries``."""


def fingerprint(resource: Resource) -> str:
    """A digest of what the diff looked at (fields) and which object it was (server id)."""
    canonical = json.dumps(
        {"id": resource.server_id, "fields": resource.fields},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def fingerprints(state: State) -> dict[str, str]:
    return {str(r.id): fingerprint(r) for r in state}


@dataclass
class SavedPlan:
    """A plan as loaded back from its file."""

    target: Target
    specs: str
    desired: State
    plan: Plan
    fingerprints: dict[str, str]
    created_at: str = ""
    origin: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    spec_tree: str = ""
    """:func:`spec_tree` of the specs when the plan was made."""


class SpecsChangedError(PlanError):
    """The specs at a saved plan's spec path are not those it was made from (or are gone)."""

    def __init__(self, path: Path, specs: str, planned: str, found: str | None) -> None:
        self.path, self.specs, self.planned, self.found = path, specs, planned, found
        if found is None:
            why = f"the specs it was made from are not at '{specs}' any more"
        else:
            why = (
                f"the specs at '{specs}' are not those it was made from "
                f"(spec tree {planned[:19]}… in the plan, {found[:19]}… on disk)"
            )
        super().__init__(
            f"{path}: {why}; nothing was applied. Apply it from the commit it was planned "
            "on, or make and review a new plan from these specs."
        )


def spec_tree(spec_path: Path | str) -> str | None:
    """A digest of every file the loader reads for ``spec_path`` (None: it does not exist).

    The spec files ``discover`` finds and the ``reconciler.yaml`` next to them,
    each by its path under the spec root and its bytes; hidden files and other
    suffixes are not read by the loader, so they do not count.
    """
    root = Path(spec_path)
    if not root.exists():
        return None
    base = root if root.is_dir() else root.parent
    files = discover(root, [])
    config = next((base / n for n in CONFIG_NAMES if (base / n).is_file()), None)
    if config is not None:
        files.append(config)
    digest = hashlib.sha256()
    for name, file in sorted((f.relative_to(base).as_posix(), f) for f in files):
        content = hashlib.sha256(file.read_bytes()).hexdigest()
        digest.update(f"{name}\0{content}\n".encode())
    return "sha256:" + digest.hexdigest()


def check_spec_tree(saved: SavedPlan, path: Path) -> None:
    """Raise :class:`SpecsChangedError` unless the specs on disk are ``saved``'s own."""
    found = spec_tree(saved.specs)
    if found != saved.spec_tree:
        raise SpecsChangedError(path, saved.specs, saved.spec_tree, found)


def moved(saved: dict[str, str], live: State) -> list[str]:
    """What changed on the target since the plan read it, one line each, sorted."""
    now = fingerprints(live)
    lines = []
    for rid in sorted(saved.keys() | now.keys()):
        if rid not in now:
            lines.append(f"{rid}: gone since the plan was made")
        elif rid not in saved:
            lines.append(f"{rid}: appeared since the plan was made")
        elif saved[rid] != now[rid]:
            lines.append(f"{rid}: changed since the plan was made")
    return lines


def is_plan_file(path: Path) -> bool:
    """Whether ``path`` is a saved plan (a JSON file that says so), not a spec tree."""
    if not path.is_file() or path.suffix.lower() != ".json":
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(200).decode("utf-8", errors="replace")
    except OSError:
        return False
    return f'"format": "{FORMAT}"' in head


def _target(target: Target) -> dict[str, Any]:
    return {
        "name": target.name,
        "dialect": target.dialect,
        "url": target.url,
        "token_env": target.token_env,
        "parallelism": target.parallelism,
        # how fast, as well as what: the apply of a saved plan (the workflow's apply on
        # merge) keeps the target's ceiling, published rate limit and retries
        "max_parallelism": target.max_parallelism,
        "max_requests_per_second": target.max_requests_per_second,
        "retries": {  # as reconciler.yaml writes them, and checked as it is on load
            "attempts": target.retries.attempts,
            "backoff": target.retries.backoff,
            "maxBackoff": target.retries.max_backoff,
            "budget": target.retries.budget,
        },
        "embedded_db": str(target.embedded_db),
        "options": None if target.options is None else target.options.as_data(),
        "prune": {kind.value: policy for kind, policy in target.prune.items()},
        "grace_seconds": {k.value: g.total_seconds() for k, g in target.rules.grace.items()},
        "ignore_fields": {k.value: sorted(v) for k, v in target.rules.ignore_fields.items()},
        "protect": sorted(str(r) for r in target.rules.protect),
        "external": {
            str(r): dump_location(where) for r, where in sorted(target.rules.external.items())
        },
        "guards": {
            "max_removals": target.guards.max_removals,
            "max_removal_percent": target.guards.max_removal_percent,
        },
    }


def dump(
    plan: Plan,
    target: Target,
    desired: State,
    live: State,
    specs: str,
    origin: str = "",
    sensitive: Sensitive | None = None,
) -> dict[str, Any]:
    """The saved plan as a JSON-ready document (no token: only its variable's name).

    Fields the API marks ``sensitive`` are kept as a digest only; applying the
    plan takes their values from the specs again, and only if they still match.
    """
    sensitive = sensitive or {}
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "reconciler_version": __version__,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "origin": origin,
        "specs": specs,
        "spec_tree": spec_tree(specs),
        "target": _target(target),
        "plan": dump_plan(plan, sensitive),
        "desired": [dump_resource(r, sensitive) for r in desired],
        "fingerprints": fingerprints(live),
    }


def write(path: Path, document: dict[str, Any]) -> None:
    """Write a saved plan; refuse (nothing written) if it would hold the token.

    Live values are stored as read, and redacting them would change what an
    apply sends back; a server that echoes the token into its data gets no plan
    file at all, with the reason.
    """
    text = json.dumps(document, indent=2, ensure_ascii=False, default=str)
    if redact.holds_secret(text):
        raise PlanError(
            f"not writing {path}: the live data read from the target holds the token "
            "(the server echoes it back); a plan file must never store it"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")


def load(path: Path) -> SavedPlan:
    """Read a saved plan; a file that is not one (or of another version) is a ConfigError."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the saved plan {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(f"{path} is not a saved plan (made by `reconciler plan --out`)")
    if data.get("format_version") != FORMAT_VERSION:
        raise ConfigError(
            f"{path} is a version {data.get('format_version')} plan; this reconciler "
            f"reads version {FORMAT_VERSION}: make the plan again"
        )
    try:
        t = data["target"]
        prune = {Kind(k): v for k, v in t["prune"].items()}
        rules = Rules(
            prune=prune,
            grace={Kind(k): timedelta(seconds=v) for k, v in t["grace_seconds"].items()},
            ignore_fields={Kind(k): frozenset(v) for k, v in t["ignore_fields"].items()},
            protect=frozenset(ResourceId.parse(r) for r in t["protect"]),
            external={
                ResourceId.parse(r): load_location(where)
                for r, where in t.get("external", {}).items()
            },
        )
        target = Target(
            name=t["name"],
            dialect=t["dialect"],
            url=t["url"],
            token_env=t["token_env"],
            parallelism=_whole(t["parallelism"], ADAPTIVE, PARALLELISM_LIMIT),
            max_parallelism=_whole(t["max_parallelism"], 1, PARALLELISM_LIMIT),
            max_requests_per_second=_rate(t["max_requests_per_second"]),
            retries=_retries(t["retries"]),
            embedded_db=Path(t["embedded_db"]),
            prune=prune,
            rules=rules,
            guards=GuardPolicy(**t["guards"]),
            options=None if t.get("options") is None else parse(t["dialect"], t["options"]),
        )
        desired = State(r for d in data["desired"] if (r := load_resource(d)) is not None)
        plan = load_plan(data["plan"])
        return SavedPlan(
            target=target,
            specs=data.get("specs", ""),
            desired=desired,
            plan=plan,
            fingerprints=dict(data["fingerprints"]),
            created_at=data.get("created_at", ""),
            origin=data.get("origin", ""),
            spec_tree=str(data["spec_tree"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{path} is a damaged saved plan ({exc!r})") from None


def _whole(value: Any, low: int, high: int) -> int:
    """A whole number of the file within ``[low, high]`` (a file may be forged)."""
    if type(value) is not int or not low <= value <= high:
        raise ValueError(f"{value!r} is not a whole number from {low} to {high}")
    return value


_RETRY_KEYS = {"attempts", "backoff", "maxBackoff", "budget"}


def _retries(data: Any) -> RetryPolicy:
    """The target's retries as written (every one of them), checked as ``reconciler.yaml``'s."""
    if not isinstance(data, dict) or set(data) != _RETRY_KEYS:
        raise ValueError(f"retries need exactly {sorted(_RETRY_KEYS)}")
    return RetriesSpec.model_validate(data).policy()


def _rate(value: Any) -> float | None:
    """A published rate limit: none, or a number checked as ``reconciler.yaml``'s."""
    if value is None:
        return None
    if type(value) not in (int, float):
        raise ValueError(f"{value!r} is not a number of requests a second")
    return positive_rate(float(value))


def restore_secrets(saved: SavedPlan, current: State) -> list[str]:
    """Put sensitive values back from the specs; problems where they no longer match."""
    problems: list[str] = []
    resources = [r for c in saved.plan.changes for r in (c.desired, c.live) if r is not None]
    for resource in [*resources, *saved.desired]:
        for name, value in list(resource.fields.items()):
            if not is_secret(value):
                continue
            if resource is not None and any(resource is c.live for c in saved.plan.changes):
                resource.fields[name] = None  # the live value is not needed to apply
                continue
            now = current.get(resource.id)
            wanted = now.fields.get(name) if now is not None else None
            if wanted is None or secret_digest(wanted) != value[SECRET]:
                problems.append(
                    f"{resource.id}: the sensitive field '{name}' is kept out of the plan file, "
                    f"and the specs at {saved.specs} no longer hold the value it was planned with"
                )
            else:
                resource.fields[name] = wanted
    return problems

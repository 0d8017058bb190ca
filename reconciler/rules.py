"""What a run may do beyond "make live match the specs": prune, grace, ignore, protect, guards.

A leaf: the spec language (``reconciler.yaml``, a spec's ``ignoreFields`` and
``protect``) writes these values and the engine obeys them, so both import this
module and it imports neither (only :mod:`reconciler.model`).

It is also the one front end for the names rules are written with:
:func:`rule_field` turns an ``ignoreFields`` entry (``displayName``,
``display_name``, ``configuration.region``) into the model's path and refuses
one that names no field of its kind; :func:`rule_id` does the same for a
``protect`` entry (``Tenant/acme``). Both say what was probably meant; the
spec layer adds the file:line.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Literal, get_args

from reconciler.errors import SourceLocation
from reconciler.model import Kind, ResourceId

PrunePolicy = Literal["ignore", "suspend", "delete", "suspend-then-delete"]
"""``ignore`` leaves unmanaged objects alone; ``suspend`` suspends them (lifecycle
kinds only); ``delete`` deletes them; ``suspend-then-delete`` suspends first and
deletes once the object has been suspended for its kind's grace period."""

PRUNE_POLICIES: Final[tuple[str, ...]] = get_args(PrunePolicy)
"""Every valid policy name, for validation and help text."""

DEFAULT_PRUNE: Final[PrunePolicy] = "ignore"
"""The policy of every kind the configuration does not name: safe by default."""

DEFAULT_GRACE: Final[timedelta] = timedelta(days=30)

_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``2w``, ``45s`` → a timedelta; ValueError otherwise."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"'{text}' is not a duration like 30d, 12h, 90m, 2w or 45s")
    number, unit = match.groups()
    return timedelta(**{_UNITS[unit]: int(number)})


@dataclass(frozen=True)
class Rules:
    """Per-target rules of the diff: removals, their grace, fields left alone, protection.

    ``ignore_fields`` hold model paths (``display_name``, ``configuration.region``),
    as :func:`rule_field` makes them. ``now`` is fixed per run (and injectable in
    tests) so a plan is reproducible.
    """

    prune: Mapping[Kind, PrunePolicy] = field(default_factory=dict)
    grace: Mapping[Kind, timedelta] = field(default_factory=dict)
    ignore_fields: Mapping[Kind, frozenset[str]] = field(default_factory=dict)
    protect: frozenset[ResourceId] = frozenset()
    external: Mapping[ResourceId, SourceLocation | None] = field(default_factory=dict)
    """Objects ``external:`` in ``reconciler.yaml`` declares (with where): referred to,
    required to exist live, never changed nor pruned."""
    now: datetime | None = None

    def grace_for(self, kind: Kind) -> timedelta:
        return self.grace.get(kind, DEFAULT_GRACE)


@dataclass(frozen=True)
class GuardPolicy:
    """Limits on removals (suspensions + deletions) in one apply."""

    max_removals: int = 10
    max_removal_percent: float = 20.0


KIND_FIELDS: Final[Mapping[Kind, Mapping[str, bool]]] = {
    Kind.DEVICE_TIER: {"display_name": False, "description": False},
    Kind.SUBSCRIPTION_PLAN: {"display_name": False, "description": False},
    Kind.TIER_DEFAULTS: {"tiers": True},
    Kind.TENANT: {
        "display_name": False,
        "plan": False,
        "status": False,
        "parent": False,
        "configuration": True,
        "owner": False,
        "plan_override": True,
    },
    Kind.FEATURE_FLAG: {"tenant": False, "flag": False, "enabled": False},
    Kind.ROLE: {"tenant": False, "name": False, "description": False, "permissions": False},
    Kind.OPERATOR: {
        "name": False,
        "role": False,
        "status": False,
        "tenant": False,
        "wireguard_pubkey": False,
    },
    Kind.ROLE_ASSIGNMENT: {"tenant": False, "role": False, "user": False},
}
"""The fields of each kind a spec can set (see :mod:`reconciler.model`), in model
names; ``True`` for a mapping, whose keys a rule may name one by one (``configuration.region``)."""

_ELSEWHERE: Final[Mapping[tuple[Kind, str], str]] = {
    (Kind.SUBSCRIPTION_PLAN, "tier_defaults"): (
        "tier defaults are their own kind: TierDefaults: [tiers]"
    ),
    (Kind.TENANT, "features"): "feature flags are their own kind: FeatureFlag: [enabled]",
    (Kind.TENANT, "roles"): "roles are their own kind: Role: [description, permissions]",
}
"""Names of a spec document that belong to another kind, and where they go."""


def spec_name(name: str) -> str:
    """A model name as the spec language writes it: ``display_name`` → ``displayName``."""
    first, *rest = name.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


def model_name(written: str) -> str:
    """A spec-language name as the model names it: ``displayName`` → ``display_name``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", written).lower()


def suggestion(given: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or ``""``."""
    options = list(choices)
    by_lower = {c.lower().replace("_", ""): c for c in options}
    folded = given.lower().replace("_", "")
    if folded in by_lower:
        return f" (did you mean '{by_lower[folded]}'?)"
    close = difflib.get_close_matches(given, options, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _a(kind: Kind) -> str:
    return f"{'an' if kind.value[0] in 'AEIOU' else 'a'} {kind.value}"


class RuleError(ValueError):
    """A rule names a field or an object that cannot be; ``str()`` says why, for a person."""


def rule_field(kind: Kind, written: str) -> str:
    """The model path an ``ignoreFields`` entry of ``kind`` names, or :class:`RuleError`.

    ``displayName`` and ``display_name`` both name ``display_name``; after a dot
    comes a key of a mapping field, kept as written (``configuration.region``).
    """
    name, dot, key = written.partition(".")
    fields = KIND_FIELDS[kind]
    model = model_name(name)
    shown = [spec_name(f) for f in fields]
    if model not in fields:
        elsewhere = _ELSEWHERE.get((kind, model))
        if elsewhere is not None:
            raise RuleError(f"'{written}' names no field of {_a(kind)}: {elsewhere}")
        hint = suggestion(name, shown) or f" (fields: {', '.join(shown)})"
        raise RuleError(f"'{written}' names no field of {_a(kind)}{hint}")
    if dot and not fields[model]:
        raise RuleError(
            f"'{written}': {spec_name(model)} of {_a(kind)} is a single value, "
            f"not a mapping with keys; write '{name}' alone"
        )
    if dot and not key:
        raise RuleError(f"'{written}' ends with '.': name the key of {spec_name(model)} after it")
    return model + dot + key


def rule_id(written: str) -> ResourceId:
    """The object a ``protect`` entry names (``Tenant/acme``), or :class:`RuleError`.

    An operator's email is compared in lower case, as its specs and reads are.
    """
    kind_name, _, key = written.partition("/")
    kinds = [k.value for k in Kind]
    if kind_name not in kinds:
        hint = suggestion(kind_name, kinds) or f" ({', '.join(kinds)})"
        raise RuleError(f"'{written}' must start with a kind{hint}, as in Tenant/acme")
    if not key:
        raise RuleError(f"'{written}' names no object: write {kind_name}/<name>")
    kind = Kind(kind_name)
    return ResourceId(kind, key.lower() if kind is Kind.OPERATOR else key)

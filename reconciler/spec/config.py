"""``reconciler.yaml``: the targets a spec tree can be applied to, and prune policies.

Each entry of ``targets:`` is validated as a :class:`TargetSpec` (the shape of
the YAML) and becomes a :class:`~reconciler.targets.Target` (what a run uses),
without its token: a run adds that when it resolves the target.

It sits at the spec root and is read with the same loader as the specs, so it
gets the same guarantees: strict fields, ``${VAR}`` interpolation, and every
problem reported at once with file:line:column (as a :class:`SpecError`).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from pydantic.alias_generators import to_camel
from pydantic_core import InitErrorDetails

from reconciler import dialects as registry
from reconciler.errors import ConfigError, SourceLocation, SpecError, SpecProblem
from reconciler.model import LIFECYCLE, Kind, ResourceId
from reconciler.options import DialectOptions, schema
from reconciler.rules import (
    DEFAULT_PRUNE,
    GuardPolicy,
    PrunePolicy,
    RuleError,
    Rules,
    parse_duration,
    rule_field,
    rule_id,
)
from reconciler.spec.external import External, external_entries
from reconciler.spec.loader import CONFIG_NAMES, display_path, shown
from reconciler.spec.models import ENV_PATTERN, URL_PATTERN, Key, Name, Ref
from reconciler.spec.names import nfc, visible
from reconciler.spec.problems import did_you_mean, validation_problems
from reconciler.spec.yamlload import Document, YamlPath, read_file
from reconciler.targets import (
    DEFAULT_MAX_PARALLELISM,
    DEFAULT_PARALLELISM,
    DEFAULT_TOKEN_ENV,
    PARALLELISM_LIMIT,
    RetryPolicy,
    Target,
    default_retries,
    embedded_db_for,
)

__all__ = ["CONFIG_NAMES", "Config", "PrunePolicy", "load_config"]

KindName = Literal[
    "DeviceTier",
    "Plan",
    "TierDefaults",
    "Tenant",
    "FeatureFlag",
    "Role",
    "Operator",
    "RoleAssignment",
]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, alias_generator=to_camel, populate_by_name=False
    )


Duration = Annotated[str, StringConstraints(pattern=r"^\d+[smhdw]$")]
RefText = Annotated[Ref, StringConstraints(pattern=r"^[A-Za-z]+/.+$")]


class GuardsSpec(_Model):
    """Limits on removals per apply (``--allow-mass-changes`` lifts them once)."""

    max_removals: Annotated[int, Field(ge=0)] = 10
    max_removal_percent: Annotated[float, Field(ge=0, le=100)] = 20.0


class RulesSpec(_Model):
    """What may be set at the top level and overridden per target."""

    prune: dict[KindName, PrunePolicy] = Field(default_factory=dict)
    grace: dict[KindName, Duration] = Field(default_factory=dict)
    ignore_fields: dict[KindName, list[Ref]] = Field(default_factory=dict)
    protect: list[RefText] = Field(default_factory=list)
    external: list[RefText] = Field(default_factory=list)
    """Live objects the specs refer to but do not manage (``Plan/enterprise``)."""
    guards: GuardsSpec | None = None


class ApiSpec(_Model):
    """``api: {dialect, options}``: the dialect and its options (validated against the
    dialect's own model once the dialect is known)."""

    dialect: Key
    options: dict[str, Any] = Field(default_factory=dict)


def positive_rate(value: float) -> float:
    """A published rate limit: finite and above 0 (``maxRequestsPerSecond``, saved plans)."""
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"must be a positive number of requests per second, not {value:g}")
    return value


class RetriesSpec(_Model):
    """``retries:`` of a target: how failed calls are tried again (unset: the defaults)."""

    attempts: Annotated[int, Field(ge=1, le=20)] | None = None
    """Tries in all, the first included (1: never tried again)."""
    backoff: Annotated[float, Field(ge=0, le=600, allow_inf_nan=False)] | None = None
    """Seconds before the second try, doubled for each next one (with jitter)."""
    max_backoff: Annotated[float, Field(ge=0, le=3600, allow_inf_nan=False)] | None = None
    """The longest wait between two tries, a ``Retry-After`` included."""
    budget: Annotated[float, Field(gt=0, le=86400, allow_inf_nan=False)] | None = None
    """Seconds from a call's first try after which it is not tried again."""

    def policy(self) -> RetryPolicy:
        base = default_retries()
        return RetryPolicy(
            attempts=base.attempts if self.attempts is None else self.attempts,
            backoff=base.backoff if self.backoff is None else self.backoff,
            max_backoff=base.max_backoff if self.max_backoff is None else self.max_backoff,
            budget=base.budget if self.budget is None else self.budget,
        )


class TargetSpec(RulesSpec):
    """One API a spec tree can be applied to, as written in ``reconciler.yaml``."""

    api: Key | ApiSpec
    """The dialect's name, or ``{dialect, options}``: the YAML key is ``api``, as ``--api``
    is on the command line."""
    url: Annotated[str, StringConstraints(pattern=URL_PATTERN)] | None = None
    """The API's base URL; none: the embedded sandbox of this dialect (local state)."""
    token_env: Annotated[str, StringConstraints(pattern=ENV_PATTERN)] = DEFAULT_TOKEN_ENV
    parallelism: Annotated[int, Field(ge=1, le=PARALLELISM_LIMIT)] | None = None
    """Pins the changes in flight; none: found while running, up to ``maxParallelism``."""
    max_parallelism: Annotated[int, Field(ge=1, le=PARALLELISM_LIMIT)] | None = None
    """The ceiling of the concurrency found while running (default 32)."""
    max_requests_per_second: Annotated[float, AfterValidator(positive_rate)] | None = None
    """The API's published rate limit: requests leave at most this often."""
    retries: RetriesSpec | None = None
    """How failed calls are tried again; none: :data:`~reconciler.targets.DEFAULT_RETRIES`."""
    ca_bundle: Annotated[str, StringConstraints(min_length=1)] | None = None
    insecure: bool = False
    allow_plain_http: bool = False


class ConfigSpec(RulesSpec):
    """The whole of ``reconciler.yaml``."""

    api_version: Literal["reconciler.dev/v1"]
    default_target: Name | None = None
    targets: dict[Name, TargetSpec] = Field(default_factory=dict)


class TargetsByName(dict[str, Target]):
    """Targets by name; a name typed in another Unicode normal form finds the same target.

    Names in ``reconciler.yaml`` are stored in NFC; ``--target`` is whatever the
    shell passed.
    """

    def __contains__(self, key: object) -> bool:
        return super().__contains__(nfc(key) if isinstance(key, str) else key)

    def __getitem__(self, key: str) -> Target:
        return super().__getitem__(nfc(key))


@dataclass
class Config:
    """What ``reconciler.yaml`` says; ``Config()`` when there is none (embedded sandbox)."""

    targets: dict[str, Target] = field(default_factory=dict)
    """The configured targets by name, without their tokens."""
    default_target: str | None = None
    prune: dict[Kind, PrunePolicy] = field(default_factory=dict)
    source: Path | None = None
    rules: Rules = field(default_factory=Rules)
    guards: GuardPolicy = field(default_factory=GuardPolicy)

    def prune_for(self, target: str | None) -> dict[Kind, PrunePolicy]:
        """The policy of every kind for ``target`` (``None``: the top-level defaults)."""
        if target is None:
            return _complete(self.prune)
        if target not in self.targets:
            hint = did_you_mean(target, self.targets)
            raise ConfigError(visible(f"unknown target '{target}'{hint}"))
        return _complete(self.targets[target].prune)


def _complete(prune: Mapping[Kind, PrunePolicy]) -> dict[Kind, PrunePolicy]:
    return {kind: prune.get(kind, DEFAULT_PRUNE) for kind in Kind}


def load_config(spec_root: Path | str, env: Mapping[str, str] | None = None) -> Config:
    """Read ``reconciler.yaml`` (or ``.yml``) at ``spec_root``; a file root means its directory.

    Raises :class:`SpecError` with every problem in the file.
    """
    root = Path(spec_root)
    directory = root.parent if root.is_file() else root
    path = next((directory / n for n in CONFIG_NAMES if (directory / n).is_file()), None)
    if path is None:
        return Config()
    result = read_file(path, display_path(path), os.environ if env is None else env)
    problems = list(result.problems)
    for extra in result.documents[1:]:
        problems.append(SpecProblem(extra.start, "reconciler.yaml must hold one document"))
    if not result.complete or not result.documents:
        if problems:
            raise SpecError(shown(problems))
        return Config(source=path)  # only comments: nothing configured
    doc = result.documents[0]
    if not isinstance(doc.data, dict):
        problems.append(SpecProblem(doc.start, "reconciler.yaml must be a mapping"))
        raise SpecError(shown(problems))
    try:
        spec = ConfigSpec.model_validate(doc.data)
    except ValidationError as exc:
        skip = {p.location for p in problems}
        problems += validation_problems(_api_branch(exc, doc.data), doc, _allowed_fields, skip=skip)
        raise SpecError(shown(problems)) from None

    problems += _suspend_problems(spec.prune, doc.locate, ("prune",))
    problems += _rule_problems(spec, doc.locate)
    external: dict[str | None, External] = {}
    external[None], found = external_entries((), spec.external, doc.locate)
    problems += found
    for name, target in spec.targets.items():
        external[name], found = external_entries(("targets", name), target.external, doc.locate)
        problems += found
    options: dict[str, DialectOptions | None] = {}
    for name, target in spec.targets.items():
        problems += _suspend_problems(target.prune, doc.locate, ("targets", name, "prune"))
        problems += _concurrency_problems(target, doc.locate, ("targets", name))
        options[name], found = _options(target.api, doc, ("targets", name, "api"))
        problems += found
    if spec.default_target is not None and spec.default_target not in spec.targets:
        known = ", ".join(sorted(spec.targets)) or "none configured"
        hint = did_you_mean(spec.default_target, spec.targets)
        message = (
            f"defaultTarget '{spec.default_target}' is not a configured target{hint} "
            f"(known: {known})"
        )
        problems.append(SpecProblem(doc.locate(("defaultTarget",)), message))
    if problems:
        raise SpecError(shown(problems))

    defaults = {Kind(k): v for k, v in spec.prune.items()}
    top_rules = _rules(spec, None, external[None])
    targets = TargetsByName(
        (
            name,
            Target(
                name=name,
                dialect=t.api if isinstance(t.api, str) else t.api.dialect,
                url=t.url,
                embedded_db=embedded_db_for(t.api if isinstance(t.api, str) else t.api.dialect),
                token_env=t.token_env,
                parallelism=t.parallelism or DEFAULT_PARALLELISM,
                max_parallelism=t.max_parallelism or DEFAULT_MAX_PARALLELISM,
                max_requests_per_second=t.max_requests_per_second,
                retries=t.retries.policy() if t.retries else default_retries(),
                prune=_complete(defaults | {Kind(k): v for k, v in t.prune.items()}),
                rules=_rules(spec, t, external[None] | external[name]),
                guards=_guards(t.guards or spec.guards),
                ca_bundle=_beside(directory, t.ca_bundle),
                insecure=t.insecure,
                allow_plain_http=t.allow_plain_http,
                options=options[name],
            ),
        )
        for name, t in spec.targets.items()
    )
    return Config(targets, spec.default_target, defaults, path, top_rules, _guards(spec.guards))


def _beside(directory: Path, name: str | None) -> str | None:
    """A path written in ``reconciler.yaml``, relative to that file (not to the current
    directory); ``~`` is the user's home."""
    if name is None:
        return None
    path = Path(name).expanduser()
    return str(path if path.is_absolute() else directory.absolute() / path)


def _api_branch(exc: ValidationError, data: Any) -> ValidationError:
    """``exc`` with only the errors of the form ``api`` was written in.

    ``api`` is a name or a mapping: pydantic reports both members of the union
    and tags each error's path with the member; a mapping keeps the mapping's
    errors, anything else the name's, and the tag leaves the path.
    """
    kept: list[InitErrorDetails] = []
    for error in exc.errors(include_url=False):
        loc = list(error["loc"])
        tags = [i for i, p in enumerate(loc) if isinstance(p, str) and _TAG.match(p)]
        if tags and loc[tags[0] - 1 : tags[0]] == ["api"]:
            at = tags[0]
            written: Any = data
            for part in loc[:at]:
                written = written.get(part) if isinstance(written, dict) else None
            if (loc[at] == ApiSpec.__name__) != isinstance(written, dict):
                continue
            del loc[at]
        details: InitErrorDetails = {
            "type": error["type"],
            "loc": tuple(loc),
            "input": error["input"],
        }
        if "ctx" in error:
            details["ctx"] = error["ctx"]
        kept.append(details)
    return ValidationError.from_exception_data(exc.title, kept)


_TAG = re.compile(r"^(ApiSpec|function-after\[.*\]|str)$")


def _options(
    api: str | ApiSpec, doc: Document, at: YamlPath
) -> tuple[DialectOptions | None, list[SpecProblem]]:
    """A target's options, typed by its dialect's model; problems at their YAML nodes.

    The plain form ``api: NAME`` has no options (None: the dialect's defaults). An
    unknown dialect is reported for every target, chosen for this run or not.
    """
    dialect = api if isinstance(api, str) else api.dialect
    model = schema(dialect)
    if model is None:
        known = ", ".join(registry.names())
        hint = did_you_mean(dialect, registry.names())
        message = f"unknown API dialect '{dialect}'{hint} (known: {known})"
        where = at if isinstance(api, str) else (*at, "dialect")
        return None, [SpecProblem(doc.locate(where), visible(message))]
    if isinstance(api, str):
        return None, []
    try:
        return model.model_validate(api.options), []
    except ValidationError as exc:
        base = (*at, "options")
        within = Document(
            doc.file,
            doc.locate(base),
            api.options,
            {p[len(base) :]: w for p, w in doc.values.items() if p[: len(base)] == base},
            {p[len(base) :]: w for p, w in doc.keys.items() if p[: len(base)] == base},
        )
        found = validation_problems(exc, within, _option_names(model))
        prefix = f"{api.dialect} options: "
        return None, [SpecProblem(p.location, prefix + p.message) for p in found]


def _option_names(model: type[DialectOptions]) -> Callable[[YamlPath], list[str]]:
    """The option names accepted beside an unknown one: those of its own section
    (``lists.tenant`` → the names under ``lists``), for did-you-mean."""

    def allowed(path: YamlPath) -> list[str]:
        section: Any = model
        for part in path[:-1]:
            fields = {f.alias or n: f.annotation for n, f in section.model_fields.items()}
            found = fields.get(str(part))
            if not (isinstance(found, type) and issubclass(found, DialectOptions)):
                break
            section = found
        return [f.alias or n for n, f in section.model_fields.items()] or ["(none)"]

    return allowed


def _guards(spec: GuardsSpec | None) -> GuardPolicy:
    spec = spec or GuardsSpec()
    return GuardPolicy(spec.max_removals, spec.max_removal_percent)


def _rules(top: RulesSpec, target: RulesSpec | None, external: External) -> Rules:
    """The top-level rules, with a target's overriding them kind by kind (``external``:
    the objects declared external for it, both levels together)."""
    layers = [top] if target is None else [top, target]
    prune: dict[Kind, PrunePolicy] = {}
    grace: dict[Kind, timedelta] = {}
    ignore: dict[Kind, frozenset[str]] = {}
    protect: set[ResourceId] = set()
    for layer in layers:
        prune |= {Kind(k): v for k, v in layer.prune.items()}
        grace |= {Kind(k): parse_duration(v) for k, v in layer.grace.items()}
        ignore |= {
            Kind(k): frozenset(rule_field(Kind(k), p) for p in v)
            for k, v in layer.ignore_fields.items()
        }
        protect |= {rule_id(r) for r in layer.protect}
    return Rules(
        prune=_complete(prune),
        grace=grace,
        ignore_fields=ignore,
        protect=frozenset(protect),
        external=external,
    )


def _rule_problems(
    spec: ConfigSpec, locate: Callable[[YamlPath], SourceLocation]
) -> list[SpecProblem]:
    """``ignoreFields`` entries must name a field of their kind, ``protect`` entries an object.

    The same front end as a spec's own ``ignoreFields`` (:func:`reconciler.rules.rule_field`):
    ``displayName`` and ``display_name`` are one field, a typo is refused here.
    """
    problems = []
    layers: list[tuple[YamlPath, RulesSpec]] = [((), spec)]
    layers += [(("targets", name), t) for name, t in spec.targets.items()]
    for base, layer in layers:
        for kind, paths in layer.ignore_fields.items():
            for i, path in enumerate(paths):
                try:
                    rule_field(Kind(kind), path)
                except RuleError as exc:
                    where = locate((*base, "ignoreFields", kind, i))
                    problems.append(SpecProblem(where, f"'ignoreFields' entry {exc}"))
        for i, ref in enumerate(layer.protect):
            try:
                rule_id(ref)
            except RuleError as exc:
                problems.append(SpecProblem(locate((*base, "protect", i)), f"protect entry {exc}"))
    return problems


def _concurrency_problems(
    target: TargetSpec, locate: Callable[[YamlPath], SourceLocation], base: YamlPath
) -> list[SpecProblem]:
    """``parallelism`` pins the concurrency, ``maxParallelism`` bounds the adaptive one:
    a target gives one or the other."""
    if target.parallelism is None or target.max_parallelism is None:
        return []
    name = ".".join(str(part) for part in base)
    pinned = locate((*base, "parallelism"))
    message = (
        f"'{name}.maxParallelism' bounds the concurrency found while running and "
        f"'{name}.parallelism' (line {pinned.line}) pins it: give one of them"
    )
    return [SpecProblem(locate((*base, "maxParallelism")), message)]


def _allowed_fields(path: YamlPath) -> list[str]:
    """The fields allowed where an unknown one was found: top level or inside a target."""
    if path[:1] == ("targets",) and path[2:3] == ("api",):
        return list(ApiSpec.model_fields)
    model = TargetSpec if path[:1] == ("targets",) else ConfigSpec
    return [f.alias or n for n, f in model.model_fields.items()]


def _suspend_problems(
    prune: Mapping[KindName, PrunePolicy],
    locate: Callable[[YamlPath], SourceLocation],
    base: YamlPath,
) -> list[SpecProblem]:
    """``suspend`` only exists for kinds with a lifecycle (a status to flip)."""
    allowed = ", ".join(k.value for k in LIFECYCLE)
    return [
        SpecProblem(
            locate((*base, kind)),
            f"prune policy '{policy}' is only valid for {allowed}; "
            f"{kind} can be 'ignore' or 'delete'",
        )
        for kind, policy in prune.items()
        if policy in ("suspend", "suspend-then-delete") and Kind(kind) not in LIFECYCLE
    ]

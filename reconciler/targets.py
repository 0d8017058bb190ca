"""Which API a run talks to: the one :class:`Target` type, and how a run picks one.

A :class:`Target` is made in one of three places and is the same type in all:
``reconciler.yaml`` (:func:`reconciler.spec.config.load_config`) builds one per
configured target, without the token (only the name of the variable that
holds it); :func:`resolve_target` picks one of those for a run and adds the
token, or makes one for a one-off ``--api``/``--url`` or the embedded sandbox;
a saved plan file holds one (:mod:`reconciler.planfile`), also without the token.
:class:`TargetChoice` is what the command line said.

Resolution order: ``--api``/``--url`` on the command line; else ``--target NAME``;
else the config's ``defaultTarget``; else the only configured target; else, with
no target configured at all, the embedded sandbox on 127.0.0.1.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler import redact
from reconciler.errors import ConfigError
from reconciler.model import Kind
from reconciler.options import DialectOptions
from reconciler.rules import GuardPolicy, PrunePolicy, Rules

if TYPE_CHECKING:  # the config is made of Targets: it imports this module, not the reverse
    from reconciler.spec.config import Config

log = logging.getLogger(__name__)

DEFAULT_TOKEN_ENV = "RECONCILER_TOKEN"
ADAPTIVE = 0
"""``Target.parallelism`` when nothing pins it: the session's limiter finds how many
requests the API serves best at once (:mod:`reconciler.limiter`)."""
DEFAULT_PARALLELISM = ADAPTIVE
"""The best number depends on the server: 2 to 4 on a local two-core sandbox, 16 to 32
against an API 50 ms away (docs/performance.md), so none is fixed by default."""
DEFAULT_MAX_PARALLELISM = 32
"""The adaptive limit's ceiling (``maxParallelism``): the limiter's ``DEFAULT_CEILING``,
below httpx's connection-pool knee (not imported: the spec language imports this module)."""
PARALLELISM_LIMIT = 256
"""The most ``parallelism`` or ``maxParallelism`` may say, in ``reconciler.yaml`` or a
saved plan."""
EMBEDDED_DB = Path(".reconciler") / "sandbox.sqlite"


@dataclass(frozen=True)
class RetryPolicy:
    """How a failed call is tried again (``retries:`` of a target): at most ``attempts``
    tries in all, waiting ``backoff`` seconds doubled per try (with jitter) up to
    ``max_backoff``, and never past ``budget`` seconds from the first try. APIs differ
    in how long their 503s last; the defaults suit a platform that recovers in seconds."""

    attempts: int = 4
    backoff: float = 0.2
    max_backoff: float = 10.0
    budget: float = 60.0


DEFAULT_RETRIES = RetryPolicy()
"""What a target without ``retries:`` uses (read when a target is made, so a test
suite may shorten the waits of every target it makes)."""


def default_retries() -> RetryPolicy:
    return DEFAULT_RETRIES


@dataclass
class Target:
    """An API a spec tree is applied to. ``url is None`` means the embedded sandbox.

    ``dialect`` is the name of the API's dialect (``api:`` in ``reconciler.yaml``,
    ``--api`` on the command line). ``prune`` is already merged with the
    top-level defaults. ``token`` is set only once a run resolves the target
    (:func:`resolve_target`), and is kept out of ``repr`` so it never lands in
    a log or traceback. ``options`` are the dialect's (``api: {dialect, options}``),
    validated against its model when the config is loaded; a one-off ``--api``/``--url``
    target and the embedded sandbox use the defaults.
    """

    name: str
    dialect: str
    url: str | None
    token: str | None = field(default=None, repr=False)
    token_env: str = DEFAULT_TOKEN_ENV
    prune: dict[Kind, PrunePolicy] = field(default_factory=dict)
    parallelism: int = DEFAULT_PARALLELISM
    """Changes (and requests) in flight, pinned (``parallelism:``, ``--parallelism``);
    :data:`ADAPTIVE` (0): found while running, up to ``max_parallelism``."""
    max_parallelism: int = DEFAULT_MAX_PARALLELISM
    """The most an adaptive limit may reach (``maxParallelism``)."""
    max_requests_per_second: float | None = None
    """The API's published rate limit (``maxRequestsPerSecond``), kept in any mode."""
    retries: RetryPolicy = field(default_factory=default_retries)
    """How failed calls are tried again (``retries:``)."""
    embedded_db: Path = EMBEDDED_DB
    rules: Rules = field(default_factory=Rules)
    guards: GuardPolicy = field(default_factory=GuardPolicy)
    ca_bundle: str | None = None
    insecure: bool = False
    allow_plain_http: bool = False
    options: DialectOptions | None = None
    """The dialect's options (``api: {dialect, options}``); None: its defaults."""

    @property
    def embedded(self) -> bool:
        return self.url is None

    @property
    def plan_rules(self) -> Rules:
        """The rules every plan for this target is made with (``prune`` given apart wins)."""
        return replace(self.rules, prune=self.prune or self.rules.prune)

    def describe(self) -> str:
        if self.embedded:
            return f"local sandbox ({self.dialect}), state in {self.embedded_db}"
        return f"{self.name} ({self.dialect}) at {self.url}"


@dataclass
class TargetChoice:
    """How the command line chose a target and what it overrides for this run.

    ``name`` is ``--target``; ``dialect`` and ``url`` are ``--api`` and ``--url``
    (a one-off target, or with ``--api`` alone the embedded sandbox's dialect);
    the rest are ``--parallelism`` and the TLS flags. Nothing set: the config decides.
    """

    name: str | None = None
    dialect: str | None = None
    url: str | None = None
    parallelism: int | None = None
    ca_bundle: str | None = None
    insecure: bool = False
    allow_http: bool = False

    @property
    def names_a_target(self) -> bool:
        """Whether the command line chose a target at all (``--target``, ``--api``, ``--url``)."""
        return bool(self.name or self.dialect or self.url)


def _describe(ch: str) -> str:
    if ch == " ":
        return "a space"
    if ord(ch) < 0x20 or ord(ch) == 0x7F:
        return "a control character"
    return "a non-ASCII character"


def check_token(raw: str, source: str) -> str:
    """The token from ``source`` (e.g. ``the environment variable X``), fit for a header.

    Leading and trailing whitespace (a newline from a file) is removed with a
    warning; anything else that is not visible ASCII is a one-line
    :class:`ConfigError` naming ``source``. The value itself is never shown, and
    the token is registered with :mod:`reconciler.redact` so no output holds it.
    """
    token = raw.strip()
    if not token:
        raise ConfigError(f"{source} is empty or only whitespace: it must hold the token")
    if token != raw:
        redact.register(raw)
        log.warning(
            "%s: whitespace before or after the token was removed (the value is not shown)",
            source,
        )
    for position, ch in enumerate(token, 1):
        if not "!" <= ch <= "~":  # visible ASCII, as an HTTP header value can carry it
            hint = (
                " (give the token alone, without 'Bearer ')"
                if token[:7].lower() == "bearer "
                else ""
            )
            raise ConfigError(
                f"{source} holds a token that cannot be sent in an HTTP header: "
                f"character {position} of {len(token)} is {_describe(ch)}; a token is "
                f"visible ASCII only{hint} (the value is not shown)"
            )
    redact.register(token)
    return token


def embedded_db_for(dialect: str) -> Path:
    """Where the embedded sandbox of ``dialect`` keeps its state, under the spec root."""
    if dialect == "reference":
        return EMBEDDED_DB
    return EMBEDDED_DB.with_name(f"sandbox-{dialect}.sqlite")


def read_token(env: Mapping[str, str], variable: str, missing: str) -> str:
    """The checked token in ``$variable``; ``missing`` is the error when it is unset or empty."""
    raw = env.get(variable)
    if not raw or not raw.strip():
        raise ConfigError(missing)
    return check_token(raw, f"the environment variable {variable}")


def resolve_target(
    config: Config,
    choice: TargetChoice,
    env: Mapping[str, str] | None = None,
    *,
    need_token: bool = True,
) -> Target:
    """The target for a run, with its token; a bad choice is a ConfigError, before any call.

    ``need_token=False`` (``validate``, which makes no call): the target without a token.
    """
    env = os.environ if env is None else env

    def token(variable: str, missing: str) -> str | None:
        return read_token(env, variable, missing) if need_token else None

    if choice.name and (choice.dialect or choice.url):
        raise ConfigError("give either --target or --api/--url, not both")
    parallelism = choice.parallelism
    if choice.url:
        if not choice.dialect:
            raise ConfigError("--url needs --api to say which API dialect the URL serves")
        return Target(
            name="command line",
            dialect=choice.dialect,
            url=choice.url,
            token=token(
                DEFAULT_TOKEN_ENV,
                f"--url needs a token: set the environment variable {DEFAULT_TOKEN_ENV}",
            ),
            prune=config.prune_for(None),
            parallelism=parallelism or DEFAULT_PARALLELISM,
            rules=config.rules,
            guards=config.guards,
        )
    name = choice.name or config.default_target
    if name is None and len(config.targets) == 1:
        name = next(iter(config.targets))
    if name is None or (choice.dialect and not choice.name):
        if config.targets and not choice.dialect:
            known = ", ".join(sorted(config.targets))
            raise ConfigError(f"several targets are configured ({known}); choose one with --target")
        dialect = choice.dialect or "reference"
        db = embedded_db_for(dialect)
        return Target(
            name="local sandbox",
            dialect=dialect,
            url=None,
            prune=config.prune_for(None),
            parallelism=parallelism or DEFAULT_PARALLELISM,
            embedded_db=db,
            rules=config.rules,
            guards=config.guards,
        )
    if name not in config.targets:
        from reconciler.spec.names import visible  # the spec package imports this module
        from reconciler.spec.problems import did_you_mean

        known = ", ".join(sorted(config.targets)) or "none configured"
        hint = did_you_mean(name, config.targets)
        raise ConfigError(visible(f"unknown target '{name}'{hint} (known: {known})"))
    configured = config.targets[name]
    missing = f"target '{name}' needs a token: set the environment variable {configured.token_env}"
    return replace(
        configured,
        token=None if configured.embedded else token(configured.token_env, missing),
        prune=dict(configured.prune),
        parallelism=parallelism or configured.parallelism,
    )

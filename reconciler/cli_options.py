"""Options the CLI's commands share, each group gathered into one value.

As sqlite-utils does it: a decorator adds a group of options to a command and
hands the command one object instead of a parameter per option.
:func:`target_options` (with :func:`tls_options` when the command connects)
gives ``choice: TargetChoice``; :func:`report_options` gives
``report: ReportOptions`` to ``plan`` and ``drift``; :func:`only_option` gives
``only``, the objects ``--only`` names, to ``plan`` and ``apply``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from reconciler.model import ResourceId
from reconciler.report.limits import COMMENT_LIMIT

if TYPE_CHECKING:
    from reconciler.targets import TargetChoice

F = TypeVar("F", bound=Callable[..., Any])


def _add(func: F, options: list[Callable[[F], F]]) -> F:
    for option in reversed(options):
        func = option(func)
    return func


def spec_argument(func: F) -> F:
    return click.argument("path", type=click.Path(path_type=Path), default="specs", required=False)(
        func
    )


def target_options(func: F) -> F:
    """``--target`` / ``--api`` / ``--url`` / ``--parallelism``, and with :func:`tls_options`
    the TLS choices, as one ``choice: TargetChoice`` argument."""

    @functools.wraps(func)
    def gathered(*args: Any, **kwargs: Any) -> Any:
        kwargs["choice"] = _target_choice(kwargs)
        return func(*args, **kwargs)

    return _add(
        cast(F, gathered),
        [
            click.option("--target", "-t", help="Target name from reconciler.yaml."),
            click.option(
                "--api",
                "dialect",
                help="API dialect for a one-off target (with --url), or of the embedded sandbox.",
            ),
            click.option(
                "--url",
                callback=_checked_url,
                help="Base URL of a one-off target; token from $RECONCILER_TOKEN.",
            ),
            click.option(
                "--parallelism",
                type=click.IntRange(1, 256),
                help="Pin how many changes (and requests) run at once. Default: found while "
                "running, up to the target's maxParallelism (32): more while the API answers "
                "as fast, fewer when it slows down or answers 429/503.",
            ),
        ],
    )


def _target_choice(kwargs: dict[str, Any]) -> TargetChoice:
    """The target options, popped from ``kwargs``: imported when a command runs, since
    :mod:`reconciler.targets` brings pydantic's models along (``--help`` needs none)."""
    from reconciler.targets import TargetChoice

    return TargetChoice(
        name=kwargs.pop("target"),
        dialect=kwargs.pop("dialect"),
        url=kwargs.pop("url"),
        parallelism=kwargs.pop("parallelism", None),
        ca_bundle=kwargs.pop("ca_bundle", None),
        insecure=bool(kwargs.pop("insecure", False)),
        allow_http=bool(kwargs.pop("allow_http", False)),
    )


def _checked_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--url`` as ``reconciler.yaml``'s ``url`` must be: refused before anything runs."""
    if value is None:
        return None  # click calls this for every run: the spec models only when needed
    from reconciler.spec.models import URL_PATTERN

    if not re.fullmatch(URL_PATTERN, value):
        hint = f" (did you mean 'https://{value}'?)" if "://" not in value else ""
        raise click.BadParameter(f"'{value}' is not an http(s) URL{hint}")
    return value


def only_option(func: F) -> F:
    """``--only KIND/NAME`` (repeatable) as ``only: tuple[ResourceId, ...]``, in the order given."""
    return click.option(
        "--only",
        "only",
        multiple=True,
        metavar="KIND/NAME",
        callback=_parsed_only,
        help="Plan or apply only this object (a Tenant with its flags and roles, a Plan "
        "with its tier defaults) and the pending changes it needs, e.g. Tenant/acme; "
        "repeatable. Warns about what is left out.",
    )(func)


def _parsed_only(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[ResourceId, ...]:
    """Each ``--only`` as the object it names: a kind as the specs write it, then its key
    (in Unicode NFC, as names are compared); a kind that does not exist is refused here."""
    if not values:
        return ()  # click calls this for every run: the spec language only when needed
    from reconciler.rules import RuleError, rule_id
    from reconciler.spec.names import nfc

    names: list[ResourceId] = []
    for value in values:
        try:
            rid = rule_id(nfc(value))
        except RuleError as exc:
            raise click.BadParameter(str(exc), ctx, param) from None
        if rid not in names:
            names.append(rid)
    return tuple(names)


def no_parallelism(func: F) -> F:
    """For commands that make no changes (``validate``, ``export``): no ``--parallelism``."""
    params = getattr(func, "__click_params__", [])
    params[:] = [p for p in params if p.name != "parallelism"]
    return func


def tls_options(func: F) -> F:
    """``--ca-bundle`` / ``--insecure`` / ``--allow-http``: how to trust the target.

    Gathered into ``choice`` by :func:`target_options`, which the command also has.
    """
    return _add(
        func,
        [
            click.option(
                "--ca-bundle",
                type=click.Path(exists=True, dir_okay=False),
                help="PEM file of the CA that signed the target's certificate (private CAs).",
            ),
            click.option(
                "--insecure",
                is_flag=True,
                help="Do not verify the target's TLS certificate (warns on every run).",
            ),
            click.option(
                "--allow-http",
                is_flag=True,
                help="Allow plain http:// to a host that is not this machine.",
            ),
        ],
    )


@dataclass(frozen=True)
class ReportOptions:
    """What ``plan`` and ``drift`` report, in which format, and where."""

    fmt: str = "text"
    output: Path | None = None
    base: str | None = None
    template: Path | None = None
    max_length: int = COMMENT_LIMIT
    json_report_path: Path | None = None
    no_color: bool = False
    commit: str | None = None
    """The commit the report was made from (default: ``$GITHUB_SHA``)."""
    run_url: str | None = None
    """The run that made it (default: built from ``$GITHUB_SERVER_URL``, ``$GITHUB_REPOSITORY``
    and ``$GITHUB_RUN_ID``)."""


def report_options(func: F) -> F:
    """The options plan and drift share for what they report and where, as ``report``."""

    @functools.wraps(func)
    def gathered(*args: Any, **kwargs: Any) -> Any:
        kwargs["report"] = ReportOptions(
            fmt=kwargs.pop("fmt"),
            output=kwargs.pop("output"),
            base=kwargs.pop("base"),
            template=kwargs.pop("template"),
            max_length=kwargs.pop("max_length"),
            json_report_path=kwargs.pop("json_report_path"),
            no_color=kwargs.pop("no_color"),
            commit=kwargs.pop("commit"),
            run_url=kwargs.pop("run_url"),
        )
        return func(*args, **kwargs)

    return _add(
        cast(F, gathered),
        [
            click.option(
                "--format",
                "fmt",
                type=click.Choice(["text", "json", "markdown"]),
                default="text",
                show_default=True,
                help="markdown: the pull-request report (jinja2 template).",
            ),
            click.option(
                "--output",
                type=click.Path(dir_okay=False, path_type=Path),
                help="Write the report to this file instead of stdout.",
            ),
            click.option(
                "--base",
                help="Git ref (or directory) of the base specs: split this branch's "
                "changes from drift already live.",
            ),
            click.option(
                "--template",
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                help="Your own jinja2 template for --format markdown.",
            ),
            click.option(
                "--max-length",
                type=click.IntRange(min=1000),
                default=COMMENT_LIMIT,
                show_default=True,
                help="Cut the Markdown report (by whole resources) to this many characters.",
            ),
            click.option(
                "--json-report",
                "json_report_path",
                type=click.Path(dir_okay=False, path_type=Path),
                help="Also write the full JSON report here (the Markdown says where it is).",
            ),
            click.option("--no-color", is_flag=True, help="Never colour the output."),
            click.option(
                "--commit",
                help="The commit the Markdown report's footer names (default: $GITHUB_SHA).",
            ),
            click.option(
                "--run-url",
                help="The run the Markdown report's footer links to (default: built from "
                "$GITHUB_SERVER_URL, $GITHUB_REPOSITORY and $GITHUB_RUN_ID).",
            ),
        ],
    )

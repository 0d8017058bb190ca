"""``reconciler init``: a thin command over :func:`reconciler.init.init_specs`."""

from __future__ import annotations

import re
from pathlib import Path

import click

from reconciler.cli_output import say
from reconciler.model import Kind
from reconciler.providers.capabilities import Capabilities
from reconciler.report.escape import inline


@click.command()
@click.argument("directory", type=click.Path(path_type=Path), default="specs", required=False)
@click.option(
    "--api", "dialect", default="reference", show_default=True, help="The API dialect to manage."
)
@click.option("--url", help="The platform's URL: written as the default target.")
@click.option(
    "--token-env",
    default="RECONCILER_TOKEN",
    show_default=True,
    help="The environment variable the token will be read from.",
)
@click.option("--force", is_flag=True, help="Overwrite starter files that exist.")
def init(directory: Path, dialect: str, url: str | None, token_env: str, force: bool) -> None:
    """Write a starter spec directory: reconciler.yaml, one example per kind, .gitignore.

    Files that exist are kept unless --force. Then: reconciler plan DIRECTORY.

    Example:

        reconciler init

        reconciler init specs --api tenants-v1 --url https://platform.example.com
    """
    from reconciler.errors import ConfigError
    from reconciler.init import init_specs
    from reconciler.providers import provider_class
    from reconciler.spec.models import URL_PATTERN

    try:
        capabilities = provider_class(dialect).capabilities
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--api") from None
    if url is not None and not re.fullmatch(URL_PATTERN, url):
        raise click.BadParameter(f"'{url}' is not an http(s) URL", param_hint="--url")
    started = init_specs(
        directory,
        dialect,
        {kind: support.fields for kind, support in capabilities.supports.items()},
        role=_operator_role(capabilities),
        url=url,
        token_env=token_env,
        force=force,
    )
    for path in started.written:
        say(f"wrote {inline(path)}")
    for path in started.kept:
        say(f"kept {inline(path)} (it exists; --force to overwrite)")
    say(f"Next: reconciler plan {inline(directory)}")


def _operator_role(capabilities: Capabilities) -> str | None:
    """The least of the dialect's operator roles, for the example operator."""
    support = capabilities.supports.get(Kind.OPERATOR)
    roles = support.choices.get("role") if support is not None else None
    return min(roles, key=lambda role: role == capabilities.admin_role) if roles else None

"""``reconciler sandbox serve``: the embedded sandbox as a server of its own.

A thin command over :func:`reconciler.sandbox.server.serve`; the sandbox is
imported only when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from reconciler.cli_output import say
from reconciler.report.escape import inline
from reconciler.targets import check_token


@click.group()
def sandbox() -> None:
    """Run the sandbox: a local HTTP server that emulates the documented APIs."""


@sandbox.command("serve")
@click.option(
    "--api", "dialect", default="reference", show_default=True, help="API dialect to serve."
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option(
    "--db",
    type=click.Path(path_type=Path),
    default=Path(".reconciler") / "sandbox-serve.sqlite",
    show_default=True,
    help="SQLite file holding the sandbox's state.",
)
@click.option(
    "--token",
    envvar="RECONCILER_TOKEN",
    help="Bearer token clients must send (default: $RECONCILER_TOKEN).",
)
@click.option(
    "--data",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML or JSON file of objects the API cannot create itself (see docs/apis/).",
)
@click.option(
    "--option",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="A dialect option (see `reconciler apis DIALECT`), serving the API the way a target "
    "configured with it expects; VALUE is YAML (null for none). Repeatable; overrides "
    "`options:` in --data.",
)
@click.option(
    "--fault-rate",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    show_default=True,
    help="Share of API requests that fail: 503 before the work, 500 after it, 429, "
    "or a dropped connection.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the fault sequence.")
@click.option(
    "--corrupt",
    type=click.Choice(["html", "truncated", "wrong-types", "repeat-page", "skip-page"]),
    help="Answer every read badly, to see the reconciler refuse to plan from it.",
)
@click.option(
    "--max-page",
    type=click.IntRange(min=1),
    help="Serve at most this many items per page, whatever the client asks for.",
)
@click.option("--latency-ms", type=click.IntRange(min=0), default=0, help="Delay every request.")
@click.option(
    "--tls-cert",
    type=click.Path(exists=True, dir_okay=False),
    help="Serve https with this certificate (PEM; with --tls-key).",
)
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False), help="Its private key.")
def sandbox_serve(
    dialect: str,
    host: str,
    port: int,
    db: Path,
    token: str | None,
    data: Path | None,
    options: tuple[str, ...],
    fault_rate: float,
    seed: int,
    latency_ms: int,
    tls_cert: str | None,
    tls_key: str | None,
    corrupt: str | None,
    max_page: int | None,
) -> None:
    """Serve one API dialect over HTTP, backed by SQLite, until interrupted.

    --fault-rate and --seed inject deterministic faults, to see the reconciler
    converge through them.

    Example:

        RECONCILER_TOKEN=dev reconciler sandbox serve --api reference --port 8080
    """
    from reconciler.sandbox.app import available_dialects
    from reconciler.sandbox.faults import FaultConfig
    from reconciler.sandbox.server import serve

    if dialect not in available_dialects():
        raise click.BadParameter(
            f"unknown dialect '{dialect}' (known: {', '.join(available_dialects())})",
            param_hint="--api",
        )
    if not token or not token.strip():
        raise click.UsageError(
            "give --token or set RECONCILER_TOKEN: the sandbox requires a bearer token"
        )
    token = check_token(token, "--token (or RECONCILER_TOKEN)")
    if bool(tls_cert) != bool(tls_key):
        raise click.UsageError("--tls-cert and --tls-key go together")
    seed_data = _read_seed(data) if data else None
    if options:
        seed_data = dict(seed_data or {})
        seed_data["options"] = {**(seed_data.get("options") or {}), **_options(dialect, options)}
    faults = FaultConfig(
        rate=fault_rate, seed=seed, latency_ms=latency_ms, corrupt=corrupt, max_page=max_page
    )
    db.parent.mkdir(parents=True, exist_ok=True)

    def announce(url: str) -> None:
        say(
            f"Serving the {dialect} API on {inline(url)} (state in {inline(db)}); Ctrl-C stops.",
            err=True,
        )

    try:
        serve(
            dialect=dialect,
            host=host,
            port=port,
            db_path=db,
            token=token,
            seed=seed_data,
            faults=faults,
            tls=(tls_cert, tls_key) if tls_cert and tls_key else None,
            announce=announce,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    except OSError as exc:  # the port: in use, or not ours to bind
        reason = exc.strerror or str(exc)
        raise click.UsageError(
            f"cannot listen on {host}:{port}: {reason} (another server may be using it; "
            "choose another --port)"
        ) from None


def _options(dialect: str, given: tuple[str, ...]) -> dict[str, Any]:
    """``--option KEY=VALUE`` pairs, each value read as YAML, checked against the dialect.

    A dotted key sets one option inside a section (``lists.tenants.items=tenants``);
    several such options of one section add up.
    """
    import yaml
    from pydantic import ValidationError

    from reconciler.options import parse

    found: dict[str, Any] = {}
    for pair in given:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"'{pair}' is not KEY=VALUE", param_hint="--option")
        value = yaml.safe_load(raw) if raw.strip() else None
        _put(found, [part.strip() for part in key.split(".")], value, pair)
    try:
        parse(dialect, found)
    except ValidationError as exc:
        shown = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise click.BadParameter(f"{dialect} options: {shown}", param_hint="--option") from None
    return found


def _put(into: dict[str, Any], keys: list[str], value: Any, pair: str) -> None:
    """``value`` at the dotted ``keys`` of ``into``, merging with what is there."""
    *parents, last = keys
    if not all(keys):
        raise click.BadParameter(f"'{pair}' has an empty key", param_hint="--option")
    for part in parents:
        nested = into.setdefault(part, {})
        if not isinstance(nested, dict):
            raise click.BadParameter(f"'{pair}': '{part}' is not a section", param_hint="--option")
        into = nested
    if isinstance(value, dict) and isinstance(into.get(last), dict):
        into[last] = {**into[last], **value}
    else:
        into[last] = value


def _read_seed(path: Path) -> dict[str, Any]:
    """Seed data: a mapping, in YAML (so JSON too)."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="--data") from None
    if not isinstance(data, dict):
        raise click.BadParameter(f"{path} must hold a mapping", param_hint="--data")
    return data

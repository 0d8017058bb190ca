"""The ``reconciler`` command: a thin click layer over :mod:`reconciler.core`.

Every command calls one library function; errors become messages and exit codes
in one place (:class:`ReconcilerGroup`), so a user error never shows a traceback.
Exit codes: 0 success, 1 error, 2 changes pending (``plan --detailed-exitcode``).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from reconciler import __version__, core, planfile
from reconciler.errors import ReconcilerError, SpecError, UnsupportedError
from reconciler.progress import ApplyProgress
from reconciler.report import json_report, markdown, text

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


class ReconcilerGroup(click.Group):
    """Turns every ReconcilerError into a message on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (SpecError, UnsupportedError) as exc:
            for problem in exc.problems:
                click.echo(f"error: {problem}", err=True)
            count = len(exc.problems)
            click.echo(
                f"{count} problem{'s' if count != 1 else ''} found; nothing was changed.", err=True
            )
            sys.exit(EXIT_ERROR)
        except ReconcilerError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_ERROR)


def stdin_is_terminal() -> bool:
    """Whether someone can answer a prompt (tests replace this to play the person)."""
    return sys.stdin.isatty()


def use_colour(no_colour: bool = False) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set (no-color.org)."""
    return not no_colour and "NO_COLOR" not in os.environ and sys.stdout.isatty()


def spec_argument(func: F) -> F:
    return click.argument("path", type=click.Path(path_type=Path), default="specs", required=False)(
        func
    )


def target_options(func: F) -> F:
    """``--target`` / ``--api`` / ``--url`` / ``--parallelism``, shared by plan and apply."""
    options = [
        click.option("--target", "-t", help="Target name from reconciler.yaml."),
        click.option(
            "--api",
            help="API dialect for a one-off target (with --url), or of the embedded sandbox.",
        ),
        click.option("--url", help="Base URL of a one-off target; token from $RECONCILER_TOKEN."),
        click.option(
            "--parallelism",
            type=click.IntRange(1, 256),
            help="How many changes run at once (default 4).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


class ClickHandler(logging.Handler):
    """Log records to stderr as it is at the moment of the record (what tests capture)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            click.echo(self.format(record), err=True)
        except Exception:
            self.handleError(record)


def tls_options(func: F) -> F:
    """``--ca-bundle`` / ``--insecure`` / ``--allow-http``: how to trust the target."""
    options = [
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
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _options(
    target: str | None,
    api: str | None,
    url: str | None,
    parallelism: int | None,
    tls: dict[str, Any] | None = None,
) -> core.TargetOptions:
    tls = tls or {}
    return core.TargetOptions(
        target=target,
        api=api,
        url=url,
        parallelism=parallelism,
        ca_bundle=tls.get("ca_bundle"),
        insecure=bool(tls.get("insecure")),
        allow_http=bool(tls.get("allow_http")),
    )


@click.group(cls=ReconcilerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
@click.option("-v", "--verbose", count=True, help="More logging on stderr (-vv for debug).")
def main(verbose: int) -> None:
    """Reconcile multi-tenant SaaS platforms with the YAML specs in a repository.

    Example:

        reconciler plan specs && reconciler apply specs
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, ClickHandler)]:
        root.removeHandler(handler)
    handler = ClickHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs full URLs at INFO; they hold no token, but keep them for -vv only.
    logging.getLogger("httpx").setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)


@main.command()
@spec_argument
@target_options
def validate(
    path: Path, target: str | None, api: str | None, url: str | None, parallelism: int | None
) -> None:
    """Check the specs and reconciler.yaml without calling any API.

    Every problem is reported with its file:line:column. With a target chosen,
    also checks that its API can do what the specs ask.

    Example:

        reconciler validate specs
    """
    chosen = api or url or target
    options = _options(target, api, url, parallelism) if chosen else None
    desired = core.validate(path, options)
    click.echo(f"{path}: {len(desired)} objects, all valid.")


def _announce(run_target: str) -> None:
    click.echo(f"Reading live state from {run_target} ...", err=True)


def report_options(func: F) -> F:
    """The options plan and drift share for what they report and where."""
    for option in reversed(
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
                default=markdown.COMMENT_LIMIT,
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
        ]
    ):
        func = option(func)
    return func


def _emit(report: str, output: Path | None) -> None:
    if output is None:
        click.echo(report, nl=not report.endswith("\n"))
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(report, encoding="utf-8")
        click.echo(f"Report written to {output}", err=True)


def _report(
    review: core.Review,
    *,
    title: str,
    fmt: str,
    output: Path | None,
    template: Path | None,
    max_length: int,
    json_report_path: Path | None,
    no_color: bool,
) -> None:
    """Render one review in the chosen format, to stdout or a file."""
    run = review.run
    document = json_report.review_dict(review, _target_dict(run))
    if json_report_path is not None:
        json_report_path.parent.mkdir(parents=True, exist_ok=True)
        json_report_path.write_text(json_report.dumps(document) + "\n", encoding="utf-8")
    if fmt == "json":
        _emit(json_report.dumps(document) + "\n", output)
    elif fmt == "markdown":
        hint = (
            f"`{json_report_path.name}`"
            if json_report_path
            else "the JSON report (`--format json`)"
        )
        built = markdown.build_report(
            title=title,
            target=run.target.describe(),
            target_name=run.target.name,
            specs=review.spec_path,
            plan=run.plan,
            pr_changes=review.pr_changes,
            drift=review.drift if review.pr_changes is not None else None,
            reverted=review.reverted,
            base=review.base_label,
            full_report_hint=hint,
            template=template,
            calls=(
                text.render_calls(run.preview.calls, run.preview.unknown)
                if run.preview is not None
                else None
            ),
        )
        _emit(built.render(max_length), output)
    else:
        rendered = text.render_plan(run.plan, run.target.describe(), use_colour(no_color))
        guards = text.render_guards(run.mass_changes, run.lockout)
        if guards:
            rendered += "\n\n" + guards
        if run.preview is not None:
            rendered += "\n\n" + text.render_calls(run.preview.calls, run.preview.unknown)
        if review.pr_changes is not None:
            rendered += "\n\n" + text.render_review(
                review.pr_changes, review.drift, review.reverted
            )
        _emit(rendered + "\n", output)


@main.command()
@tls_options
@spec_argument
@target_options
@report_options
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 0 with no changes, 2 with changes, 1 on error."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the plan (changes + fingerprints of what was read) for `reconciler apply FILE`.",
)
@click.option(
    "--show-calls",
    is_flag=True,
    help="Also list the exact HTTP writes apply would send (sensitive values masked).",
)
def plan(
    path: Path,
    target: str | None,
    api: str | None,
    url: str | None,
    parallelism: int | None,
    fmt: str,
    output: Path | None,
    base: str | None,
    template: Path | None,
    max_length: int,
    json_report_path: Path | None,
    no_color: bool,
    detailed_exitcode: bool,
    out: Path | None,
    show_calls: bool,
    **tls: Any,
) -> None:
    """Show what apply would change, without changing anything.

    With --out, save the plan: `reconciler apply FILE` then applies exactly it,
    and refuses if the live state moved since. With --base, the report splits
    what this branch changes from drift already on the platform.

    Example:

        reconciler plan specs --out plan.json --format markdown --base origin/main
    """
    review = core.review(
        path, _options(target, api, url, parallelism, tls), base=base, show_calls=show_calls
    )
    _report(
        review,
        title="reconciler plan",
        fmt=fmt,
        output=output,
        template=template,
        max_length=max_length,
        json_report_path=json_report_path,
        no_color=no_color,
    )
    if out is not None:
        core.save_plan(review.run, out, path)
        click.echo(f"Plan saved to {out}; apply it with: reconciler apply {out}", err=True)
    if detailed_exitcode and review.run.plan.has_changes:
        sys.exit(EXIT_CHANGES)


@main.command()
@tls_options
@spec_argument
@target_options
@report_options
def drift(
    path: Path,
    target: str | None,
    api: str | None,
    url: str | None,
    parallelism: int | None,
    fmt: str,
    output: Path | None,
    base: str | None,
    template: Path | None,
    max_length: int,
    json_report_path: Path | None,
    no_color: bool,
    **tls: Any,
) -> None:
    """Compare the live platform with the specs; exit 2 when they differ.

    Exit codes: 0 no drift, 2 drift, 1 error. Run it on a schedule to notice
    changes made by hand.

    Example:

        reconciler drift specs --format markdown --output drift.md
    """
    review = core.review(path, _options(target, api, url, parallelism, tls), base=base)
    _report(
        review,
        title="reconciler drift report",
        fmt=fmt,
        output=output,
        template=template,
        max_length=max_length,
        json_report_path=json_report_path,
        no_color=no_color,
    )
    if review.run.plan.has_changes:
        sys.exit(EXIT_CHANGES)


@main.command()
@tls_options
@spec_argument
@target_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "dot"]),
    default="mermaid",
    show_default=True,
)
def graph(
    path: Path,
    target: str | None,
    api: str | None,
    url: str | None,
    parallelism: int | None,
    fmt: str,
    **tls: Any,
) -> None:
    """Draw the pending changes in dependency order (mermaid or Graphviz dot).

    An arrow A --> B means B waits for A.

    Example:

        reconciler graph specs --format dot | dot -Tsvg > changes.svg
    """
    from reconciler.report import graph as graphs

    run = core.plan(path, _options(target, api, url, parallelism, tls))
    click.echo(graphs.mermaid(run.plan) if fmt == "mermaid" else graphs.dot(run.plan))


def _target_dict(run: core.PlanRun) -> dict[str, Any]:
    t = run.target
    return {"name": t.name, "api": t.dialect, "url": t.url, "embedded": t.embedded}


@main.command()
@tls_options
@spec_argument
@target_options
@click.option("--auto-approve", is_flag=True, help="Apply without asking (for CI).")
@click.option(
    "--allow-mass-changes",
    is_flag=True,
    help="Apply even when removals exceed the guard's limits (see reconciler.yaml 'guards').",
)
@click.option("--no-color", is_flag=True, help="Never colour the output.")
def apply(
    path: Path,
    target: str | None,
    api: str | None,
    url: str | None,
    parallelism: int | None,
    auto_approve: bool,
    allow_mass_changes: bool,
    no_color: bool,
    **tls: Any,
) -> None:
    """Apply the specs (or a saved plan) to the target: show, confirm, apply, verify.

    On a terminal it asks before changing anything; in CI pass --auto-approve.
    Without a terminal and without --auto-approve it refuses rather than waits.
    PATH may be a plan saved by `plan --out`: exactly that plan is applied, and
    nothing at all if the live state changed since it was made.

    Example:

        reconciler apply specs --auto-approve
        reconciler apply plan.json --auto-approve
    """
    colour = use_colour(no_color)
    interactive = stdin_is_terminal()
    progress = ApplyProgress(live=None if not no_color else False)

    def approve(run: core.PlanRun) -> bool:
        click.echo(text.render_plan(run.plan, run.target.describe(), colour))
        if not auto_approve:
            if not interactive:
                raise click.UsageError(
                    "no terminal to confirm on; review the plan and re-run with --auto-approve"
                )
            if not click.confirm("\nApply these changes?", default=False):
                return False
        progress.start(len(run.plan.changes))
        return True

    try:
        if planfile.is_plan_file(path):
            if target or api or url:
                raise click.UsageError(
                    "a saved plan names its own target; drop --target/--api/--url"
                )
            run = core.apply_saved(
                path,
                approve=approve,
                on_event=progress,
                allow_mass_changes=allow_mass_changes,
                tls=_options(None, None, None, None, tls),
            )
        else:
            run = core.apply(
                path,
                _options(target, api, url, parallelism, tls),
                approve=approve,
                on_event=progress,
                allow_mass_changes=allow_mass_changes,
            )
    except click.UsageError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(EXIT_ERROR)
    finally:
        progress.stop()
    if run.result is None:
        if not run.approved:
            click.echo("Apply cancelled; nothing was changed.")
        else:
            click.echo(text.render_plan(run.planned.plan, run.planned.target.describe(), colour))
            click.echo("Nothing to apply.")
        return
    click.echo(text.render_apply(run.result, run.converged, run.remaining))
    if not run.ok:
        sys.exit(EXIT_ERROR)


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@target_options
@tls_options
@click.option(
    "--layout",
    type=click.Choice(["kind", "tenant"]),
    default="kind",
    show_default=True,
    help="One file per kind, or one file per tenant (with its flags and roles).",
)
@click.option("--force", is_flag=True, help="Overwrite spec files that exist.")
@click.option(
    "--config",
    "config_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Spec directory whose reconciler.yaml names the targets (default: OUT_DIR).",
)
def export(
    out_dir: Path,
    target: str | None,
    api: str | None,
    url: str | None,
    parallelism: int | None,
    layout: str,
    force: bool,
    config_dir: Path | None,
    **tls: Any,
) -> None:
    """Write YAML specs from a target's live state, to adopt an existing platform.

    A plan of the exported specs right after shows no changes. Nothing is
    pruned until you choose a policy in the written reconciler.yaml.

    Example:

        reconciler export specs --api reference --url https://platform.example.com
    """
    from reconciler import export as exporting
    from reconciler.spec.config import load_config

    config = load_config(config_dir or out_dir) if (config_dir or out_dir).is_dir() else None
    resolved = core.resolve_for_export(config, _options(target, api, url, parallelism, tls))
    written = exporting.export(
        resolved, out_dir, "tenant" if layout == "tenant" else "kind", force=force
    )
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(
        f"Exported {resolved.describe()} into {out_dir}; check with: reconciler plan {out_dir}"
    )


@main.command()
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the schema to this file instead of stdout.",
)
def schema(output: Path | None) -> None:
    """Print the JSON Schema of spec documents, for completion and checks in editors.

    Point the YAML language server at it with a first line such as
    `# yaml-language-server: $schema=docs/schema/spec.schema.json`.

    Example:

        reconciler schema --output docs/schema/spec.schema.json
    """
    from reconciler.spec import spec_json_schema

    text = json_report.dumps(spec_json_schema()) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        click.echo(f"Schema written to {output}", err=True)


@main.command()
@click.argument("dialect", required=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
def apis(dialect: str | None, fmt: str) -> None:
    """List the API dialects and what each can manage (kinds x operations).

    With a DIALECT, show its settable fields, accepted values and notes.

    Example:

        reconciler apis
        reconciler apis tenants-v1
    """
    from reconciler.providers import provider_class
    from reconciler.report import support

    if dialect is not None:
        provider_class(dialect)  # a ConfigError naming the known dialects
        if fmt == "json":
            click.echo(json_report.dumps(support.details(dialect)))
        else:
            click.echo(support.render_details_text(dialect))
        return
    if fmt == "json":
        click.echo(json_report.dumps(support.matrix()))
    elif fmt == "markdown":
        click.echo(support.render_markdown())
    else:
        click.echo(support.render_text())


@main.group()
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
    if not token:
        raise click.UsageError(
            "give --token or set RECONCILER_TOKEN: the sandbox requires a bearer token"
        )
    if bool(tls_cert) != bool(tls_key):
        raise click.UsageError("--tls-cert and --tls-key go together")
    seed_data = _read_seed(data) if data else None
    faults = FaultConfig(
        rate=fault_rate, seed=seed, latency_ms=latency_ms, corrupt=corrupt, max_page=max_page
    )
    db.parent.mkdir(parents=True, exist_ok=True)
    click.echo(
        f"Serving the {dialect} API on http://{host}:{port} (state in {db}); Ctrl-C stops.",
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
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


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


from reconciler.cli_github import comment, drift_issue  # noqa: E402

main.add_command(comment)
main.add_command(drift_issue)

"""The ``reconciler`` command: a thin click layer over :mod:`reconciler.core`.

Every command calls one library function; errors become messages and exit codes
in one place (:class:`~reconciler.cli_group.ReconcilerGroup`), so a user error
never shows a traceback.
Exit codes: 0 success, 1 every error (usage errors and a declined prompt too),
2 changes pending (``plan --detailed-exitcode``) or drift, and nothing else.

Everything printed goes through :func:`say` (:mod:`reconciler.cli_output`):
secrets redacted, and no line a CI runner would take as a workflow command.
Shared options are gathered into one value each (:mod:`reconciler.cli_options`);
``plan`` and ``drift`` reports are assembled in :mod:`reconciler.cli_report`;
``sandbox`` and the GitHub commands live in ``cli_sandbox`` and ``cli_github``.

This module is the entry point: the ``main`` group, which commands it has and in
what order, and ``export``, ``schema`` and ``apis``. ``validate``, ``plan``,
``drift`` and ``graph`` are in ``cli_plan``, ``apply`` in ``cli_apply``, and the
group's machinery (errors, exit codes, lazy commands) in ``cli_group``.

Importing this module stays light (issue 15, "CLI import time"): ``--version``
and ``--help`` run before any command, so :mod:`reconciler.core` (and with it
pydantic, httpx, the engine) is imported inside the commands that call it.
``tests/test_import_time.py`` keeps it so.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import click


def _without_httpx_cli() -> None:
    """Keep httpx's own command-line client out: ``import httpx`` imports it, and with it
    rich's console, progress and syntax and pygments' lexers (~50 ms a run), which
    reconciler never uses. A stand-in takes its place unless httpx was imported already."""
    if "httpx" in sys.modules:
        return
    stand_in = ModuleType("httpx._main", "Not loaded by reconciler: run the httpx command.")

    def main(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("httpx's command-line client is not loaded in reconciler's process")

    stand_in.main = main  # type: ignore[attr-defined]
    sys.modules.setdefault("httpx._main", stand_in)


_without_httpx_cli()

from reconciler import __version__, redact  # noqa: E402  (after the stand-in)
from reconciler.cli_apply import apply  # noqa: E402
from reconciler.cli_apply import stdin_is_terminal as stdin_is_terminal  # noqa: E402
from reconciler.cli_group import ReconcilerGroup  # noqa: E402
from reconciler.cli_options import no_parallelism, target_options, tls_options  # noqa: E402
from reconciler.cli_output import ClickHandler, say, setup_logging  # noqa: E402
from reconciler.cli_output import use_colour as use_colour  # noqa: E402
from reconciler.cli_plan import drift, graph, plan, validate  # noqa: E402
from reconciler.report.escape import inline  # noqa: E402

if TYPE_CHECKING:
    from reconciler.targets import TargetChoice

__all__ = ["ClickHandler", "main", "say", "stdin_is_terminal", "use_colour"]


@click.group(cls=ReconcilerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
@click.option("-v", "--verbose", count=True, help="More logging on stderr (-vv for debug).")
def main(verbose: int) -> None:
    """Reconcile multi-tenant SaaS platforms with the YAML specs in a repository.

    Example:

        reconciler plan specs && reconciler apply specs
    """
    redact.forget_all()  # one run, one set of secrets: each is registered where it is read
    setup_logging(verbose)


for _command in (validate, plan, drift, graph, apply):
    main.add_command(_command)


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@no_parallelism
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
    choice: TargetChoice,
    layout: str,
    force: bool,
    config_dir: Path | None,
) -> None:
    """Write YAML specs from a target's live state, to adopt an existing platform.

    A plan of the exported specs right after shows no changes. Nothing is
    pruned until you choose a policy in the written reconciler.yaml.

    Example:

        reconciler export specs --api reference --url https://platform.example.com
    """
    from reconciler import core
    from reconciler import export as exporting
    from reconciler.spec.config import load_config

    config = load_config(config_dir or out_dir) if (config_dir or out_dir).is_dir() else None
    resolved = core.resolve_for_export(config, choice)
    written = exporting.export(
        resolved, out_dir, "tenant" if layout == "tenant" else "kind", force=force
    )
    for path in written.written:
        say(f"wrote {inline(path)}")
    for left in written.left_out:
        say(f"warning: {inline(left)}", err=True)
    where = inline(out_dir)
    say(f"Exported {inline(resolved.describe())} into {where}; check with: reconciler plan {where}")


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
    from reconciler.report import json_report
    from reconciler.spec import spec_json_schema

    text = json_report.dumps(spec_json_schema()) + "\n"
    if output is None:
        say(text, nl=False, json=True)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        say(f"Schema written to {inline(output)}", err=True)


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
    """List the API dialects, where each comes from and what it can manage (kinds x operations).

    Built-in dialects first, then those installed from other distributions
    (entry-point group reconciler.dialects), each with its source. An installed
    one that cannot be loaded is left out with a warning. With a DIALECT, show
    its source, settable fields, accepted values, notes and options. The
    Markdown is docs/apis/README.md exactly: the built-in dialects only.

    Example:

        reconciler apis
        reconciler apis tenants-v1
        reconciler apis --format markdown > docs/apis/README.md
    """
    from reconciler import dialects as registry
    from reconciler.report import json_report, support

    if dialect is not None:
        info = _described(dialect)
        if fmt == "json":
            say(json_report.dumps(info), json=True)
        else:
            say(support.render_details_text(info))
        return
    if fmt == "markdown":  # the docs page: the same on every machine
        say(support.render_readme([_described(line.name) for line in registry.REGISTRY]))
        return
    infos = []
    for line in registry.entries():
        try:
            infos.append(_described(line.name))
        except Exception as exc:  # an installed dialect's bug must not hide the others
            if line.built_in:
                raise
            reason = f"its provider could not be loaded ({type(exc).__name__}: {exc})"
            problem = registry.PluginProblem(line.source, line.name, reason)
            say(f"warning: {inline(str(problem))}", err=True)
    if fmt == "json":
        say(json_report.dumps(support.matrix_json(infos)), json=True)
    else:
        say(support.render_text(infos))


def _described(name: str) -> dict[str, Any]:
    """What dialect ``name`` declares, with its source and documentation (``reconciler apis``).

    A name no dialect has is the providers' ConfigError naming the known ones.
    """
    from reconciler import dialects as registry
    from reconciler.providers import describe

    info = describe(name)
    line = registry.entry(name)
    assert line is not None  # describe found it
    return {**info, "source": line.source, "page": line.page}


def _lazy(name: str) -> click.Command:
    """The command ``name`` of a module imported only when one of its commands is used."""
    if name in ("comment", "drift-issue", "github"):
        from reconciler.cli_github import comment, drift_issue, github

        return {"comment": comment, "drift-issue": drift_issue, "github": github}[name]
    if name == "sandbox":
        from reconciler.cli_sandbox import sandbox

        return sandbox
    if name == "init":
        from reconciler.cli_init import init

        return init
    from reconciler.cli_probe import probe

    return probe


LAZY_SUMMARIES = {
    "comment": "Post REPORT_FILE as the one sticky reconciler comment on a pull request.",
    "drift-issue": "Keep one GitHub issue open while the live platform drifts from the specs.",
    "github": "The steps of reconciler's GitHub workflow (action.yml runs them).",
    "sandbox": "Run the sandbox: a local HTTP server that emulates the documented APIs.",
    "init": "Write a starter spec directory: reconciler.yaml, one example per kind, .gitignore.",
    "probe": "Check, reading only, that the target's API answers as its dialect and options say.",
}
"""The first paragraph of each lazy command's help, listed by ``--help`` without importing
the command (``tests/test_import_time.py`` checks each against the command's own)."""

for _name, _summary in LAZY_SUMMARIES.items():
    main.lazy_command(_name, functools.partial(_lazy, _name), _summary)

"""``reconciler probe``: a thin command over :func:`reconciler.probe.probe`.

It prints the findings (text or JSON) through :func:`~reconciler.cli_output.say`
and exits 1 when something does not fit, as a failed check does (not 2: that
is "changes pending").
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import yaml

from reconciler import core, redact
from reconciler.cli_options import spec_argument, target_options, tls_options
from reconciler.cli_output import say
from reconciler.probe import ProbeResult
from reconciler.probe import probe as run_probe
from reconciler.report.escape import inline

EXIT_MISFIT = 1
MARKS = {"ok": "✓", "misfit": "✗", "unchecked": "-"}


@click.command()
@tls_options
@spec_argument
@target_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
def probe(path: Path, choice: core.TargetChoice, fmt: str) -> None:
    """Check, reading only, that the target's API answers as its dialect and options say.

    Reads a page of each listing the dialect uses (GET requests only; nothing
    is written) and checks where the items and the total are, the paging, that
    every item decodes, and where error messages are. What does not fit is
    shown with the option that fixes it, as YAML to paste under the target's
    `api.options`. Exits 0 when everything fits, 1 when something does not
    (or on an error).

    Example:

        reconciler probe specs --target production
    """
    result = run_probe(path, choice)
    if fmt == "json":
        document = redact.scrub(result.as_data())
        say(json.dumps(document, indent=2, ensure_ascii=True), json=True)
    else:
        say(render(result))
    if not result.fits:
        sys.exit(EXIT_MISFIT)


def render(result: ProbeResult) -> str:
    """The findings as text: one line each, then the options to set as YAML."""
    lines = [f"Probing {inline(result.target)} (read-only: GET requests only)", ""]
    for finding in result.findings:
        fixes = ", ".join(f"`{fix}`" for fix in finding.fixes)
        told = f": set {fixes}" if fixes else ""
        mark = MARKS[finding.status]
        lines.append(inline(f"{mark} {finding.listing}: {finding.message}{told}"))
    suggested = result.suggested()
    if suggested:
        where = (
            f"targets.{result.name}.api.options in reconciler.yaml"
            if result.configured
            else "the target's api.options in reconciler.yaml"
        )
        lines += ["", f"Options to set, under {inline(where)}:"]
        dumped = yaml.safe_dump(suggested, sort_keys=False, default_flow_style=False)
        lines += [inline(f"  {line}") for line in dumped.splitlines()]
    counts = {s: sum(f.status == s for f in result.findings) for s in MARKS}
    lines += [
        "",
        f"{counts['ok']} fit, {counts['misfit']} do not fit, {counts['unchecked']} not checked.",
    ]
    return "\n".join(lines)

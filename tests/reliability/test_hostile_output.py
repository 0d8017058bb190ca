"""Output cannot be forged: a name from the live platform is shown escaped, on its own line.

Hostile names (a newline and a fake plan line, a GitHub Actions workflow
command, bidi overrides, zero-width characters, NUL) are created on a real
sandbox by hand, as someone else's script could, then planned, reported and
applied through the CLI. Every printed line must be one line of the plan, and
no line may start (after whitespace) with ``::`` or carry ``##[``.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import ClickHandler, say
from reconciler.report import escape
from reconciler.report.escape import INVISIBLE, inline, md, workflow_safe
from reconciler.report.values import show
from tests.integration.helpers import api, copy_specs, run_cli, target_args

FORGED = "x\n  - Plan prod will be deleted"
COMMAND = "x\n::error::pwned"
RTL = "invoice\u202egnp.exe"
ZERO_WIDTH = "sso\u200b"
NUL = "nul\x00byte"
HOSTILE = [FORGED, COMMAND, RTL, ZERO_WIDTH, NUL]


def hostile_sandbox(sandbox: Any, specs: Path) -> None:
    """Plans and tenants named by ``HOSTILE`` made on the live platform by hand; the
    specs suspend tenants they do not name, so the hostile ones are changes too."""
    with api(sandbox) as client:
        for name in HOSTILE:
            for collection in ("/plans", "/tenants"):
                answer = client.post(collection, json={"name": name, "display_name": name})
                assert answer.status_code == 201, answer.text
    (specs / "reconciler.yaml").write_text(
        "apiVersion: reconciler.dev/v1\nprune:\n  Tenant: suspend\n", encoding="utf-8"
    )


def command_lines(text: str) -> list[str]:
    """Lines a CI runner would read as a command."""
    lines = re.split(r"\r\n|[\n\r]", text)
    return [line for line in lines if line.lstrip().startswith("::") or "##[" in line]


def forged_lines(text: str) -> list[str]:
    """Lines that are the payload of a hostile name rather than part of the plan."""
    return [
        line
        for line in re.split(r"\r\n|[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]", text)
        if line.lstrip().startswith(("- Plan prod", "::error", "byte", "gnp.exe"))
    ]


def invisible(text: str) -> list[str]:
    """The control, format and separator characters left in ``text`` (newlines apart, and
    the zero-width space the Markdown escaping itself puts after ``@`` and ``#``)."""
    text = re.sub("([@#])\u200b", r"\1", text)
    return sorted({ch for ch in text if ch != "\n" and INVISIBLE.match(ch)})


def test_hostile_live_names_are_shown_escaped_in_every_format(sandbox: Any, tmp_path: Path) -> None:
    specs = copy_specs(tmp_path)
    hostile_sandbox(sandbox, specs)
    target = target_args(sandbox)

    text = run_cli(["plan", str(specs), *target], sandbox.token)
    assert text.exit_code == 0, text.output
    assert "x\\n  - Plan prod will be deleted" in text.stdout
    assert "x\\n::error::pwned" in text.stdout
    assert "invoice\\u202egnp.exe" in text.stdout
    assert "sso\\u200b" in text.stdout
    assert "nul\\x00byte" in text.stdout

    report = tmp_path / "report.md"
    markdown = run_cli(
        ["plan", str(specs), *target, "--format", "markdown", "--output", str(report)],
        sandbox.token,
    )
    assert markdown.exit_code == 0, markdown.output
    drift = run_cli(["drift", str(specs), *target, "--format", "markdown"], sandbox.token)
    assert drift.exit_code == 2, drift.output
    graph = run_cli(["graph", str(specs), *target], sandbox.token)
    assert graph.exit_code == 0, graph.output

    outputs = {
        "text": text.stdout + text.stderr,
        "markdown file": report.read_text(encoding="utf-8"),
        "markdown stdout": drift.stdout + drift.stderr,
        "graph": graph.stdout,
    }
    for name, output in outputs.items():
        assert not forged_lines(output), (name, forged_lines(output))
        assert not command_lines(output), (name, command_lines(output))
        assert invisible(output) == [], name
    # the Markdown shows the names too, escaped for Markdown on top
    assert "<code>! Tenant/x\\n  - Plan prod will be deleted will be" in outputs["markdown file"]
    assert "Tenant/x#92;n::error::pwned" in outputs["markdown file"]  # the mermaid label

    # the JSON report keeps the exact names: JSON escapes them itself
    as_json = run_cli(["plan", str(specs), *target, "--format", "json"], sandbox.token)
    document = json.loads(as_json.stdout)
    assert {f"Tenant/{n}" for n in HOSTILE} <= {c["id"] for c in document["changes"]}
    assert not forged_lines(as_json.stdout) and not command_lines(as_json.stdout)


def test_apply_progress_and_results_keep_hostile_names_on_one_line(
    sandbox: Any, tmp_path: Path
) -> None:
    specs = copy_specs(tmp_path)
    hostile_sandbox(sandbox, specs)
    result = run_cli(["apply", str(specs), *target_args(sandbox), "--auto-approve"], sandbox.token)
    everything = result.stdout + result.stderr
    assert not forged_lines(everything), forged_lines(everything)
    assert not command_lines(everything), command_lines(everything)
    assert invisible(everything) == []
    progress = [line for line in result.stderr.splitlines() if line.startswith("[")]
    assert any("x\\n::error::pwned" in line for line in progress), result.stderr
    assert any("x\\n  - Plan prod will be deleted" in line for line in progress), result.stderr


def test_a_live_workflow_command_never_starts_a_line(sandbox: Any, tmp_path: Path) -> None:
    """``x\\n::error::pwned`` as a tenant name and display name, in every command's output."""
    specs = copy_specs(tmp_path)
    target = target_args(sandbox)
    assert run_cli(["apply", str(specs), *target, "--auto-approve"], sandbox.token).exit_code == 0
    (specs / "reconciler.yaml").write_text(
        "apiVersion: reconciler.dev/v1\nprune:\n  Tenant: suspend\n", encoding="utf-8"
    )
    with api(sandbox) as client:
        tenants = client.get("/tenants").json()["items"]
        acme = next(t for t in tenants if t["name"] == "acme")
        shown = "##[error]" + COMMAND
        patched = client.patch(f"/tenants/{acme['id']}", json={"display_name": shown})
        assert patched.status_code == 200, patched.text
        created = client.post("/tenants", json={"name": COMMAND, "display_name": "##[error]x"})
        assert created.status_code == 201, created.text
    # JSON on stdout stays JSON that decodes to the exact values, with no command in it
    as_json = run_cli(["plan", str(specs), *target, "--format", "json"], sandbox.token)
    assert not command_lines(as_json.stdout)
    changes = {c["id"]: c for c in json.loads(as_json.stdout)["changes"]}
    assert f"Tenant/{COMMAND}" in changes
    updated = changes["Tenant/acme"]
    assert {f["path"]: f["old"] for f in updated["fields"]}["displayName"] == shown
    runs = [
        ["plan", str(specs), *target],
        ["plan", str(specs), *target, "--format", "markdown"],
        ["plan", str(specs), *target, "--show-calls"],
        ["drift", str(specs), *target],
        ["graph", str(specs), *target, "--format", "dot"],
        ["-vv", "apply", str(specs), *target, "--auto-approve"],
    ]
    for args in runs:
        result = run_cli(args, sandbox.token)
        everything = result.stdout + result.stderr
        assert result.exit_code in (0, 2), (args, everything)
        assert not command_lines(everything), (args, command_lines(everything))
        assert "::error::pwned" in everything, args  # shown, escaped, not dropped


# ---- the functions themselves -------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\nb", "a\\nb"),
        ("a\r\nb", "a\\r\\nb"),
        ("tab\there", "tab\\there"),
        ("nul\x00", "nul\\x00"),
        ("esc\x1b[31m", "esc\\x1b[31m"),
        ("del\x7f", "del\\x7f"),
        ("nel\x85", "nel\\x85"),
        ("csi\x9b", "csi\\x9b"),
        ("rtl\u202eevil", "rtl\\u202eevil"),
        ("isolate\u2066x\u2069", "isolate\\u2066x\\u2069"),
        ("lrm\u200e", "lrm\\u200e"),
        ("zw\u200bsp", "zw\\u200bsp"),
        ("zwj\u200d", "zwj\\u200d"),
        ("bom\ufeff", "bom\\ufeff"),
        ("line\u2028sep", "line\\u2028sep"),
        ("tag\U000e0041", "tag\\U000e0041"),
        ("soft\u00adhyphen", "soft\\xadhyphen"),
        ("plain ünïcödé, 名前 and emoji 🙂", "plain ünïcödé, 名前 and emoji 🙂"),
    ],
)
def test_inline_makes_every_invisible_character_visible(raw: str, shown: str) -> None:
    assert inline(raw) == shown
    assert "\n" not in md(raw) and "\r" not in md(raw)


def test_inline_covers_every_control_format_and_separator_character() -> None:
    """Whatever Unicode version this Python has: Cc, Cf, Zl, Zp and surrogates are escaped."""
    missed = [
        f"U+{code:04X}"
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) in {"Cc", "Cf", "Zl", "Zp", "Cs"}
        and not INVISIBLE.match(chr(code))
    ]
    assert missed == []


def test_values_and_labels_are_one_line() -> None:
    assert show(FORGED) == '"x\\n  - Plan prod will be deleted"'  # JSON's own escape
    assert show("a\u202eb\x7f") == '"a\\u202eb\\x7f"'  # what JSON leaves raw
    assert "\n" not in escape.mermaid_label(COMMAND) and "\n" not in escape.dot_label(COMMAND)
    assert "\n" not in escape.html_text(COMMAND)
    assert "\n" not in escape.comment_value(COMMAND)


def test_workflow_safe_defuses_commands_on_every_line() -> None:
    text = "plan\n::error::a\n   ::warning::b\r::add-mask::c\nok :: not a command\nsee ##[error]d"
    safe = workflow_safe(text)
    assert command_lines(safe) == []
    assert safe.splitlines()[0] == "plan"
    assert "\\::error::a" in safe and "   \\::warning::b" in safe
    assert "ok :: not a command" in safe
    assert "##\\[error]d" in safe
    assert workflow_safe("nothing to do") == "nothing to do"
    document = json.dumps({"name": "##[error]x", "list": ["::error::y"]}, indent=2)
    assert command_lines(workflow_safe(document, json=True)) == []
    assert json.loads(workflow_safe(document, json=True)) == json.loads(document)


def test_say_and_the_log_handler_print_no_command(capsys: pytest.CaptureFixture[str]) -> None:
    say("::error::from a report\n  ::set-output name=x::y")
    handler = ClickHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    record = logging.LogRecord(
        "reconciler", logging.WARNING, __file__, 1, "tenant %s", (COMMAND,), None
    )
    handler.emit(record)
    captured = capsys.readouterr()
    assert command_lines(captured.out) == [] and command_lines(captured.err) == []
    assert captured.err == "WARNING reconciler: tenant x\\n::error::pwned\n"

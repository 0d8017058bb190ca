"""The token never shows: not in output, debug logs, plan files, reports or the journal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler import redact
from reconciler.cli import main
from reconciler.errors import ApiError, TransportError
from reconciler.journal import read as read_journal
from reconciler.sandbox.server import BackgroundServer
from tests.integration.helpers import copy_specs, requests, run_cli, target_args


def test_no_command_leaks_the_token(sandbox: Any, tmp_path: Path) -> None:
    specs = copy_specs(tmp_path)
    target = target_args(sandbox)
    out = tmp_path / "out"
    out.mkdir()
    commands = [
        ["validate", str(specs), *target],
        ["plan", str(specs), *target, "--show-calls", "--out", str(out / "plan.json")],
        ["plan", str(specs), *target, "--format", "json", "--show-calls"],
        [
            "plan",
            str(specs),
            *target,
            "--format",
            "markdown",
            "--output",
            str(out / "r.md"),
            "--json-report",
            str(out / "r.json"),
        ],
        ["graph", str(specs), *target],
        ["apply", str(out / "plan.json"), "--auto-approve"],
        ["drift", str(specs), *target, "--format", "markdown"],
        ["apis"],
        # errors: a refused call and an unreachable target
        ["plan", str(specs), "--api", "reference", "--url", sandbox.url + "/nope"],
        ["plan", str(specs), "--api", "reference", "--url", "http://127.0.0.1:9"],
    ]
    seen = []
    for args in commands:
        result = run_cli(["-vv", *args], sandbox.token)
        seen.append(" ".join(args) + "\n" + result.stdout + result.stderr)
        assert result.exception is None or isinstance(result.exception, SystemExit), args
    files = [p.read_text() for p in out.iterdir()]
    journal = Path(str(tmp_path / "journal.jsonl"))
    files.append(journal.read_text() if journal.exists() else "")
    everything = "\n".join(seen + files)
    assert "Authorization" not in everything or "Bearer " + sandbox.token not in everything
    assert sandbox.token not in everything
    assert "DEBUG" in everything  # -vv really logged at debug level


def test_a_wrong_token_error_names_the_call_not_the_token(sandbox: Any, tmp_path: Path) -> None:
    wrong = "wrong-token-SECRET-999"
    result = run_cli(["plan", str(copy_specs(tmp_path)), *target_args(sandbox)], wrong)
    assert result.exit_code == 1
    assert "GET /api/v1/operator/" in result.stderr and "401" in result.stderr
    assert wrong not in result.output


# ---- the token is checked as it is read ---------------------------------------


def test_a_token_with_a_trailing_newline_works_with_a_warning(sandbox: Any, tmp_path: Path) -> None:
    """As read from a file (``$(cat token.txt)`` keeps no newline, but many loaders do)."""
    result = run_cli(
        ["plan", str(copy_specs(tmp_path)), *target_args(sandbox)], sandbox.token + "\n"
    )
    assert result.exit_code == 0, result.output
    assert "RECONCILER_TOKEN: whitespace before or after the token was removed" in result.stderr
    assert sandbox.token not in result.stdout + result.stderr
    assert "Plan:" in result.stdout


@pytest.mark.parametrize(
    ("token", "what"),
    [
        ("tökén-SECRET-999", "character 2 of 16 is a non-ASCII character"),
        ("abc-SECRET\n999", "character 11 of 14 is a control character"),
        ("Bearer abc-SECRET-999", "is a space"),
        ("abc-SECRET\u202e999", "is a non-ASCII character"),
    ],
)
def test_a_bad_token_is_one_line_naming_the_variable_never_the_value(
    sandbox: Any, tmp_path: Path, token: str, what: str
) -> None:
    specs = copy_specs(tmp_path)
    checked = run_cli(["-vv", "validate", str(specs), *target_args(sandbox)], token)
    assert checked.exit_code == 0, checked.output  # validate reads no token (issue 14)
    assert "SECRET" not in checked.output
    for args in (
        ["plan", str(specs), *target_args(sandbox)],
        ["-vv", "plan", str(specs), *target_args(sandbox)],
    ):
        result = run_cli(args, token)
        assert result.exit_code == 1, result.output
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("error: the environment variable RECONCILER_TOKEN holds a token")
        assert what in lines[0]
        assert "Traceback" not in result.output
        for part in ("SECRET", "abc", "tökén", "999"):
            assert part not in result.stderr
    assert requests(sandbox.db_path) == [] or all(
        r[1] == "/healthz" for r in requests(sandbox.db_path)
    )


def test_a_configured_targets_token_variable_is_named(tmp_path: Path) -> None:
    specs = copy_specs(tmp_path)
    (specs / "reconciler.yaml").write_text(
        "apiVersion: reconciler.dev/v1\ntargets:\n  prod:\n    api: reference\n"
        "    url: https://platform.example.com\n    tokenEnv: PLATFORM_TOKEN\n",
        encoding="utf-8",
    )
    result = run_cli(["plan", str(specs)], PLATFORM_TOKEN="ünicode-SECRET")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: the environment variable PLATFORM_TOKEN holds a token")
    assert len(result.stderr.splitlines()) == 1
    assert "SECRET" not in result.output
    empty = run_cli(["plan", str(specs)], PLATFORM_TOKEN=" \n")
    assert empty.exit_code == 1
    assert (
        "target 'prod' needs a token: set the environment variable PLATFORM_TOKEN" in empty.stderr
    )


def test_a_saved_plans_token_is_checked_the_same_way(sandbox: Any, tmp_path: Path) -> None:
    specs = copy_specs(tmp_path)
    saved = tmp_path / "plan.json"
    made = run_cli(["plan", str(specs), *target_args(sandbox), "--out", str(saved)], sandbox.token)
    assert made.exit_code == 0, made.output
    bad = run_cli(["apply", str(saved), "--auto-approve"], "tökén-SECRET-999")
    assert bad.exit_code == 1
    assert bad.stderr.startswith("error: the environment variable RECONCILER_TOKEN holds a token")
    assert "SECRET" not in bad.output and "Traceback" not in bad.output
    good = run_cli(["apply", str(saved), "--auto-approve"], "\t" + sandbox.token + "\r\n")
    assert good.exit_code == 0, good.output
    assert "whitespace before or after the token was removed" in good.stderr
    assert sandbox.token not in good.output


def test_the_sandbox_refuses_a_token_it_could_not_compare(tmp_path: Path) -> None:
    for args, env in (
        (["--token", "tökén-SECRET"], {}),
        ([], {"RECONCILER_TOKEN": "abc\x01SECRET"}),
    ):
        result = CliRunner().invoke(
            main, ["sandbox", "serve", "--db", str(tmp_path / "s.sqlite"), *args], env=env
        )
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith("error: --token (or RECONCILER_TOKEN) holds a token")
        assert len(result.stderr.splitlines()) == 1
        assert "SECRET" not in result.output
    assert not (tmp_path / "s.sqlite").exists()


# ---- one redaction step -------------------------------------------------------


def test_redaction_removes_registered_secrets_and_credentials_in_any_shape() -> None:
    redact.forget_all()
    try:
        redact.register('sec"ret-TOKEN/42')
        cases = {
            'echo sec"ret-TOKEN/42 end': "echo [redacted] end",
            '{"t": "sec\\"ret-TOKEN/42"}': '{"t": "[redacted]"}',  # JSON-escaped
            "t=sec%22ret-TOKEN%2F42": "t=[redacted]",  # percent-encoded
            "Authorization: Bearer other.credential-1": "Authorization: [redacted]",
            "authorization=Basic dXNlcjpwYXNz&x=1": "authorization=[redacted]",
            '{"Authorization": "Bearer zz", "accept": "*/*"}': '{"Authorization": "[redacted]", '
            '"accept": "*/*"}',
            "{'authorization': 'Token q', 'h': 'x'}": "{'authorization': '[redacted]', 'h': 'x'}",
            '[{\\"authorization\\": \\"Bearer q\\"}]': '[{\\"authorization\\": \\"[redacted]\\"}]',
            "Illegal header value b'Bearer zq7-abc\\n'": "Illegal header value "
            "b'Bearer [redacted]\\n'",
            "proxy-authorization: Basic abc": "proxy-authorization: [redacted]",
            "invalid bearer token": "invalid bearer token",
            "Authorization required": "Authorization required",
        }
        for raw, expected in cases.items():
            assert redact.redact(raw) == expected, raw
        # a weak token is removed only where it stands alone
        redact.register("dev")
        assert redact.redact("dev device /dev/x") == "[redacted] device /[redacted]/x"
        assert redact.scrub({"a": ["Bearer x", 1, None], "Authorization: y": True}) == {
            "a": ["Bearer [redacted]", 1, None],
            "Authorization: [redacted]": True,
        }
    finally:
        redact.forget_all()


def test_errors_redact_what_the_server_said_as_it_enters() -> None:
    redact.forget_all()
    try:
        redact.register("test-token-SECRET-123")
        api_error = ApiError(
            "POST", "/plans", 400, 'no; {"authorization": "Bearer test-token-SECRET-123"}\n::x'
        )
        assert "SECRET" not in api_error.server_message and "SECRET" not in str(api_error)
        assert "\n" not in str(api_error)
        transport = TransportError(
            "GET", "/x", "Illegal header value b'Bearer test-token-SECRET-123\\n'"
        )
        assert "SECRET" not in transport.reason and "SECRET" not in str(transport)
    finally:
        redact.forget_all()


# ---- a server that echoes the credentials back -------------------------------


class EchoServer:
    """A fake ``reference`` API on 127.0.0.1 that sends the caller's token back.

    Reads answer with one live plan whose display name holds the token and whose
    description holds the request headers (Authorization among them); every
    write is refused with 400 and an error message that echoes the token raw,
    the headers as JSON, or an ``Authorization:`` line, in turn.
    """

    def __init__(self) -> None:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        self.writes = 0

        async def answer(request: Request) -> JSONResponse:
            auth = request.headers.get("authorization", "")
            token = auth.removeprefix("Bearer ")
            path = request.url.path.removeprefix("/api/v1/operator")
            if request.method != "GET":
                self.writes += 1
                forms = [
                    f"token {token} may not write here",
                    f"bad request; headers were {json.dumps(dict(request.headers))}",
                    f"refused\nAuthorization: {auth}",
                ]
                message = forms[self.writes % len(forms)]
                return JSONResponse({"error": "validation_error", "message": message}, 400)
            page = {"total": 0, "limit": 100, "offset": 0, "items": []}
            if path == "/plans" and request.query_params.get("offset", "0") == "0":
                page["total"] = 1
                page["items"] = [
                    {
                        "id": "p1",
                        "name": "starter",
                        "display_name": f"Starter for {token}",
                        "description": json.dumps(dict(request.headers)),
                        "created_at": "2024-01-01T00:00:00Z",
                        "updated_at": "2024-01-01T00:00:00Z",
                    }
                ]
            elif path == "/plans":
                page["total"] = 1
            elif path.endswith("/tier-defaults"):
                return JSONResponse({"plan_id": "p1", "tier_defaults": []})
            return JSONResponse(page)

        app = Starlette(
            routes=[
                Route("/{path:path}", answer, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
            ]
        )
        self.server = BackgroundServer(app, name="echo-server", what="the echo server")

    def __enter__(self) -> EchoServer:
        self.url = f"http://127.0.0.1:{self.server.start()}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()


TOKEN = "echoed-token-SECRET-4711"


def _no_token(where: str, text: str) -> None:
    assert TOKEN not in text, f"the token leaked into {where}"
    assert "SECRET" not in text, f"part of the token leaked into {where}"


def test_a_server_echoing_the_token_in_errors_is_redacted_everywhere(tmp_path: Path) -> None:
    specs = copy_specs(tmp_path)
    with EchoServer() as server:
        target = ["--api", "reference", "--url", server.url]
        result = run_cli(["-vv", "apply", str(specs), *target, "--auto-approve"], TOKEN)
        assert server.writes >= 3, result.output  # every echo form was sent back
    assert result.exit_code == 1
    _no_token("stdout", result.stdout)
    _no_token("stderr", result.stderr)
    assert "returned 400: token [redacted] may not write here" in result.stdout
    assert '"authorization": "[redacted]"' in result.stdout
    assert "refused\\nAuthorization: [redacted]" in result.stdout  # on its line, redacted
    journal = tmp_path / "journal.jsonl"
    _no_token("the journal", journal.read_text(encoding="utf-8"))
    errors = [entry["error"] for entry in read_journal(journal) if entry["error"]]
    assert any("[redacted]" in e for e in errors), errors


def test_a_server_echoing_the_token_in_live_data_is_redacted_in_every_report(
    tmp_path: Path,
) -> None:
    specs = copy_specs(tmp_path)
    out = tmp_path / "out"
    with EchoServer() as server:
        target = ["--api", "reference", "--url", server.url]
        text = run_cli(["plan", str(specs), *target], TOKEN)
        as_json = run_cli(["plan", str(specs), *target, "--format", "json"], TOKEN)
        md_stdout = run_cli(["drift", str(specs), *target, "--format", "markdown"], TOKEN)
        files = run_cli(
            [
                "plan",
                str(specs),
                *target,
                "--format",
                "markdown",
                "--output",
                str(out / "report.md"),
                "--json-report",
                str(out / "report.json"),
            ],
            TOKEN,
        )
        saved = run_cli(["plan", str(specs), *target, "--out", str(tmp_path / "plan.json")], TOKEN)
    assert saved.exit_code == 1
    assert "a plan file must never store it" in saved.stderr
    assert not (tmp_path / "plan.json").exists()
    _no_token("the refused plan file's message", saved.stdout + saved.stderr)
    for name, result in (("text", text), ("json", as_json), ("markdown", md_stdout)):
        assert result.exit_code in (0, 2), result.output
        _no_token(f"the {name} plan", result.stdout + result.stderr)
        assert "Starter for [redacted]" in result.stdout, name
    assert files.exit_code == 0, files.output
    _no_token("stderr", files.stderr)
    for path in out.iterdir():
        _no_token(path.name, path.read_text(encoding="utf-8"))
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    starter = next(c for c in report["changes"] if c["id"] == "Plan/starter")
    old = {f["path"]: f["old"] for f in starter["fields"]}
    assert old["displayName"] == "Starter for [redacted]"
    assert json.loads(old["description"])["authorization"] == "[redacted]"
    assert '- displayName: "Starter for [redacted]"' in (out / "report.md").read_text(
        encoding="utf-8"
    )

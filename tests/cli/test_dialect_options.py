"""Dialect options on the command line: `reconciler apis` lists them, `sandbox serve` takes them."""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock

import pytest

from reconciler import dialects as registry
from reconciler.options import DialectOptions, schema
from reconciler.options.tenants_v1 import TenantsV1Options
from reconciler.providers import provider_class
from tests.integration.helpers import run_cli


def test_apis_lists_the_options_with_their_defaults() -> None:
    result = run_cli(["apis", "tenants-v1"])
    assert result.exit_code == 0, result.output
    assert "configurationRequestWrapper (string | null, default null)" in result.output
    assert "configurationResponseWrapper (string | null, default configuration)" in result.output
    data = json.loads(run_cli(["apis", "tenants-v1", "--format", "json"]).output)
    defaults = {o["name"]: o["default"] for o in data["options"]}
    expected = {
        "configurationRequestWrapper": None,
        "configurationResponseWrapper": "configuration",
        "errors.message": None,
        "lists.tenants.items": "data",  # a section's options by their dotted names
    }
    assert {name: defaults.get(name) for name in expected} == expected
    assert "errors.message (string | null, default null)" in run_cli(["apis", "reference"]).output


@pytest.mark.parametrize("name", registry.names())
def test_registry_and_capabilities_name_the_same_options(name: str) -> None:
    model = schema(name)
    assert model is not None and issubclass(model, DialectOptions)
    assert provider_class(name).capabilities.options is model
    model()  # every option has a default: today's choice


def test_serve_passes_options_into_the_seed(tmp_path: Path) -> None:
    with mock.patch("reconciler.sandbox.server.serve") as serve:
        result = run_cli(
            [
                "sandbox",
                "serve",
                "--api",
                "tenants-v1",
                "--db",
                str(tmp_path / "s.sqlite"),
                "--option",
                "configurationRequestWrapper=settings",
                "--option",
                "configurationResponseWrapper=null",
            ],
            "token-123",
        )
    assert result.exit_code == 0, result.output
    assert serve.call_args.kwargs["seed"] == {
        "options": {"configurationRequestWrapper": "settings", "configurationResponseWrapper": None}
    }
    TenantsV1Options.model_validate(serve.call_args.kwargs["seed"]["options"])


def test_serve_refuses_an_unknown_option(tmp_path: Path) -> None:
    result = run_cli(
        [
            "sandbox",
            "serve",
            "--api",
            "tenants-v1",
            "--db",
            str(tmp_path / "s.sqlite"),
            "--option",
            "configurationWrapper=settings",
        ],
        "token-123",
    )
    assert result.exit_code == 1  # a usage error (2 means changes, nothing else)
    assert "configurationWrapper" in result.output


def test_serve_takes_dotted_options_that_add_up(tmp_path: Path) -> None:
    with mock.patch("reconciler.sandbox.server.serve") as serve:
        args = ["sandbox", "serve", "--api", "operator-v1", "--db", str(tmp_path / "s.sqlite")]
        for pair in (
            "lists.tenants.items=tenants",
            "lists.tenants.total=null",
            "lists.users={items: users}",
            "errors.message=detail",
        ):
            args += ["--option", pair]
        result = run_cli(args, "token-123")
    assert result.exit_code == 0, result.output
    assert serve.call_args.kwargs["seed"]["options"] == {
        "lists": {"tenants": {"items": "tenants", "total": None}, "users": {"items": "users"}},
        "errors": {"message": "detail"},
    }

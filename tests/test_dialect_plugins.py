"""Dialects installed from other distributions (entry-point group ``reconciler.dialects``).

The example distribution (examples/custom-dialect, installed by the README's
test command) is found through the real lookup and read by every reader of the
registry as a built-in is. Broken plugins are simulated by real distribution
metadata written into ``tmp_path`` and handed to the registry through its one
lookup function, :func:`reconciler.dialects.find_entry_points`: each is left
out with a warning naming its distribution, and nothing crashes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from importlib.metadata import Distribution, EntryPoint, version
from pathlib import Path
from unittest import mock

import pytest

from reconciler import dialects as registry
from tests.integration.helpers import run_cli

EXAMPLE = "workspaces-v1"
EXAMPLE_DISTRIBUTION = "reconciler-workspaces"
BUILT_IN = [line.name for line in registry.REGISTRY]


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    """Each test looks the installed dialects up anew, and leaves no lookup cached."""
    registry.forget_installed()
    yield
    registry.forget_installed()


def example_source() -> str:
    try:
        return f"{EXAMPLE_DISTRIBUTION} {version(EXAMPLE_DISTRIBUTION)}"
    except LookupError:  # importlib.metadata.PackageNotFoundError
        pytest.fail("the example is not installed: pip install -e examples/custom-dialect")


def distribution(
    root: Path, name: str, points: Mapping[str, str], modules: Mapping[str, str] | None = None
) -> list[EntryPoint]:
    """A distribution ``name`` 1.0 under ``root`` declaring ``points`` (entry-point name →
    ``module:attribute``) in the group, with ``modules`` (file name → source) importable."""
    info = root / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    lines = "".join(f"{point} = {target}\n" for point, target in points.items())
    (info / "entry_points.txt").write_text(f"[{registry.GROUP}]\n{lines}")
    for file, source in (modules or {}).items():
        (root / file).write_text(source, encoding="utf-8")
    return list(Distribution.at(info).entry_points.select(group=registry.GROUP))


def installed(
    monkeypatch: pytest.MonkeyPatch, *where: Path, points: Iterable[Iterable[EntryPoint]]
) -> None:
    """Make ``points`` (with the real ones) what the registry finds installed, their
    modules importable from ``where``."""
    real = list(registry.find_entry_points())
    fake = [point for group in points for point in group]
    for folder in where:
        monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setattr(registry, "find_entry_points", lambda: [*real, *fake])


def line(name: str) -> str:
    """A module defining ``LINE``, a registry line for dialect ``name`` (its halves are the
    example's: the registry checks names and references, not what they hold)."""
    return (
        "from reconciler.dialects import DialectEntry\n"
        f"LINE = DialectEntry(name={name!r}, provider='nowhere_provider:P', "
        "sandbox='nowhere_sandbox:S', page='https://example.com/docs')\n"
    )


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "reconciler.dialects"]


# ---- the example, installed --------------------------------------------------------------


def test_the_installed_example_comes_after_the_built_ins_with_its_distribution() -> None:
    source = example_source()
    assert registry.names()[: len(BUILT_IN)] == BUILT_IN
    assert EXAMPLE in registry.names()[len(BUILT_IN) :]
    found = registry.entry(EXAMPLE)
    assert found is not None and found.source == source and not found.built_in
    assert all(registry.entry(name).source == registry.BUILT_IN for name in BUILT_IN)  # type: ignore[union-attr]
    assert registry.problems() == []


def test_every_reader_of_the_registry_sees_the_installed_dialect(tmp_path: Path) -> None:
    example_source()
    from reconciler.options import parse, schema
    from reconciler.providers import dialects, provider_class
    from reconciler.sandbox.app import available_dialects, create_app, load_dialect

    assert EXAMPLE in dialects() and EXAMPLE in available_dialects()
    provider = provider_class(EXAMPLE)
    assert provider.capabilities.dialect == EXAMPLE
    assert schema(EXAMPLE) is provider.capabilities.options
    assert parse(EXAMPLE, {"errors": {"message": "detail"}}).errors.message == "detail"  # type: ignore[attr-defined]
    served = load_dialect(EXAMPLE)
    assert served is not None and served.name == EXAMPLE
    app = create_app(EXAMPLE, db_path=tmp_path / "s.sqlite", token="t")
    assert app.state.dialect == EXAMPLE
    app.state.store.close()


def test_reconciler_yaml_validates_installed_dialects_and_suggests_their_names(
    tmp_path: Path,
) -> None:
    example_source()
    target = "targets:\n  t:\n    api: {{dialect: {}, options: {{errors: {{message: {}}}}}}}\n"
    target += "    url: https://workspaces.example.com\n"
    (tmp_path / "t.yaml").write_text(
        "apiVersion: reconciler.dev/v1\nkind: Tenant\nname: acme\n", encoding="utf-8"
    )
    config = tmp_path / "reconciler.yaml"
    config.write_text("apiVersion: reconciler.dev/v1\n" + target.format(EXAMPLE, "detail"))
    assert run_cli(["validate", str(tmp_path)]).exit_code == 0
    config.write_text("apiVersion: reconciler.dev/v1\n" + target.format("workspace-v1", "detail"))
    typo = run_cli(["validate", str(tmp_path)])
    assert typo.exit_code == 1
    assert f"unknown API dialect 'workspace-v1' (did you mean '{EXAMPLE}'?)" in typo.output
    config.write_text("apiVersion: reconciler.dev/v1\n" + target.format(EXAMPLE, "[1]"))
    bad = run_cli(["validate", str(tmp_path)])
    assert bad.exit_code == 1 and f"{EXAMPLE} options: " in bad.output


def test_sandbox_serve_takes_the_installed_dialect_and_its_options(tmp_path: Path) -> None:
    example_source()
    with mock.patch("reconciler.sandbox.server.serve") as serve:
        db = str(tmp_path / "s.sqlite")
        result = run_cli(
            ["sandbox", "serve", "--api", EXAMPLE, "--db", db, "--option", "errors={message: x}"],
            "token-123",
        )
    assert result.exit_code == 0, result.output
    assert serve.call_args.kwargs["dialect"] == EXAMPLE
    assert serve.call_args.kwargs["seed"] == {"options": {"errors": {"message": "x"}}}


# ---- `reconciler apis` ------------------------------------------------------------------


def test_apis_lists_every_dialect_with_its_source() -> None:
    source = example_source()
    text = run_cli(["apis"])
    assert text.exit_code == 0, text.output
    assert text.stdout.splitlines()[0].split() == registry.names()
    rows = {r.split()[0]: r.split()[1:] for r in text.stdout.splitlines() if r.split()}
    assert rows["reference"][0] == registry.BUILT_IN
    assert rows[EXAMPLE][:2] == source.split()
    table = json.loads(run_cli(["apis", "--format", "json"]).stdout)
    assert table[EXAMPLE]["source"] == source and table[EXAMPLE]["Tenant"] == "CUSRD"
    assert table["reference"]["source"] == registry.BUILT_IN
    details = run_cli(["apis", EXAMPLE])
    assert f"source: {source}" in details.stdout
    assert "docs: examples/custom-dialect/README.md" in details.stdout
    data = json.loads(run_cli(["apis", EXAMPLE, "--format", "json"]).stdout)
    assert data["source"] == source and data["page"] == "examples/custom-dialect/README.md"
    assert "source: built-in" in run_cli(["apis", "reference"]).stdout


def test_the_markdown_page_holds_the_built_ins_only() -> None:
    example_source()
    page = run_cli(["apis", "--format", "markdown"]).stdout
    assert EXAMPLE not in page
    for name in BUILT_IN:
        assert f"| `{name}` |" in page


# ---- plugins that cannot be used: left out, reported, nothing crashes ---------------------


def test_an_entry_point_that_fails_to_import_is_left_out_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = distribution(tmp_path, "missing-module", {"gone-v1": "no_such_module_xyz:LINE"})
    raising = distribution(
        tmp_path / "r",
        "raising-module",
        {"boom-v1": "boom_plugin:LINE"},
        {"boom_plugin.py": "raise RuntimeError('plugin bug')\n"},
    )
    installed(monkeypatch, tmp_path, tmp_path / "r", points=[missing, raising])
    with caplog.at_level(logging.WARNING):
        names = registry.names()
    assert "gone-v1" not in names and "boom-v1" not in names
    assert names[: len(BUILT_IN)] == BUILT_IN
    said = warnings_of(caplog)
    assert any(
        "'gone-v1' of missing-module 1.0 left out" in w
        and "no_such_module_xyz:LINE failed to load (ModuleNotFoundError" in w
        for w in said
    ), said
    assert any(
        "'boom-v1' of raising-module 1.0 left out" in w and "RuntimeError: plugin bug" in w
        for w in said
    ), said
    registry.names()
    assert len(warnings_of(caplog)) == len(said), "each problem is logged once"
    result = run_cli(["apis"])  # fresh lookup inside the command: the warning reaches stderr
    assert result.exit_code == 0, result.output


def test_the_apis_command_warns_about_a_plugin_it_left_out(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    points = distribution(tmp_path, "missing", {"gone-v1": "nope_xyz:L"})
    installed(monkeypatch, tmp_path, points=[points])
    result = run_cli(["apis"])
    assert result.exit_code == 0, result.output
    assert "WARNING reconciler.dialects: dialect 'gone-v1' of missing 1.0 left out" in result.stderr
    assert "gone-v1" not in result.stdout


def test_an_entry_point_that_is_not_a_dialect_entry_is_left_out(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    points = distribution(
        tmp_path,
        "wrong-object",
        {"dict-v1": "wrong_object:LINE", "named-v1": "named_other:LINE"},
        {
            "wrong_object.py": "LINE = {'name': 'dict-v1', 'provider': 'x:Y'}\n",
            "named_other.py": line("other-name"),
        },
    )
    installed(monkeypatch, tmp_path, points=[points])
    with caplog.at_level(logging.WARNING):
        names = registry.names()
    assert "dict-v1" not in names and "named-v1" not in names and "other-name" not in names
    said = warnings_of(caplog)
    assert any(
        "'dict-v1' of wrong-object 1.0" in w
        and "wrong_object:LINE is a dict, not a reconciler.dialects.DialectEntry" in w
        for w in said
    ), said
    assert any(
        "'named-v1' of wrong-object 1.0" in w and "its DialectEntry says 'other-name'" in w
        for w in said
    ), said


def test_a_name_taken_by_a_built_in_or_another_plugin_is_left_out(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shadow = distribution(
        tmp_path / "a",
        "shadow-plugin",
        {"reference": "shadow:LINE", "twin-v1": "shadow:TWIN"},
        {"shadow.py": line("reference") + line("twin-v1").replace("LINE =", "TWIN =")},
    )
    twin = distribution(
        tmp_path / "b", "twin-plugin", {"twin-v1": "twin:LINE"}, {"twin.py": line("twin-v1")}
    )
    installed(monkeypatch, tmp_path / "a", tmp_path / "b", points=[shadow, twin])
    with caplog.at_level(logging.WARNING):
        names = registry.names()
        reference = registry.entry("reference")
    assert names.count("reference") == 1 and "twin-v1" not in names
    assert reference is not None and reference.built_in  # the built-in is never replaced
    said = warnings_of(caplog)
    assert any(
        "'reference' of shadow-plugin 1.0 left out: a built-in dialect is named 'reference'" in w
        for w in said
    ), said
    assert any(
        "'twin-v1' of shadow-plugin 1.0 left out: twin-plugin 1.0 installs a dialect" in w
        for w in said
    ), said
    assert any(
        "'twin-v1' of twin-plugin 1.0 left out: shadow-plugin 1.0 installs a dialect" in w
        for w in said
    ), said
    assert {p.dialect for p in registry.problems()} == {"reference", "twin-v1"}


def test_an_installed_dialect_whose_provider_fails_is_reported_by_apis(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Its registry line loads, its provider module does not: the others are still listed."""
    points = distribution(
        tmp_path, "half-plugin", {"half-v1": "half:LINE"}, {"half.py": line("half-v1")}
    )
    installed(monkeypatch, tmp_path, points=[points])
    assert "half-v1" in registry.names()
    result = run_cli(["apis"])
    assert result.exit_code == 0, result.output
    assert "dialect 'half-v1' of half-plugin 1.0 left out: its provider could not be" in (
        result.stderr
    )
    assert result.stdout.splitlines()[0].split() == [n for n in registry.names() if n != "half-v1"]

"""``reconciler probe`` (issue 12): read-only, it says what fits and which options fix the rest.

Against real HTTP servers on 127.0.0.1: the reference sandbox at its defaults
(everything fits, only GETs are sent); a small server of this test's own, built
from the sandbox's listing helpers (:mod:`reconciler.sandbox.listing`), answering
every listing style a target can configure, probed by a provider left at its
defaults (the fixes it suggests make the next probe fit); operator-v1's sandbox
seeded as the issue's server (resource-named lists, integer ids, ``{"detail"}``
errors); and a hostile server whose keys hold control characters.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reconciler import dialects as registry
from reconciler.model import Kind
from reconciler.options import DialectOptions
from reconciler.options.common import Errors, Listing
from reconciler.probe import Finding, check
from reconciler.providers.base import Capabilities, KindSupport, ListingUse, Provider
from reconciler.providers.http import ApiClient
from reconciler.providers.shapes import name, obj
from reconciler.sandbox import listing as served
from reconciler.sandbox.common import ErrorAnswer
from reconciler.sandbox.server import BackgroundServer
from tests.conftest import SANDBOX_TOKEN, FreshSandbox, SandboxFactory
from tests.integration.helpers import REPO, copy_specs, copy_tree, requests, run_cli

ROWS = [{"id": str(n), "name": f"thing-{n}"} for n in range(7)]

# ---- a dialect of this test's own: one listing, served by a server made for it ----------


class ThingsLists(DialectOptions):
    things: Listing = Field(default=Listing())


class ThingsOptions(DialectOptions):
    lists: ThingsLists = Field(default=ThingsLists())
    errors: Errors = Field(default=Errors())
    body_wrapper: str | None = Field(default=None, description="a write shape")


def thing_row(item: Any) -> Any:
    row = obj(item)
    name(row, "name")
    return row


class ThingsProvider(Provider):
    capabilities = Capabilities(
        dialect="things",
        title="things (a test dialect)",
        supports={Kind.TENANT: KindSupport(frozenset(), frozenset())},
        options=ThingsOptions,
    )

    def listings(self) -> list[ListingUse]:
        assert isinstance(self.options, ThingsOptions)
        listing = self.options.lists.things
        return [ListingUse("things", "/things", "lists.things", listing, thing_row)]


class PartsLists(ThingsLists):
    parts: Listing = Field(default=Listing())


class PartsOptions(ThingsOptions):
    lists: PartsLists = Field(default=PartsLists())


class PartsProvider(Provider):
    """Things, and the parts of a thing: a listing whose path takes a thing's id."""

    capabilities = Capabilities(
        dialect="parts",
        title="parts (a test dialect)",
        supports={Kind.TENANT: KindSupport(frozenset(), frozenset())},
        options=PartsOptions,
    )

    def listings(self) -> list[ListingUse]:
        assert isinstance(self.options, PartsOptions)
        lists = self.options.lists
        return [
            ListingUse("things", "/things", "lists.things", lists.things, thing_row),
            ListingUse("parts", "/things/{}/parts", "lists.parts", lists.parts, thing_row),
        ]


class ThingsServer:
    """Serves ``/things`` as ``listing`` says, errors with the message at ``error_key``;
    records every request (method, path) it served."""

    def __init__(
        self,
        listing: Listing,
        *,
        rows: list[Any] = ROWS,
        error_key: str = "message",
        raw: str | None = None,
    ) -> None:
        self.listing, self.rows, self.error_key, self.raw = listing, rows, error_key, raw
        self.log: list[tuple[str, str]] = []
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        app = Starlette(routes=[Route("/{path:path}", self.handle, methods=methods)])
        self.server = BackgroundServer(app, name="things", what="the things server")
        self.url = f"http://127.0.0.1:{self.server.start()}"

    def error(self, status: int, message: str) -> Response:
        body: dict[str, Any] = {}
        *parents, last = self.error_key.split(".")
        inner = body
        for part in parents:
            inner = inner.setdefault(part, {})
        inner[last] = message
        return Response(json.dumps(body), status, media_type="application/json")

    async def handle(self, request: Request) -> Response:
        self.log.append((request.method, request.url.path))
        if request.headers.get("authorization") != f"Bearer {SANDBOX_TOKEN}":
            return self.error(401, "invalid bearer token")
        if request.method != "GET":
            return self.error(405, "read-only")
        if request.url.path == f"/things/{ROWS[0]['id']}/parts":
            window = served.asked(dict(request.query_params), Listing(), max_page=5)
            part = [json.dumps(r) for r in ROWS[window.offset : window.offset + window.limit]]
            return Response(served.answer(Listing(), window, part, len(ROWS), path="/"))
        if request.url.path != "/things":
            return self.error(404, "no such thing")
        if self.raw is not None:
            return Response(self.raw, media_type="application/json")
        try:
            window = served.asked(dict(request.query_params), self.listing, max_page=5)
        except ErrorAnswer as exc:
            return self.error(400, exc.message)
        page = self.rows[window.offset : window.offset + window.limit]
        text = served.answer(
            self.listing, window, [json.dumps(r) for r in page], len(self.rows), path="/things"
        )
        return Response(text, media_type="application/json")

    def close(self) -> None:
        self.server.stop()


@pytest.fixture
def things() -> Iterator[list[ThingsServer]]:
    started: list[ThingsServer] = []
    yield started
    for server in started:
        server.close()


def probe_things(
    server: ThingsServer,
    options: Mapping[str, Any] | None = None,
    provider_type: type[Provider] = ThingsProvider,
) -> list[Finding]:
    async def run() -> list[Finding]:
        async with ApiClient(server.url, SANDBOX_TOKEN) as client:
            model = provider_type.capabilities.options
            provider = provider_type(client, model.model_validate(dict(options or {})))
            return await check(provider, token_source="the token in $RECONCILER_TOKEN")

    return asyncio.run(run())


def suggested(findings: list[Finding]) -> dict[str, Any]:
    return {fix.option: fix.value for f in findings for fix in f.fixes}


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """``{"lists.things.items": "data"}`` → ``{"lists": {"things": {"items": "data"}}}``."""
    out: dict[str, Any] = {}
    for dotted, value in flat.items():
        *parents, last = dotted.split(".")
        where = out
        for part in parents:
            where = where.setdefault(part, {})
        where[last] = value
    return out


def L(**options: Any) -> Listing:
    return Listing.model_validate(options)


def T(**fixes: Any) -> dict[str, Any]:
    return {f"lists.things.{k}": v for k, v in fixes.items()}


STYLES = [
    (L(), "message", {}),
    (L(items="data", total="meta.total"), "message", T(items="data", total="meta.total")),
    (
        L(offsetParam="skip", limitParam="per_page"),
        "message",
        T(offsetParam="skip", limitParam="per_page"),
    ),
    (L(paging="page", limitParam="per_page"), "message", T(paging="page", limitParam="per_page")),
    (
        L(paging="page", firstPage=0, total="count"),
        "message",
        T(paging="page", firstPage=0, total="count"),
    ),
    (
        L(paging="cursor", items="results", total=None, next="next_cursor"),
        "message",
        T(items="results", total=None, paging="cursor", next="next_cursor"),
    ),
    (  # its links page by offset, which this server also takes: offset paging fits
        L(paging="link", items="data", total=None, next="links.next"),
        "message",
        T(items="data", total=None),
    ),
    (L(paging="none", items=None, total=None), "message", T(items=None, total=None, paging="none")),
    (L(), "title", {"errors.message": "title"}),
]


@pytest.mark.parametrize(
    ("listing", "error_key", "fixes"), STYLES, ids=lambda v: json.dumps(v, default=str)[:40]
)
def test_each_way_a_server_lists_is_named_and_its_fixes_then_fit(
    things: list[ThingsServer], listing: Listing, error_key: str, fixes: dict[str, Any]
) -> None:
    server = ThingsServer(listing, error_key=error_key)
    things.append(server)
    first = probe_things(server)
    misfits = [f for f in first if f.status == "misfit"]
    assert suggested(misfits) == fixes, [f.message for f in first]
    assert bool(misfits) == bool(fixes)
    again = probe_things(server, nest(fixes))
    assert [f.message for f in again if f.status == "misfit"] == []
    assert any(
        "moves the window" in f.message or "next page" in f.message or "whole listing" in f.message
        for f in again
    )
    assert {method for method, _ in server.log} == {"GET"}


def test_a_short_page_is_fine_and_fewer_than_two_items_leave_paging_unchecked(
    things: list[ThingsServer],
) -> None:
    server = ThingsServer(L(), rows=ROWS[:1])
    things.append(server)
    found = probe_things(server)
    assert not [f for f in found if f.status == "misfit"]
    assert any(f.status == "unchecked" and "fewer than two" in f.message for f in found)


def test_a_detail_error_at_the_default_is_found_and_the_option_named(
    things: list[ThingsServer],
) -> None:
    server = ThingsServer(L(), error_key="detail")
    things.append(server)
    found = probe_things(server)
    assert not [f for f in found if f.status == "misfit"]
    assert suggested(found) == {"errors.message": "detail"}  # pinned, though the default finds it


def test_an_item_that_does_not_decode_is_named_with_the_decoders_words(
    things: list[ThingsServer],
) -> None:
    rows = [{"id": "1", "name": "a"}, {"id": "2", "title": "b"}]
    server = ThingsServer(L(), rows=rows)
    things.append(server)
    found = probe_things(server)
    bad = [f for f in found if f.status == "misfit"]
    assert len(bad) == 1 and "item 2 of 2 does not decode" in bad[0].message
    assert "'name'" in bad[0].message


def test_a_listing_under_an_object_is_read_under_the_first_one_listed(
    things: list[ThingsServer],
) -> None:
    server = ThingsServer(L())
    things.append(server)
    found = probe_things(server, provider_type=PartsProvider)
    parts = [f for f in found if f.listing == "parts"]
    assert parts and all(f.status == "ok" for f in parts), [f.message for f in parts]
    assert ("GET", "/things/0/parts") in server.log
    empty = ThingsServer(L(), rows=[])
    things.append(empty)
    unread = [f for f in probe_things(empty, provider_type=PartsProvider) if f.listing == "parts"]
    assert [f.status for f in unread] == ["unchecked"]
    assert "needs the id of an object no earlier listing showed" in unread[0].message


def test_write_shapes_are_said_to_be_unchecked(things: list[ThingsServer]) -> None:
    server = ThingsServer(L())
    things.append(server)
    found = probe_things(server)
    assert [f.message for f in found if f.listing == "options"] == [
        "`bodyWrapper` (now null) cannot be checked without writing"
    ]


# ---- the CLI, through a registry that knows the test dialect -----------------------------


@pytest.fixture
def things_dialect(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = registry.DialectEntry(
        name="things",
        provider="tests.cli.test_probe:ThingsProvider",
        sandbox="reconciler.sandbox.dialects.reference:DIALECT",
        page="things.md",
        options="tests.cli.test_probe:ThingsOptions",
    )
    monkeypatch.setattr(registry, "REGISTRY", (*registry.REGISTRY, entry))


def config(tmp_path: Path, url: str, api: Any, token_env: str | None = None) -> Path:
    root = tmp_path / "specs"
    root.mkdir(exist_ok=True)
    target: dict[str, Any] = {"api": api, "url": url}
    if token_env:
        target["tokenEnv"] = token_env
    document = {"apiVersion": "reconciler.dev/v1", "targets": {"t": target}}
    (root / "reconciler.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    return root


@pytest.mark.usefixtures("things_dialect")
def test_the_command_prints_the_fixes_as_yaml_to_paste(
    things: list[ThingsServer], tmp_path: Path
) -> None:
    server = ThingsServer(L(items="data", paging="page", limitParam="per_page"))
    things.append(server)
    root = config(tmp_path, server.url, "things")
    result = run_cli(["probe", str(root), "--target", "t"], SANDBOX_TOKEN)
    assert result.exit_code == 1, result.output
    assert "✗ things: items come under `data`, not `items`: set " in result.output
    assert "`options.lists.things.items: data`" in result.output
    block = result.output.split("under targets.t.api.options in reconciler.yaml:\n", 1)[1]
    pasted = yaml.safe_load("\n".join(line for line in block.splitlines() if line.startswith("  ")))
    assert pasted == {
        "lists": {"things": {"items": "data", "paging": "page", "limitParam": "per_page"}}
    }
    fitted = config(tmp_path, server.url, {"dialect": "things", "options": pasted})
    again = run_cli(["probe", str(fitted), "--target", "t", "--format", "json"], SANDBOX_TOKEN)
    assert again.exit_code == 0, again.output
    document = json.loads(again.output)
    assert document["fits"] is True and document["suggested"] == {}
    assert {method for method, _ in server.log} == {"GET"}


@pytest.mark.usefixtures("things_dialect")
def test_a_hostile_answer_is_printed_escaped(things: list[ThingsServer], tmp_path: Path) -> None:
    hostile = "ev\x1b[2Jil\u202e\n::error::x"
    raw = json.dumps({hostile: [{"id": "1", "name": "a\x07"}, {"id": "2"}], "total": 2})
    server = ThingsServer(L(), raw=raw, error_key=hostile)
    things.append(server)
    root = config(tmp_path, server.url, "things")
    result = run_cli(["probe", str(root), "--target", "t"], SANDBOX_TOKEN)
    assert result.exit_code == 1, result.output
    for raw_char in ("\x1b", "\u202e", "\x07", "\n::error"):
        assert raw_char not in result.output
    assert "\\x1b[2J" in result.output and "\\u202e" in result.output
    json_result = run_cli(["probe", str(root), "--target", "t", "--format", "json"], SANDBOX_TOKEN)
    document = json.loads(json_result.output)
    assert document["suggested"]["lists"]["things"]["items"] == hostile
    assert "\x1b" not in json_result.output and "\u202e" not in json_result.output


def test_a_refused_token_names_its_variable_and_never_the_token(
    fresh_sandbox: FreshSandbox, tmp_path: Path
) -> None:
    box = fresh_sandbox("reference")
    root = config(tmp_path, box.url, "reference", token_env="PLATFORM_TOKEN")
    wrong = "wrong-token-SECRET-987"
    result = run_cli(["probe", str(root)], PLATFORM_TOKEN=wrong)
    assert result.exit_code == 1, result.output
    assert "✗ connection:" in result.output and "$PLATFORM_TOKEN" in result.output
    assert wrong not in result.output


# ---- the built-in dialects -----------------------------------------------------------------


def test_the_reference_sandbox_at_its_defaults_fits_and_is_only_read(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    box = sandbox_factory("reference")
    specs = copy_specs(tmp_path)
    target = ["--api", "reference", "--url", box.url]
    applied = run_cli(["apply", str(specs), *target, "--auto-approve"], SANDBOX_TOKEN)
    assert applied.exit_code == 0, applied.output
    before = len(requests(box.db_path))
    result = run_cli(["probe", str(specs), *target], SANDBOX_TOKEN)
    assert result.exit_code == 0, result.output
    assert "✗" not in result.output
    labels = {"plans", "tenants", "feature flags", "users"}
    for label in labels:
        assert f"✓ {label}: items come under `items`" in result.output
        assert f"✓ {label}: `offset` moves the window" in result.output
    sent = requests(box.db_path)[before:]
    assert sent and {method for method, _, _ in sent} == {"GET"}


EXAMPLE = REPO / "examples" / "operator-v1"
ISSUE_OPTIONS: dict[str, Any] = {
    "lists": {
        "deviceTiers": {"items": "device_tiers"},
        "plans": {"items": "plans"},
        "tenants": {"items": "tenants"},
        "users": {"items": "users"},
    },
    "idType": "integer",
    "tierDefaults": {"tierField": "tier_id", "tierReference": "id"},
    "errors": {"message": "detail"},
}
"""The server of issue 12: lists under the resource's name, integer ids, tier defaults
naming the device tier's id, FastAPI's ``{"detail": ...}`` errors."""


def operator_specs(tmp_path: Path, url: str, options: dict[str, Any] | None) -> Path:
    root = Path(copy_tree(EXAMPLE, tmp_path / "operator-v1"))
    api: Any = {"dialect": "operator-v1", "options": options} if options else "operator-v1"
    document = yaml.safe_load((root / "reconciler.yaml").read_text(encoding="utf-8"))
    document["targets"] = {"t": {"api": api, "url": url}}
    (root / "reconciler.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    return root


def test_the_issues_server_probed_at_the_defaults_names_exactly_the_options(
    fresh_sandbox: FreshSandbox, tmp_path: Path
) -> None:
    box = fresh_sandbox("operator-v1", seed={"options": ISSUE_OPTIONS})
    fitted = operator_specs(tmp_path / "fitted", box.url, ISSUE_OPTIONS)
    applied = run_cli(["apply", str(fitted), "--auto-approve"], SANDBOX_TOKEN)
    assert applied.exit_code == 0, applied.output
    before = len(requests(box.db_path))

    defaults = operator_specs(tmp_path / "defaults", box.url, None)
    result = run_cli(["probe", str(defaults)], SANDBOX_TOKEN)
    assert result.exit_code == 1, result.output
    for told in (
        "options.lists.deviceTiers.items: device_tiers",
        "options.lists.plans.items: plans",
        "options.lists.tenants.items: tenants",
        "options.lists.users.items: users",
        "options.idType: integer",
        "options.errors.message: detail",
    ):
        assert told in result.output
    assert "`tierDefaults.tierField` (now tier) cannot be checked without writing" in result.output
    assert "`tierDefaults.tierReference` (now name) cannot be checked without writing" in (
        result.output
    )
    document = json.loads(
        run_cli(["probe", str(defaults), "--format", "json"], SANDBOX_TOKEN).output
    )
    assert document["suggested"] == {
        "lists": ISSUE_OPTIONS["lists"],
        "errors": {"message": "detail"},
        "idType": "integer",
    }

    again = run_cli(["probe", str(fitted)], SANDBOX_TOKEN)
    assert again.exit_code == 0, again.output
    assert "✗" not in again.output
    sent = requests(box.db_path)[before:]
    assert sent and {method for method, _, _ in sent} == {"GET"}


def test_with_no_target_the_embedded_sandbox_of_the_spec_directory_is_probed(
    tmp_path: Path,
) -> None:
    result = run_cli(["probe", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Probing local sandbox (reference)" in result.output
    assert (tmp_path / ".reconciler").is_dir()  # its state lives in the spec directory
    missing = run_cli(["probe", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1 and "no such spec directory" in missing.output
    assert not (tmp_path / "nowhere").exists()


def test_tenants_v1_at_its_defaults_fits_with_its_flags_listed_by_key(
    fresh_sandbox: Any, tmp_path: Path
) -> None:
    """A tenant's flags have no server id: the probe does not ask them for one."""

    from tests.integration.helpers import REPO

    box = fresh_sandbox("tenants-v1")
    root = Path(copy_tree(REPO / "examples" / "tenants-v1", tmp_path / "specs"))
    target = ["--api", "tenants-v1", "--url", box.url]
    applied = run_cli(["apply", str(root), *target, "--auto-approve"], box.token)
    assert applied.exit_code == 0, applied.output
    probed = run_cli(["probe", str(root), *target], box.token)
    assert probed.exit_code == 0, probed.output
    assert "flags" in probed.output and "idField" not in probed.output

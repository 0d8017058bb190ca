"""The spec cache: only changed files are parsed, and what comes back is what parsing gives.

Parses are counted through the loader's one parse function (``parse_bytes``),
never timed. Every cached load is compared with a load without the cache:
the same resources, each with the same source locations, and the same problems.
"""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler import core
from reconciler.engine import planner
from reconciler.errors import SourceLocation, SpecError, SpecProblem
from reconciler.model import Kind, Resource, ResourceId, State
from reconciler.spec import cache as spec_cache
from reconciler.spec import documents, yamlload
from reconciler.spec.cache import LoadedFile, SpecCache
from reconciler.spec.loader import load_specs
from reconciler.targets import TargetChoice
from tests.conftest import request_log

HEADER = "apiVersion: reconciler.dev/v1\n"

FILES = {
    "plans.yaml": HEADER + "kind: Plan\nname: gold\ndisplayName: Gold\n"
    "tierDefaults: {basic: 10, premium: 2}\n---\n"
    + HEADER
    + "kind: Plan\nname: silver\nmanaged: false\n",
    "tenants/acme.yaml": HEADER + "kind: Tenant\nname: acme\ndisplayName: Acme\nplan: gold\n"
    "status: active\nprotect: true\nignoreFields: [displayName]\n"
    "configuration: {region: eu, limits: {seats: 5, ratio: 0.5, tags: [a, b]}}\n"
    "features: {sso: true, beta: false}\n"
    "roles:\n  admins:\n    description: Admins\n    permissions: [read, write]\n"
    "    members: [ann, bob]\n",
    "tenants/acme-eu.yaml": HEADER + "kind: Tenant\nname: acme-eu\nplan: silver\n"
    "parent: acme\nfeatures: {sso: false}\n",
    "operators.yaml": HEADER + "kind: Operator\nemail: Ops@Example.com\nname: Ops\n"
    "role: operator\ntenant: acme\n",
}


@pytest.fixture
def specs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(spec_cache.NO_CACHE_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "specs"
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    (root / "reconciler.yaml").write_text(HEADER, encoding="utf-8")
    return root


@pytest.fixture
def reference_specs(specs: Path) -> Path:
    """The tree without what the reference API does not manage (roles) nor what a new
    sandbox lacks (the external plan)."""
    acme = specs / "tenants" / "acme.yaml"
    acme.write_text(acme.read_text().split("roles:")[0])
    eu = specs / "tenants" / "acme-eu.yaml"
    eu.write_text(eu.read_text().replace("plan: silver", "plan: gold"))
    plans = specs / "plans.yaml"
    plans.write_text(plans.read_text().split("---")[0])
    return specs


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The display name of every file the loader parses, in order."""
    names: list[str] = []
    real = yamlload.parse_bytes

    def counting(data: bytes, display: str, *args: Any, **kwargs: Any) -> Any:
        names.append(display)
        return real(data, display, *args, **kwargs)

    monkeypatch.setattr(documents, "parse_bytes", counting)
    return names


def cached_load(path: Path | str, env: dict[str, str] | None = None) -> State:
    return load_specs(path, env=env or {}, cache=SpecCache.for_specs(path, env={}))


def entries(root: Path) -> list[Path]:
    """The cache's file entries (not its notes of which entry each path had last)."""
    found = (root / ".reconciler" / "cache").glob("*.json")
    return sorted(p for p in found if not p.name.startswith("path-"))


def problems(path: Path | str, cache: bool) -> list[SpecProblem]:
    with pytest.raises(SpecError) as info:
        if cache:
            cached_load(path)
        else:
            load_specs(path, env={})
    return info.value.problems


def same(a: State, b: State) -> None:
    """Equal resources in the same order, every field source and location included."""
    assert [r.id for r in a] == [r.id for r in b]
    for x, y in zip(a, b, strict=True):
        assert x == y
        assert dict(x.field_sources) == dict(y.field_sources)


# ---- what is parsed ---------------------------------------------------------------------


def test_a_changed_file_is_parsed_again_and_an_unchanged_one_is_not(
    specs: Path, parsed: list[str]
) -> None:
    first = cached_load("specs")
    assert sorted(parsed) == sorted(f"specs/{name}" for name in FILES)
    assert len(entries(specs)) == len(FILES)

    parsed.clear()
    same(cached_load("specs"), first)
    assert parsed == []

    acme = specs / "tenants" / "acme.yaml"
    acme.write_text(acme.read_text().replace("displayName: Acme", "displayName: ACME"))
    parsed.clear()
    again = cached_load("specs")
    assert parsed == ["specs/tenants/acme.yaml"]
    same(again, load_specs("specs", env={}))
    assert (
        again.get(next(r.id for r in first if r.id.key == "acme")).fields[  # type: ignore[union-attr]
            "display_name"
        ]
        == "ACME"
    )


def test_the_cached_state_is_the_parsed_state_with_every_location(
    specs: Path, parsed: list[str]
) -> None:
    fresh = load_specs("specs", env={})
    cached_load("specs")
    parsed.clear()
    warm = cached_load("specs")
    assert parsed == []
    same(warm, fresh)
    kinds = {r.id.kind.value for r in warm}
    assert kinds == {
        "Plan", "TierDefaults", "Tenant", "FeatureFlag", "Role", "RoleAssignment", "Operator"
    }  # fmt: skip
    acme = next(r for r in warm if r.id.key == "acme")
    assert acme.protect and acme.ignore_fields == frozenset({"display_name"})
    assert acme.fields["configuration"] == {
        "region": "eu",
        "limits": {"seats": 5, "ratio": 0.5, "tags": ["a", "b"]},
    }
    assert acme.field_sources["plan"] == SourceLocation("specs/tenants/acme.yaml", 5, 7)
    assert not next(r for r in warm if r.id.key == "silver").managed


def test_locations_name_the_file_as_this_run_spells_it(
    specs: Path, parsed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cached_load("specs")
    monkeypatch.chdir(specs / "tenants")
    parsed.clear()
    warm = cached_load("..")
    assert parsed == []
    same(warm, load_specs("..", env={}))
    assert next(r for r in warm if r.id.key == "acme").source == SourceLocation(
        "../tenants/acme.yaml", 1, 1
    )


def test_no_cache_when_RECONCILER_NO_CACHE_is_set(reference_specs: Path) -> None:
    specs = reference_specs
    assert SpecCache.for_specs(specs, env={"RECONCILER_NO_CACHE": "1"}) is None
    assert SpecCache.for_specs(specs, env={"RECONCILER_NO_CACHE": "0"}) is not None
    core.validate(specs)
    assert len(entries(specs)) == len(FILES)
    assert (specs / ".reconciler" / ".gitignore").read_text().splitlines()[-1] == "*"


def test_core_loads_without_the_cache_when_it_is_turned_off(
    reference_specs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(spec_cache.NO_CACHE_ENV, "1")
    core.validate(reference_specs)
    assert not (reference_specs / ".reconciler").exists()


# ---- entries are checked, never trusted blindly -------------------------------------------


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # cut short
        lambda text: "\x00garbage",
        lambda text: json.dumps({**json.loads(text), "format": "reconciler-spec-cache/0"}),
        lambda text: json.dumps({**json.loads(text), "at": ["1", 2]}),
        lambda text: json.dumps({**json.loads(text), "managed": [[0]]}),
        lambda text: json.dumps({**json.loads(text), "shapes": [["NoSuchKind", [], []]]}),
        lambda text: "[]",
    ],
    ids=[
        "truncated",
        "garbage",
        "other-format",
        "bad-locations",
        "bad-resource",
        "bad-kind",
        "list",
    ],
)
def test_a_damaged_entry_is_ignored_and_written_again(
    specs: Path, parsed: list[str], damage: Any
) -> None:
    fresh = load_specs("specs", env={})
    cached_load("specs")
    for entry in entries(specs):
        entry.write_text(damage(entry.read_text()))
    parsed.clear()
    same(cached_load("specs"), fresh)
    assert len(parsed) == len(FILES)  # every file parsed again...
    parsed.clear()
    same(cached_load("specs"), fresh)
    assert parsed == []  # ...and its entry written again


def test_an_entry_under_another_files_name_is_not_trusted(specs: Path, parsed: list[str]) -> None:
    cached_load("specs")
    key = SpecCache(Path()).key
    directory = specs / ".reconciler" / "cache"
    acme = directory / f"{key((specs / 'tenants' / 'acme.yaml').read_bytes())}.json"
    plans = directory / f"{key((specs / 'plans.yaml').read_bytes())}.json"
    acme.write_bytes(plans.read_bytes())  # a valid entry, but for other bytes
    parsed.clear()
    warm = cached_load("specs")
    assert parsed == ["specs/tenants/acme.yaml"]
    same(warm, load_specs("specs", env={}))


def test_a_cache_that_cannot_be_written_is_left_alone(specs: Path) -> None:
    (specs / ".reconciler").mkdir()
    (specs / ".reconciler" / "cache").write_text("a file where the directory would be")
    same(cached_load("specs"), load_specs("specs", env={}))


def test_entries_unused_for_a_week_are_removed_after_a_whole_tree_load(specs: Path) -> None:
    cached_load("specs")
    directory = specs / ".reconciler" / "cache"
    stale = directory / ("0" * 64 + ".json")
    stale.write_text("{}")
    cache = SpecCache.for_specs(specs, env={})
    assert cache is not None
    load_specs("specs", env={}, cache=cache)
    cache.prune(now=stale.stat().st_mtime + spec_cache.KEEP_UNUSED_SECONDS + 1)
    assert not stale.exists()
    assert len(entries(specs)) == len(FILES)  # the entries this load used stay


def test_an_entry_holds_any_resource_exactly(specs: Path) -> None:
    """Field sources as a plain mapping (not the loader's compact one), the server's
    data, and every flag a resource may carry come back as they were."""
    where = SourceLocation("a.yaml", 3, 5)
    resource = Resource(
        ResourceId(Kind.TENANT, "acme"),
        {"display_name": "Acme", "configuration": {"x": [1, 2.5, None, True]}},
        source=where,
        field_sources={"display_name": where, "configuration.x": SourceLocation("a.yaml", 4, 1)},
        protect=True,
        ignore_fields=frozenset({"display_name"}),
        managed=False,
    )
    resource.server = {"id": "t-1"}
    entry = json.loads(json.dumps(spec_cache.encode("k", LoadedFile(1, managed=[resource]))))
    (back,) = spec_cache.decode(entry, "k", "a.yaml").managed
    assert back == resource
    assert dict(back.field_sources) == dict(resource.field_sources)


# ---- ${VAR}: never stored, always read from this run's environment ------------------------


def test_a_file_using_the_environment_is_parsed_with_each_runs_values_and_never_stored(
    specs: Path, parsed: list[str]
) -> None:
    (specs / "tenants" / "acme-eu.yaml").write_text(
        HEADER + "kind: Tenant\nname: acme-eu\nplan: gold\nconfiguration: {key: '${API_KEY}'}\n"
    )
    one = cached_load("specs", env={"API_KEY": "first-secret-value"})
    two = cached_load("specs", env={"API_KEY": "second-secret-value"})
    assert parsed.count("specs/tenants/acme-eu.yaml") == 2
    assert parsed.count("specs/plans.yaml") == 1
    configuration = [
        state.get(next(r.id for r in state if r.id.key == "acme-eu")).fields["configuration"]  # type: ignore[union-attr]
        for state in (one, two)
    ]
    assert configuration == [{"key": "first-secret-value"}, {"key": "second-secret-value"}]
    stored = b"".join(entry.read_bytes() for entry in entries(specs))
    assert b"secret-value" not in stored and b"API_KEY" not in stored
    with pytest.raises(SpecError, match="API_KEY"):
        cached_load("specs", env={})  # unset now: the error, not a value from the cache


# ---- problems across files point where they would without the cache ----------------------


def test_a_reference_in_a_cached_file_that_no_longer_resolves_is_reported_where_written(
    specs: Path, parsed: list[str]
) -> None:
    cached_load("specs")
    plans = specs / "plans.yaml"
    plans.write_text(plans.read_text().replace("name: gold", "name: golden"))
    parsed.clear()
    found = problems("specs", cache=True)
    assert parsed == ["specs/plans.yaml"]  # acme.yaml came from the cache
    assert found == problems("specs", cache=False)
    assert (
        SpecProblem(
            SourceLocation("specs/tenants/acme.yaml", 5, 7),
            "Tenant 'acme' references unknown plan 'gold' in 'plan' (did you mean 'golden'?)",
        )
        in found
    )


def test_duplicates_and_cycles_across_cached_files_keep_their_locations(
    specs: Path, parsed: list[str]
) -> None:
    cached_load("specs")
    (specs / "tenants" / "more.yaml").write_text(
        HEADER + "kind: Tenant\nname: acme-eu\nplan: gold\n---\n"
        + HEADER + "kind: Tenant\nname: holding\nplan: gold\nparent: acme-eu\n"
    )  # fmt: skip
    acme = specs / "tenants" / "acme.yaml"
    acme.write_text(acme.read_text().replace("plan: gold\n", "plan: gold\nparent: holding\n"))
    parsed.clear()
    found = problems("specs", cache=True)
    assert sorted(parsed) == ["specs/tenants/acme.yaml", "specs/tenants/more.yaml"]
    assert found == problems("specs", cache=False)
    messages = [str(p) for p in found]
    assert (
        "specs/tenants/more.yaml:1:1: Tenant 'acme-eu' is also defined at "
        "specs/tenants/acme-eu.yaml:1:1" in messages
    )
    assert (
        "specs/tenants/acme.yaml:6:9: tenant parents form a cycle: acme → holding → acme-eu → acme"
        in messages
    )


def test_a_file_with_a_problem_is_not_stored(specs: Path, parsed: list[str]) -> None:
    bad = specs / "tenants" / "bad.yaml"
    bad.write_text(HEADER + "kind: Tenant\nname: bad\nstatus: sleeping\n")
    assert problems("specs", cache=True) == problems("specs", cache=False)
    parsed.clear()
    problems("specs", cache=True)
    assert parsed == ["specs/tenants/bad.yaml"]  # parsed each time, its problem each time


# ---- the specs load before any call -------------------------------------------------------


def test_a_malformed_spec_fails_before_any_call(reference_specs: Path, fresh_sandbox: Any) -> None:
    specs = reference_specs
    sandbox = fresh_sandbox("reference")
    acme = specs / "tenants" / "acme.yaml"
    acme.write_text(acme.read_text().replace("status: active", "status: sleeping"))
    choice = TargetChoice(dialect="reference", url=sandbox.url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RECONCILER_TOKEN", sandbox.token)
        with pytest.raises(SpecError) as info:
            core.apply(specs, choice, approve=lambda run: True)
    assert [str(p.location) for p in info.value.problems] == ["specs/tenants/acme.yaml:6:9"]
    assert [r for r in request_log(sandbox.db_path) if r[1] != "/healthz"] == []  # not a read


def test_a_spec_problem_comes_before_an_unreachable_target(
    specs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (specs / "tenants" / "acme.yaml").write_text(HEADER + "kind: Tenant\n")
    monkeypatch.setenv("RECONCILER_TOKEN", "token")
    choice = TargetChoice(dialect="reference", url="http://127.0.0.1:9", allow_http=True)
    with pytest.raises(SpecError, match="name"):
        core.plan(specs, choice)


def test_a_plan_with_a_warm_cache_plans_them_all_again(
    reference_specs: Path, fresh_sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = reference_specs
    sandbox = fresh_sandbox("reference")
    monkeypatch.setenv("RECONCILER_TOKEN", sandbox.token)
    choice = TargetChoice(dialect="reference", url=sandbox.url)
    run = core.plan(specs, choice)
    assert {str(c.id) for c in run.plan.changes} >= {"Tenant/acme", "Tenant/acme-eu"}
    warm = core.plan(specs, choice)
    assert [str(c.id) for c in warm.plan.changes] == [str(c.id) for c in run.plan.changes]


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_the_collector_resumes_when_the_last_paused_section_ends_in_any_thread(
    collector_on: None,
) -> None:
    entered, leave = threading.Event(), threading.Event()

    def other() -> None:
        with planner.paused_gc():
            entered.set()
            leave.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    entered.wait(10)
    with planner.paused_gc():
        assert not gc.isenabled()
    assert not gc.isenabled()  # the other thread's section is still open
    leave.set()
    thread.join(10)
    assert gc.isenabled()


def test_much_built_while_paused_is_frozen_out_of_the_collectors_sight(
    collector_on: None,
) -> None:
    before = gc.get_freeze_count()
    with planner.paused_gc():
        kept = [[i] for i in range(planner.FREEZE_ABOVE + 10_000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= before + len(kept)
    gc.unfreeze()  # leave the process as other tests expect it

"""The bench's own logic: choosing the floor, mapping replayed ids, the lower bound and ``--check``.

Pure functions only: no server, no timing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench import check, report
from bench.bounds import Bound, changed_files, scan_seconds, spec_files
from bench.fast_api import ReferenceApi
from bench.fast_http import Request
from bench.floor import IdMap, choose_floor, minimal, minted, sweep_order
from bench.imports import parse_importtime
from bench.memory import tenants_for
from bench.scenarios import Config, Measured
from bench.specgen import object_count

U1 = "11111111-1111-4111-8111-111111111111"
U2 = "22222222-2222-4222-8222-222222222222"
U3 = "33333333-3333-4333-8333-333333333333"

# ---- the floor ------------------------------------------------------------------------------


def test_the_floor_is_the_fastest_bare_concurrency() -> None:
    floor = choose_floor({1: 9.0, 4: 3.0, 16: 2.5, 64: None}, naive_s=None)
    assert (floor.seconds, floor.source) == (2.5, "bare c=16")


def test_a_naive_run_faster_than_every_bare_run_is_the_floor() -> None:
    floor = choose_floor({4: 3.0, 16: 2.5}, naive_s=1.7)
    assert (floor.seconds, floor.source, floor.naive_s) == (1.7, "naive", 1.7)


def test_a_stopped_naive_run_is_no_candidate() -> None:
    floor = choose_floor({4: 3.0}, naive_s=None)
    assert floor.source == "bare c=4"


def test_no_finished_candidate_is_an_error() -> None:
    with pytest.raises(ValueError):
        choose_floor({4: None}, naive_s=None)


def test_a_result_faster_than_the_floor_beats_it() -> None:
    floor = choose_floor({4: 2.0}, naive_s=None)
    assert floor.beaten_by(1.99)
    assert not floor.beaten_by(2.0)
    assert not floor.beaten_by(5.0)


def test_with_latency_the_sweep_starts_in_the_middle_and_ends_at_the_extremes() -> None:
    order = sweep_order([1, 4, 8, 16, 32, 64], latency_ms=50)
    assert sorted(order) == [1, 4, 8, 16, 32, 64]
    assert order[0] == 16
    assert set(order[-2:]) == {1, 64}


def test_without_latency_the_sweep_starts_low_and_tries_every_concurrency() -> None:
    assert sweep_order([16, 1, 4, 4], latency_ms=0) == [1, 4, 16]


def test_minimal_calls_leave_out_the_verifying_reread() -> None:
    calls = [_call("GET", "/t"), _call("POST", "/t"), _call("GET", "/t"), _call("GET", "/f")]
    assert minimal(calls, applying=True) == calls[:2]
    assert minimal(calls, applying=False) == calls


# ---- ids the server made ---------------------------------------------------------------------


def _call(method: str, path: str, body: Any = None, made: list[str] | None = None) -> Any:
    return {
        "method": method,
        "url": "http://127.0.0.1:1" + path,
        "body": json.dumps(body) if body is not None else None,
        "minted": made or [],
    }


def test_minted_ids_are_those_the_answer_holds_and_the_request_did_not() -> None:
    answer = json.dumps({"id": U2, "plan_id": U1, "created_at": "2026-01-01T00:00:00Z"})
    assert minted("POST", "http://h/tenants", json.dumps({"plan_id": U1}), answer) == [U2]
    assert minted("GET", "http://h/tenants", None, answer) == []


def test_minted_whole_number_ids_come_from_id_keys_only() -> None:
    answer = json.dumps({"message": "invited", "operator": {"id": 7, "slots": 3}})
    assert minted("POST", "http://h/admin/operators", "{}", answer) == ["7"]


def test_a_request_waits_for_the_requests_whose_ids_it_mentions() -> None:
    calls = [
        _call("POST", "/plans", {"name": "p"}, [U1]),
        _call("POST", "/tenants", {"plan_id": U1}, [U2]),
        _call("POST", f"/tenants/{U2}/feature-flags", {"key": "f"}),
        _call("GET", f"/plans/{U3}/tier-defaults"),  # an id nobody made: no wait
    ]
    assert IdMap(calls).dependencies(calls) == [set(), {0}, {1}, set()]


def test_replayed_ids_replace_recorded_ones_in_paths_and_bodies() -> None:
    calls = [
        _call("POST", "/tenants", {"name": "t"}, [U1]),
        _call("POST", f"/tenants/{U1}/feature-flags", {"tenant": U1}),
    ]
    ids = IdMap(calls)
    ids.learn(calls[0], "/tenants", calls[0]["body"], json.dumps({"id": U3}))
    path, body = ids.swap(calls[1])
    assert path == f"/tenants/{U3}/feature-flags"
    assert body == json.dumps({"tenant": U3})


def test_whole_number_ids_are_mapped_within_the_collection_that_made_them() -> None:
    calls = [
        _call("POST", "/admin/operators", {"email": "a@x"}, ["3"]),
        _call("PATCH", "/admin/operators/3/status", {"is_active": False}),
        _call("GET", "/admin/teams/3"),  # another collection's 3
    ]
    ids = IdMap(calls)
    assert ids.dependencies(calls) == [set(), {0}, set()]
    ids.learn(calls[0], "/admin/operators", calls[0]["body"], json.dumps({"operator": {"id": 9}}))
    assert ids.swap(calls[1])[0] == "/admin/operators/9/status"
    assert ids.swap(calls[2])[0] == "/admin/teams/3"


# ---- --check ---------------------------------------------------------------------------------


def _record(scenario: str = "noop-cold", **given: Any) -> dict[str, Any]:
    wall, floor_s = given.get("wall_s", 2.0), given.get("floor_s", 1.0)
    return {
        "config": "reference/fast/0ms/200x3",
        "scenario": scenario,
        "wall_s": wall,
        "floor_s": floor_s,
        "ratio_to_floor": round(wall / floor_s, 2),
        "peak_rss_mb": given.get("peak_rss_mb", 100.0),
        "valid": given.get("valid", True),
        "load_avg": [1.0, 1.0],
    }


COMMITTED = {
    "reference/fast/0ms/200x3": {"noop-cold": {"ratio_to_floor": 2.0, "peak_rss_mb": 100.0}}
}


def _verdicts(record: dict[str, Any]) -> dict[str, str]:
    return {f.metric: f.verdict for f in check.compare([record], COMMITTED)}


def test_a_ratio_within_the_noise_is_no_regression() -> None:
    assert _verdicts(_record(wall_s=2.45))["ratio_to_floor"] == "ok"  # 1.225x the committed


def test_a_ratio_beyond_the_noise_is_a_regression() -> None:
    findings = check.compare([_record(wall_s=2.6)], COMMITTED)  # 1.3x
    assert [f.verdict for f in findings if f.metric == "ratio_to_floor"] == ["regression"]
    assert check.exit_code(findings) == 1


def test_a_worse_ratio_on_a_tiny_floor_is_noise_below_the_slack() -> None:
    # 3x the committed ratio, but only 40 ms more than the committed ratio implies
    assert _verdicts(_record(wall_s=0.06, floor_s=0.01))["ratio_to_floor"] == "ok"


def test_ratios_compare_across_machines_where_times_do_not() -> None:
    # a machine three times slower: times triple, the ratio holds
    assert _verdicts(_record(wall_s=6.0, floor_s=3.0))["ratio_to_floor"] == "ok"


def test_a_better_ratio_says_so_and_passes() -> None:
    findings = check.compare([_record(wall_s=1.2)], COMMITTED)
    assert {f.metric: f.verdict for f in findings}["ratio_to_floor"] == "better"
    assert check.exit_code(findings) == 0


def test_memory_beyond_the_noise_is_a_regression() -> None:
    assert _verdicts(_record(peak_rss_mb=126.0))["peak_rss_mb"] == "regression"
    assert _verdicts(_record(peak_rss_mb=124.0))["peak_rss_mb"] == "ok"


def test_an_invalid_figure_fails_the_check() -> None:
    findings = check.compare([_record(wall_s=2.0, valid=False)], COMMITTED)
    assert "invalid" in {f.verdict for f in findings}
    assert check.exit_code(findings) == 1


def test_nothing_committed_for_the_configuration_is_its_own_exit_code() -> None:
    findings = check.compare([_record()], {})
    assert [f.verdict for f in findings] == ["no baseline"]
    assert check.exit_code(findings) == 2


DOC = """# Performance

text

<!-- bench-baseline: read by --check -->
```json
{"noise": 0.3, "slack_s": 0.2,
 "figures": {"other/fast/0ms/1x1": {"noop-cold": {"ratio_to_floor": 9}}}}
```

after
"""


def test_the_baseline_block_is_read_from_the_document() -> None:
    data = check.read_baseline(DOC)
    assert data["noise"] == 0.3
    assert data["figures"]["other/fast/0ms/1x1"]["noop-cold"]["ratio_to_floor"] == 9


def test_writing_figures_keeps_the_others_and_the_text_around_the_block() -> None:
    written = check.write_baseline(DOC, [_record(wall_s=3.0)])
    assert written.startswith("# Performance\n\ntext\n") and written.endswith("```\n\nafter\n")
    figures = check.read_baseline(written)["figures"]
    assert figures["other/fast/0ms/1x1"]["noop-cold"]["ratio_to_floor"] == 9
    assert figures["reference/fast/0ms/200x3"]["noop-cold"]["ratio_to_floor"] == 3.0
    assert check.read_baseline(written)["noise"] == 0.3


def test_a_document_without_the_block_is_refused() -> None:
    with pytest.raises(ValueError):
        check.read_baseline("# Performance\n")


# ---- the rest ------------------------------------------------------------------------------


def test_import_time_sums_the_top_level_imports_only() -> None:
    stderr = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:       100 |        100 | _io",
            "import time:        50 |         50 |   yaml.error",
            "import time:       200 |       1250 | yaml",
            "something else",
        ]
    )
    total_ms, modules = parse_importtime(stderr)
    assert total_ms == pytest.approx(1.35)
    assert modules == {"_io", "yaml.error", "yaml"}


def test_memory_sizes_map_to_the_closest_tree() -> None:
    for objects in (1000, 10_000, 50_000):
        assert abs(object_count(tenants_for(objects, 10), 10) - objects) <= 11


def test_the_fast_server_pages_and_keeps_natural_keys_unique() -> None:
    api = ReferenceApi()

    def send(method: str, path: str, body: Any = None, **query: str) -> tuple[int, Any]:
        raw = json.dumps(body).encode() if body is not None else b""
        status, answer = api.handle(Request(method, "/api/v1/operator" + path, query, raw, ""))
        return status, json.loads(answer) if answer else None

    status, plan = send("POST", "/plans", {"name": "p"})
    assert status == 201
    for n in range(3):
        assert send("POST", "/tenants", {"name": f"t{n}", "plan_id": plan["id"]})[0] == 201
    assert send("POST", "/tenants", {"name": "t0"})[0] == 409
    assert send("POST", "/tenants", {"name": "x", "plan_id": "nope"})[0] == 400
    status, page = send("GET", "/tenants", limit="2", offset="1")
    assert [t["name"] for t in page["items"]] == ["t1", "t2"]
    assert (page["total"], page["limit"], page["offset"]) == (3, 2, 1)


# ---- the lower bound: the floor plus libyaml's scan of what must be parsed ------------------


def test_spec_files_are_the_yaml_outside_the_cache(tmp_path: Path) -> None:
    (tmp_path / "tenants").mkdir()
    (tmp_path / ".reconciler" / "cache").mkdir(parents=True)
    for name in ("plans.yaml", "tenants/a.yml", ".reconciler/cache/x.yaml", "notes.txt"):
        (tmp_path / name).write_text("a: 1\n")
    assert [p.relative_to(tmp_path).as_posix() for p in spec_files(tmp_path)] == [
        "plans.yaml",
        "tenants/a.yml",
    ]


def test_changed_files_are_the_ones_whose_bytes_differ_or_are_new(tmp_path: Path) -> None:
    before, after = tmp_path / "before", tmp_path / "after"
    for root in (before, after):
        root.mkdir()
        (root / "same.yaml").write_text("a: 1\n")
        (root / "touched.yaml").write_text("b: 2\n")
    (after / "touched.yaml").write_text("b: 2\n# a comment\n")
    (after / "new.yaml").write_text("c: 3\n")
    assert [p.name for p in changed_files(before, after)] == ["new.yaml", "touched.yaml"]


def test_the_scan_reads_every_event_and_nothing_costs_nothing(tmp_path: Path) -> None:
    spec = tmp_path / "big.yaml"
    spec.write_text("".join(f"k{i}: [1, 2, {{x: y}}]\n" for i in range(2000)))
    assert scan_seconds([]) == 0.0
    assert scan_seconds([spec], repeat=1) > 0.0
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [1, 2\n")
    with pytest.raises(yaml.YAMLError):  # it parses for real: a broken file is no free scan
        scan_seconds([broken], repeat=1)


def test_the_bound_adds_the_scan_to_the_floor() -> None:
    least = Bound(floor_s=0.2, scan_s=0.1, files=1)
    assert least.seconds == pytest.approx(0.3)
    assert least.ratio == pytest.approx(1.5)


def test_a_record_with_parsed_files_carries_its_bound(tmp_path: Path) -> None:
    spec = tmp_path / "t.yaml"
    spec.write_text("a: 1\n")
    ours = {"wall_s": 0.5, "peak_rss_mb": 50.0}
    the_floor = choose_floor({4: 0.25}, naive_s=None)
    cfg = Config()
    rec = report.record(cfg, Measured("noop-warm", ours, the_floor, 3, [], [spec]), (0.1, 0.2))
    assert rec["bound_files"] == 1
    assert rec["bound_s"] >= 0.25 and rec["bound_ratio"] >= 1.0
    assert "bound" in report.summary([rec])
    bare = report.record(cfg, Measured("apply-empty", ours, the_floor, 3), (0.1, 0.2))
    assert bare["bound_s"] is None and "bound" not in report.summary([bare])

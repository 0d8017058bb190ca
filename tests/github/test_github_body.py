"""Markers and cuts: what identifies a report, and never sending more than GitHub takes."""

from __future__ import annotations

from pathlib import Path

from reconciler.github.body import (
    STEP_SUMMARY_LIMIT,
    Summary,
    append_step_summary,
    clamp,
    find_marker,
    utf8_size,
    with_marker,
)
from reconciler.report.markdown import marker


def test_a_marker_is_a_whole_line_so_a_value_inside_the_report_cannot_fake_one() -> None:
    fake = '+ display_name: "<!-- reconciler-report target="prod" specs="specs" -->"'
    assert find_marker(f"## plan\n{fake}\n") is None
    line = marker('prod" --> x', "specs")
    found = find_marker(f"{line}\n{fake}\n")
    assert found is not None and found.get("specs") == "specs"
    assert found.get("target") == "prod&quot; - -&gt; x"
    assert found != find_marker(marker("prod", "specs"))


def test_with_marker_keeps_the_reports_own_marker() -> None:
    text = f"{marker('a', 'specs')}\nbody\n"
    assert with_marker(text, "b", "other") == (text, find_marker(text))


def test_clamp_leaves_what_fits_and_cuts_between_lines_otherwise() -> None:
    assert clamp("a\nb\n", 4, "cut") == ("a\nb\n", False)
    text, cut = clamp("one\ntwo\nthree\nfour\n", 16, "cut")
    assert cut and len(text) <= 16
    assert text == "one\ntwo\n\ncut\n"


def test_clamp_closes_an_open_fence_of_any_length() -> None:
    body = "intro\n`````diff\n" + "".join(f"+ {i}\n" for i in range(100)) + "`````\nafter\n"
    text, cut = clamp(body, 120, "cut")
    assert cut and len(text) <= 120
    head = text.split("\n\ncut")[0].splitlines()
    assert head[1] == "`````diff" and head[-1] == "`````"


def test_clamp_by_utf8_bytes_and_inside_one_enormous_line() -> None:
    text, cut = clamp("é" * 1000, 101, "n", size=utf8_size)
    assert cut and utf8_size(text) <= 101 and text.startswith("é" * 48)
    text, cut = clamp("x" * 500, 100, "cut")
    assert cut and len(text) == 100 and text.endswith("\n\ncut\n")


def test_the_step_summary_respects_its_one_mebibyte(tmp_path: Path) -> None:
    assert append_step_summary("x", {}) is Summary.NOT_SET
    summary = tmp_path / "summary.md"
    summary.write_bytes(b"a" * (STEP_SUMMARY_LIMIT - 1000))
    report = "".join(f"line {i} é\n" for i in range(500))
    assert append_step_summary(report, {"GITHUB_STEP_SUMMARY": str(summary)}) is Summary.CUT
    assert summary.stat().st_size <= STEP_SUMMARY_LIMIT
    assert summary.read_text(encoding="utf-8").endswith("1 MiB is full.**\n")
    before = summary.stat().st_size
    assert append_step_summary(report, {"GITHUB_STEP_SUMMARY": str(summary)}) is Summary.FULL
    assert summary.stat().st_size == before

"""The journal's end line: after a run that ended, the next plan reads only its tail.

``unfinished`` runs before every plan. A run that closed with every call answered
ends with an ``"end"`` line that says so, and the backwards read stops there;
one that died has none and is read back to its first call, as always.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from reconciler import journal
from reconciler.journal import END, Journal, read, unfinished
from reconciler.session import Session, journaled

TARGET, DIALECT = "prod", "reference"


def _settled_run(path: Path, calls: int) -> Journal:
    book = Journal(path=path, target=TARGET, dialect=DIALECT)
    for i in range(calls):
        book.intent("PUT", f"/tenants/t-{i}")(200, None)
    return book


def _parsed_lines(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every line ``unfinished`` parses from now on, as read."""
    seen: list[bytes] = []
    parse = journal._parsed

    def counting(raw: bytes) -> dict[str, Any] | None:
        if raw.strip():
            seen.append(raw)
        return parse(raw)

    monkeypatch.setattr(journal, "_parsed", counting)
    return seen


def test_a_run_that_closed_with_every_call_answered_is_read_from_its_end_line_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "journal.jsonl"
    _settled_run(path, 300).close()  # a big earlier run: never to be read again
    last = _settled_run(path, 3)
    last.close()
    last.close()  # once only
    ends = [e for e in read(path) if e["type"] == END]
    assert [(e["run"], e["calls"], e["unsettled"]) for e in ends[-1:]] == [(last.run, 3, 0)]
    assert len(ends) == 2
    seen = _parsed_lines(monkeypatch)
    assert unfinished(path, TARGET, DIALECT) == []
    assert len(seen) == 1  # the end line, nothing of the 306 call lines before it


def test_a_garbled_section_before_a_clean_end_is_never_parsed(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    last = _settled_run(path, 2)
    # Lines of the last run that, read, would be an intent it never answered (and a
    # run before it with one): the clean end line must stop the read above them.
    loose = {
        "target": TARGET,
        "dialect": DIALECT,
        "run": last.run,
        "type": "intent",
        "call": 7,
        "method": "DELETE",
        "path": "/users/u-1",
    }
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(loose) + "\n")
    assert [e["path"] for e in unfinished(path, TARGET, DIALECT)] == ["/users/u-1"]
    last.close()
    assert unfinished(path, TARGET, DIALECT) == []


def test_a_run_that_died_has_no_end_line_and_its_unanswered_calls_are_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "journal.jsonl"
    _settled_run(path, 5).close()
    died = Journal(path=path, target=TARGET, dialect=DIALECT)
    died.intent("POST", "/tenants")(201, None)
    died.intent("POST", "/tenants/t-1/suspend")
    for i in range(50):
        died.intent("PUT", f"/tenants/t-{i}")(200, None)
    died.intent("DELETE", "/users/u-9")
    seen = _parsed_lines(monkeypatch)
    found = unfinished(path, TARGET, DIALECT)
    assert [(e["run"], e["method"], e["path"]) for e in found] == [
        (died.run, "POST", "/tenants/t-1/suspend"),
        (died.run, "DELETE", "/users/u-9"),
    ]
    assert len(seen) == 2 * 51 + 2  # every line of the run, back to its first call, as ever


def test_a_run_that_closed_with_calls_unanswered_is_read_until_they_are_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "journal.jsonl"
    stopped = Journal(path=path, target=TARGET, dialect=DIALECT)
    for i in range(40):
        stopped.intent("PUT", f"/tenants/t-{i}")(200, None)
    stopped.intent("POST", "/tenants/t-1/suspend")  # stopped at once: never answered
    for i in range(10):
        stopped.intent("PUT", f"/tenants/u-{i}")(200, None)
    stopped.close()
    end = read(path)[-1]
    assert (end["type"], end["calls"], end["unsettled"]) == (END, 51, 1)
    seen = _parsed_lines(monkeypatch)
    assert [e["path"] for e in unfinished(path, TARGET, DIALECT)] == ["/tenants/t-1/suspend"]
    assert len(seen) == 1 + 2 * 10 + 1  # the end, the ten calls after it, the open one


def test_an_outcome_after_the_end_line_still_settles_its_call(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    book = Journal(path=path, target=TARGET, dialect=DIALECT)
    book.intent("PUT", "/tenants/a")(200, None)
    late = book.intent("PUT", "/tenants/b")
    book.intent("PUT", "/tenants/c")
    book.close()  # two open
    late(200, None)  # answered after the run closed (a task finishing while it unwinds)
    assert [e["path"] for e in unfinished(path, TARGET, DIALECT)] == ["/tenants/c"]


def test_a_run_without_calls_writes_no_end_and_the_run_before_stays_the_last(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.jsonl"
    died = Journal(path=path, target=TARGET, dialect=DIALECT)
    died.intent("POST", "/tenants")
    Journal(path=path, target=TARGET, dialect=DIALECT).close()
    assert [e["path"] for e in unfinished(path, TARGET, DIALECT)] == ["/tenants"]


def test_an_end_line_without_a_count_reads_as_a_run_that_died(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    book = Journal(path=path, target=TARGET, dialect=DIALECT)
    book.intent("POST", "/tenants")
    book.intent("PUT", "/tenants/a")(200, None)
    end = {"target": TARGET, "dialect": DIALECT, "run": book.run, "type": END, "unsettled": "0"}
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(end) + "\n")
    assert [e["path"] for e in unfinished(path, TARGET, DIALECT)] == ["/tenants"]


def test_journaled_ends_the_run_however_its_block_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "journal.jsonl"
    monkeypatch.setenv("RECONCILER_JOURNAL", str(path))
    client = SimpleNamespace(on_write=None)
    session = cast(
        Session,
        SimpleNamespace(
            target=SimpleNamespace(name=TARGET, dialect=DIALECT), client=client, workdir=tmp_path
        ),
    )
    with pytest.raises(KeyboardInterrupt), journaled(session, "test"):
        assert client.on_write is not None
        client.on_write("PUT", "/tenants/a")(200, None)
        client.on_write("POST", "/tenants/b/suspend")
        raise KeyboardInterrupt
    assert client.on_write is None
    end = read(path)[-1]
    assert (end["type"], end["calls"], end["unsettled"], end["origin"]) == (END, 2, 1, "test")
    assert [e["path"] for e in unfinished(path, TARGET, DIALECT)] == ["/tenants/b/suspend"]
    with journaled(session, "test"):
        pass  # no write: no run to end
    assert read(path)[-1] == end

"""Apply progress: numbered plain lines in logs, a bar (with failures kept) on a terminal."""

from __future__ import annotations

import io

from reconciler.engine.executor import ChangeEvent
from reconciler.model import Action, Change, Kind, ResourceId
from reconciler.progress import ApplyProgress


def change(key: str) -> Change:
    return Change(Action.CREATE, ResourceId(Kind.TENANT, key))


def test_ci_logs_get_one_numbered_line_per_finished_change() -> None:
    out = io.StringIO()
    with ApplyProgress(out) as progress:
        progress.start(2)
        progress(ChangeEvent("started", change("a")))
        progress(ChangeEvent("succeeded", change("a")))
        progress(ChangeEvent("failed", change("b"), "POST /tenants returned 400"))
    assert out.getvalue().splitlines() == [
        "[1/2] + Tenant/a: done",
        "[2/2] + Tenant/b: FAILED (POST /tenants returned 400)",
    ]
    assert "\r" not in out.getvalue()


def test_a_terminal_gets_a_bar_and_failures_stay_visible() -> None:
    out = io.StringIO()
    with ApplyProgress(out, live=True) as progress:
        progress.start(2)
        progress(ChangeEvent("succeeded", change("a")))
        progress(ChangeEvent("skipped", change("b"), "depends on Tenant/x"))
    text = out.getvalue()
    assert "[2/2] + Tenant/b: skipped (depends on Tenant/x)" in text
    assert "[1/2] + Tenant/a: done" not in text  # successes only move the bar

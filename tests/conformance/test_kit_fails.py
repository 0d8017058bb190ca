"""The kit's checks fail when what they check is broken (run against the reference dialect
with one thing broken on purpose)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler import core, planning
from reconciler.model import Action, Change, Resource, ResourceId, State
from reconciler.providers.base import ApplyContext
from reconciler.providers.reference import ReferenceProvider
from reconciler.runs import Preview
from reconciler.testing import DialectConformance, Workbench
from reconciler.testing.plugin import SANDBOX_TOKEN, CliRun, SandboxStarter

SPECS = Path(__file__).resolve().parents[2] / "specs"


class Reference(DialectConformance):  # not collected: no "Test" prefix
    dialect = "reference"
    specs = SPECS


@pytest.fixture
def bench(
    reconciler_sandbox: SandboxStarter,
    reconciler_cli: CliRun,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Workbench:
    monkeypatch.setenv("RECONCILER_TOKEN", SANDBOX_TOKEN)
    return Workbench("reference", SPECS, tmp_path, reconciler_sandbox, reconciler_cli)


def test_a_page_cap_that_never_bites_fails_the_paging_check(bench: Workbench) -> None:
    class Uncapped(Reference):
        page_cap = 1000  # more than the specs hold: every listing fits one page

    with pytest.raises(AssertionError, match="no listing was read in more than one page"):
        Uncapped().test_pages_past_a_small_page_cap(bench)


def test_show_calls_that_leave_a_call_out_fail(
    bench: Workbench, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = core.preview_calls

    async def one_short(session: core.Session, run: core.PlanRun) -> Preview:
        shown = await real(session, run)
        return Preview(calls=shown.calls[:-1], unknown=shown.unknown)

    monkeypatch.setattr(planning, "preview_calls", one_short)  # where plan looks it up
    with pytest.raises(AssertionError, match="calls planned"):
        Reference().test_show_calls_are_the_calls_apply_sends(bench)


def test_an_update_sent_twice_fails_the_minimal_writes_check(
    bench: Workbench, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = ReferenceProvider.apply

    async def twice(self: Any, change: Change, ctx: ApplyContext) -> Resource | None:
        if change.action is Action.UPDATE:
            await real(self, change, ctx)
        return await real(self, change, ctx)

    monkeypatch.setattr(ReferenceProvider, "apply", twice)
    with pytest.raises(AssertionError, match="assert 2 <= 1"):
        Reference().test_update_sends_only_the_calls_it_needs(bench)


def test_objects_the_provider_cannot_find_again_fail_the_adoption_check(
    bench: Workbench, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the objects are made by hand, the provider no longer reads them: the plan
    would make them again, and the check says so."""
    real = ReferenceProvider.read
    hidden: set[ResourceId] = set()

    async def blind(self: Any, kinds: Any) -> State:
        live = await real(self, kinds)
        return State(r for r in live if r.id not in hidden)

    class Blind(Reference):
        def make_by_hand(self, bench: Workbench, objects: State) -> None:
            super().make_by_hand(bench, objects)
            hidden.update(objects.ids())

    monkeypatch.setattr(ReferenceProvider, "read", blind)
    with pytest.raises(AssertionError, match="changes planned for objects identical"):
        Blind().test_adopts_identical_objects_made_by_hand(bench)

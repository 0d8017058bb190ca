"""The dialect conformance kit: what every dialect, built in or installed, must pass.

A dialect's test module subclasses :class:`DialectConformance`, names the dialect
and its example specs, and pytest runs each check as one test method, reported by
name. The checks start the dialect's own sandbox emulation (the ``reconciler``
pytest plugin's ``reconciler_sandbox``) and drive reconciler as a user would,
through the library API and the CLI; what was sent is read from the sandbox's
request log. A check that cannot apply to a dialect (an API that cannot delete,
or has no listing to page) is skipped with the reason, taken from what the
dialect declares (``Capabilities.supports``, ``Provider.listings``), never from
its name. docs/conformance-kit.md says what each check proves.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from reconciler.errors import ReconcilerError
from reconciler.model import LIFECYCLE, Action, Resource, State
from reconciler.runs import ApplyRun
from reconciler.sandbox.faults import FaultConfig
from reconciler.testing import choices
from reconciler.testing.plugin import SANDBOX_TOKEN, CliRun, SandboxStarter
from reconciler.testing.request_log import call_mismatch, paged_paths
from reconciler.testing.workbench import TARGET, Workbench

FAULT_STATUSES = frozenset({429, 500, 503})


def _merged(*seeds: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Seeds one over the other; a key both give as mappings (``quirks``) is merged."""
    merged: dict[str, Any] = {}
    for seed in seeds:
        for key, value in (seed or {}).items():
            before = merged.get(key)
            if isinstance(before, Mapping) and isinstance(value, Mapping):
                merged[key] = {**before, **value}
            else:
                merged[key] = value
    return merged or None


def _why_not(run: ApplyRun) -> str:
    """What an apply that is not ok failed at, and what the re-read still found."""
    lines = []
    if run.result is not None:
        lines += [f"failed {rid}: {why}" for rid, why in run.result.failed.items()]
        lines += [f"skipped {rid}: {why}" for rid, why in run.result.skipped.items()]
    if run.remaining is not None:
        lines += [f"still to {c.action.value}: {c.id}" for c in run.remaining.changes]
    return "\n".join(lines) or "no result"


class DialectConformance:
    """Subclass it in a test module, set :attr:`dialect` and :attr:`specs`, and run pytest.

    Example::

        class TestMyDialect(DialectConformance):
            dialect = "my-api"
            specs = Path(__file__).parent / "specs"      # holds a reconciler.yaml
            small_pages_seed = {"quirks": {"max_page": 2}}
    """

    dialect: ClassVar[str]
    """The dialect's registered name."""
    specs: ClassVar[Path]
    """Its example specs: a directory with a ``reconciler.yaml``. Keep them small, with
    more objects of one listed kind than :attr:`page_cap` (the paging check needs it)."""
    seed: ClassVar[Mapping[str, Any] | None] = None
    """What every sandbox of the kit is seeded with (what its API cannot create)."""
    options: ClassVar[Mapping[str, Any] | None] = None
    """Target options (camelCase, as in ``reconciler.yaml``): the kit's target gets them,
    and its sandboxes are seeded with them under ``options`` (seeded the same way)."""
    page_cap: ClassVar[int] = 2
    """Items per page in the paging check."""
    small_pages_seed: ClassVar[Mapping[str, Any] | None] = None
    """A seed that makes the sandbox serve at most :attr:`page_cap` items per page
    (merged over :attr:`seed`). None: the sandbox's fault wrapper caps the page-size
    parameter instead (``limit``, ``per_page`` or ``page_size``)."""
    writes_per_update: ClassVar[int] = 1
    """The most writes one update of one field may send."""
    fault_rate: ClassVar[float] = 0.2
    fault_seed: ClassVar[int] = 7
    fault_rounds: ClassVar[int] = 5
    """Applies in a row within which the target must converge through the faults. A
    create whose outcome is unknown fails its run when the re-read that would adopt it
    meets a fault too, and everything depending on it waits for the next run."""

    # ---- fixtures and hooks ---------------------------------------------------------------

    @pytest.fixture
    def workbench(
        self,
        reconciler_sandbox: SandboxStarter,
        reconciler_cli: CliRun,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> Workbench:
        """This check's specs and target; the sandbox is started by the check."""
        monkeypatch.setenv("RECONCILER_TOKEN", SANDBOX_TOKEN)
        monkeypatch.setenv("RECONCILER_JOURNAL", str(tmp_path / "journal.jsonl"))
        return Workbench(
            self.dialect, self.specs, tmp_path, reconciler_sandbox, reconciler_cli, self.options
        )

    def sandbox_seed(self, *more: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """:attr:`seed`, the options, then ``more``, merged: what a kit sandbox starts with."""
        options = {"options": dict(self.options)} if self.options is not None else None
        return _merged(self.seed, options, *more)

    def make_by_hand(self, bench: Workbench, objects: State) -> None:
        """Hook: make ``objects`` live outside any reconcile of the specs.

        By default through the provider's own writes (:meth:`Workbench.make_by_hand`);
        a dialect whose API makes some objects otherwise (an admin console, a signup)
        does it here, through its sandbox.
        """
        bench.make_by_hand(objects)

    def adopted_object(self, bench: Workbench, desired: State) -> tuple[Resource, Resource] | None:
        """Hook: a desired object, and a copy of it with one field changed, for the adoption
        and minimal-write checks (default: :func:`choices.adoptable`)."""
        return choices.adoptable(desired, bench.provider)

    def unmanaged_object(self, bench: Workbench, desired: State) -> Resource | None:
        """Hook: an object no spec names, for the unmanaged checks (default:
        :func:`choices.unmanaged`, a desired one copied under another key)."""
        return choices.unmanaged(desired, bench.provider)

    # ---- helpers the checks share ---------------------------------------------------------

    def converge(self, bench: Workbench) -> ApplyRun:
        run = bench.apply()
        assert run.ok, f"apply did not converge:\n{_why_not(run)}"
        return run

    def _adopted(self, bench: Workbench) -> tuple[Resource, Resource]:
        chosen = self.adopted_object(bench, bench.desired())
        if chosen is None:
            pytest.skip(
                f"no object in the specs has a field the {self.dialect} API can update "
                "(Capabilities.supports: create and update, a settable field that is not "
                "its status, key, a reference or sensitive)"
            )
        return chosen

    def _unmanaged(self, bench: Workbench) -> tuple[Resource, State]:
        desired = bench.desired()
        extra = self.unmanaged_object(bench, desired)
        if extra is None:
            pytest.skip(
                f"the {self.dialect} API can create no kind the specs hold under a plain "
                "name (Capabilities.supports)"
            )
        return extra, choices.with_dependencies(State([*desired, extra]), extra.id)

    def assert_no_duplicates(self, bench: Workbench) -> State:
        live = bench.live()
        twice = [str(a.id) for a, _ in live.duplicates]
        assert not twice, f"objects that exist twice: {twice}"
        return live

    # ---- the checks -----------------------------------------------------------------------

    def test_converges_from_empty(self, workbench: Workbench) -> None:
        """apply from an empty sandbox is ok, and its verifying re-read finds no changes."""
        workbench.serve(self.sandbox_seed())
        run = self.converge(workbench)
        assert run.result is not None and run.result.applied, "nothing was applied"
        assert run.converged

    def test_second_plan_is_a_no_op(self, workbench: Workbench) -> None:
        """Right after an apply, a plan has nothing to do and writes nothing."""
        workbench.serve(self.sandbox_seed())
        self.converge(workbench)
        since = workbench.mark()
        again = workbench.plan()
        assert not again.plan.has_changes, [str(c.id) for c in again.plan.changes]
        assert workbench.writes(since) == []

    def test_pages_past_a_small_page_cap(self, workbench: Workbench) -> None:
        """With the sandbox serving :attr:`page_cap` items a page, everything is read."""
        if self.small_pages_seed is not None:
            workbench.serve(self.sandbox_seed(self.small_pages_seed))
        else:
            workbench.serve(self.sandbox_seed(), faults=FaultConfig(max_page=self.page_cap))
        declared = workbench.listings()
        if declared and all(use.listing.paging == "none" for use in declared):
            pytest.skip(
                f"the {self.dialect} provider declares no paged listing (Provider.listings: "
                + ", ".join(use.label for use in declared)
                + ")"
            )
        self.converge(workbench)
        since = workbench.mark()
        again = workbench.plan()
        assert not again.plan.has_changes, [str(c.id) for c in again.plan.changes]
        paged = paged_paths(workbench.requests(since))
        if not paged and not declared:
            pytest.skip(
                f"no listing was read in pages under a cap of {self.page_cap}, and the "
                f"{self.dialect} provider declares no listings (Provider.listings) to say "
                "whether any pages"
            )
        assert paged, (
            f"no listing was read in more than one page under a cap of {self.page_cap}: "
            "the cap did not take effect, or the specs hold too few objects"
        )

    def test_adopts_identical_objects_made_by_hand(self, workbench: Workbench) -> None:
        """Objects made by hand exactly as specified are adopted: no change, no duplicate."""
        desired = workbench.desired()
        chosen = self.adopted_object(workbench, desired)
        first = chosen[0] if chosen is not None else choices.creatable(desired, workbench.provider)
        if first is None:
            pytest.skip(f"the {self.dialect} API can create none of the specs' kinds")
        made = choices.with_dependencies(desired, first.id)
        workbench.serve(self.sandbox_seed())
        self.make_by_hand(workbench, made)
        planned = workbench.plan().plan  # one not made (or not found) would be created
        touched = sorted(str(c.id) for c in planned.changes if c.id in made.ids())
        assert not touched, f"changes planned for objects identical to their specs: {touched}"
        self.converge(workbench)
        self.assert_no_duplicates(workbench)

    def test_adopts_differing_objects_made_by_hand(self, workbench: Workbench) -> None:
        """An object made by hand with one field off is updated in place, never made again."""
        spec, off = self._adopted(workbench)
        desired = workbench.desired()
        made = State(
            [off if r.id == spec.id else r for r in choices.with_dependencies(desired, spec.id)]
        )
        workbench.serve(self.sandbox_seed())
        self.make_by_hand(workbench, made)
        planned = workbench.plan().plan
        mine = [(c.action, c.id) for c in planned.changes if c.id in made.ids()]
        assert mine == [(Action.UPDATE, spec.id)], mine
        self.converge(workbench)
        self.assert_no_duplicates(workbench)

    def test_leaves_unmanaged_objects_alone(self, workbench: Workbench) -> None:
        """An object no spec names is left as it is when prune says ``ignore``."""
        extra, made = self._unmanaged(workbench)
        workbench.serve(self.sandbox_seed())
        workbench.configure(prune={extra.id.kind.value: "ignore"})
        self.make_by_hand(workbench, made)
        run = workbench.plan()
        before = run.live.get(extra.id)
        assert before is not None, f"{extra.id} was not made"
        assert extra.id in run.plan.unmanaged
        assert extra.id not in {c.id for c in run.plan.changes}
        self.converge(workbench)
        after = self.assert_no_duplicates(workbench).get(extra.id)
        assert after is not None and after.fields == before.fields

    def test_prunes_unmanaged_objects_when_told(self, workbench: Workbench) -> None:
        """An object no spec names is removed when prune says so, and nothing else is."""
        extra, made = self._unmanaged(workbench)
        how = choices.removal(extra.id.kind, workbench.provider)
        if how is None:
            pytest.skip(
                f"the {self.dialect} API can neither delete nor suspend "
                f"{extra.id.kind.value} objects (Capabilities.supports)"
            )
        policy, action = how
        workbench.serve(self.sandbox_seed())
        self.make_by_hand(workbench, made)
        workbench.configure(prune={extra.id.kind.value: "ignore"})
        left_alone = {(c.action, c.id) for c in workbench.plan().plan.changes}
        workbench.configure(prune={extra.id.kind.value: policy})
        pruned = {(c.action, c.id) for c in workbench.plan().plan.changes}
        assert pruned - left_alone == {(action, extra.id)}, pruned - left_alone
        assert left_alone <= pruned, left_alone - pruned
        run = workbench.apply(allow_mass_changes=True)
        assert run.ok, f"apply did not converge:\n{_why_not(run)}"
        left = self.assert_no_duplicates(workbench).get(extra.id)
        lifecycle = LIFECYCLE.get(extra.id.kind)
        if action is Action.DELETE or lifecycle is None:
            assert left is None, f"{extra.id} is still live"
        else:  # suspended, or no longer listed (``absent_is_inactive``)
            assert left is None or lifecycle.is_inactive(left.fields.get(lifecycle.field)), left

    def test_update_sends_only_the_calls_it_needs(self, workbench: Workbench) -> None:
        """One field of one object changed: one update planned, at most
        :attr:`writes_per_update` writes sent (the ones ``--show-calls`` showed), and
        the target converged."""
        spec, off = self._adopted(workbench)
        workbench.serve(self.sandbox_seed())
        self.converge(workbench)
        self.make_by_hand(workbench, State([off]))
        preview = workbench.plan(show_calls=True).preview
        since = workbench.mark()
        run = workbench.apply()
        changes = run.planned.plan.changes
        assert [(c.action, c.id) for c in changes] == [(Action.UPDATE, spec.id)], changes
        assert len(changes[0].fields) == 1, changes[0].fields
        assert run.ok, f"apply did not converge:\n{_why_not(run)}"
        sent = workbench.writes(since)
        assert 1 <= len(sent) <= self.writes_per_update, sent
        assert preview is not None
        mismatch = call_mismatch(preview.calls, sent, workbench.base_path)
        assert mismatch is None, mismatch

    def test_show_calls_are_the_calls_apply_sends(self, workbench: Workbench) -> None:
        """``plan --show-calls`` lists exactly the writes apply then sends (methods, paths)."""
        workbench.serve(self.sandbox_seed())
        preview = workbench.plan(show_calls=True).preview
        assert preview is not None and preview.calls, "no calls shown"
        assert not preview.unknown, f"changes whose calls could not be shown: {preview.unknown}"
        since = workbench.mark()
        run = workbench.apply(parallelism=1)  # the order the preview shows them in
        assert run.ok, f"apply did not converge:\n{_why_not(run)}"
        mismatch = call_mismatch(preview.calls, workbench.writes(since), workbench.base_path)
        assert mismatch is None, mismatch

    def test_export_then_plan_has_no_changes(self, workbench: Workbench) -> None:
        """``reconciler export`` of the converged target plans with no changes."""
        workbench.serve(self.sandbox_seed())
        self.converge(workbench)
        out = workbench.root / "exported"
        workbench.write_config(
            out, {"apiVersion": "reconciler.dev/v1", "targets": {TARGET: workbench.target_entry()}}
        )
        exported = workbench.cli("export", str(out), "--target", TARGET)
        assert exported.exit_code == 0, exported.output
        assert any(p.name != "reconciler.yaml" for p in out.rglob("*.yaml")), "nothing exported"
        plan = workbench.cli("plan", str(out), "--target", TARGET, "--detailed-exitcode")
        assert plan.exit_code == 0, plan.output

    def test_converges_through_faults_without_duplicates(self, workbench: Workbench) -> None:
        """A few applies in a row converge through :attr:`fault_rate` injected faults, and
        no object exists twice (checked on a calm restart of the same database)."""
        faults = FaultConfig(rate=self.fault_rate, seed=self.fault_seed)
        noisy = workbench.serve(self.sandbox_seed(), faults=faults)
        seen = []
        for _ in range(self.fault_rounds):
            try:
                run = workbench.apply()
            except ReconcilerError as exc:  # a read that failed through every retry
                seen.append(str(exc))
                continue
            if run.ok:
                break
            seen.append(_why_not(run))
        else:
            pytest.fail(f"did not converge in {self.fault_rounds} applies:\n" + "\n--\n".join(seen))
        met = [r for r in workbench.requests() if r.status in FAULT_STATUSES]
        assert met, "no fault was injected: the check proved nothing"
        noisy.stop()
        workbench.serve(db_path=noisy.db_path)
        again = workbench.plan()
        assert not again.plan.has_changes, [str(c.id) for c in again.plan.changes]
        self.assert_no_duplicates(workbench)


__all__ = ["DialectConformance"]

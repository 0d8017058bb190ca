"""What a run read, decided and did: the values the library API returns.

:class:`PlanRun` (a plan with the guards' verdicts), :class:`Preview`
(``--show-calls``), :class:`ApplyRun` (an apply and its verification) and
:class:`Review` (a plan as a pull request sees it). Plain data: reports and
the CLI read them; :mod:`reconciler.core` makes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.calls import PlannedCall
from reconciler.engine.plan import Plan
from reconciler.engine.results import ApplyResult, ChangeEvent
from reconciler.model import Change, State
from reconciler.targets import Target


@dataclass
class PlanRun:
    """What a plan read and decided."""

    target: Target
    desired: State
    live: State
    plan: Plan
    preview: Preview | None = None
    mass_changes: list[str] = field(default_factory=list)
    """Why the mass-change guard would refuse this plan (empty: it would not)."""
    lockout: list[str] = field(default_factory=list)
    """Why the lockout guard refuses this plan (no override)."""


@dataclass
class Preview:
    """``plan --show-calls``: the writes in apply order, and changes that could not be shown."""

    calls: list[PlannedCall]
    unknown: dict[str, str] = field(default_factory=dict)


@dataclass
class ApplyRun:
    """What an apply did, and what the re-read found afterwards."""

    planned: PlanRun
    result: ApplyResult | None = None
    remaining: Plan | None = None
    approved: bool = True
    events: list[ChangeEvent] = field(default_factory=list)

    @property
    def converged(self) -> bool:
        return self.remaining is not None and not self.remaining.has_changes

    @property
    def ok(self) -> bool:
        if not self.approved:
            return True
        if self.result is None:  # nothing to apply: ok when the target already matched
            return self.converged
        return self.result.ok and self.converged


@dataclass
class Review:
    """A plan as a pull request sees it.

    ``run`` is what an apply would do now (PR specs against live). With base
    specs, ``pr_changes`` is what the PR itself changes (base specs → PR specs)
    and ``drift`` what already differs on the live platform from the base
    specs: hand changes a merge would revert. Without base specs, ``drift`` is
    ``run.plan`` (everything live differs from the specs in). All three are made
    by the same planner, under the target's rules.
    """

    run: PlanRun
    spec_path: str
    base_label: str | None = None
    pr_changes: Plan | None = None
    drift: Plan | None = None

    @property
    def reverted(self) -> list[Change]:
        """Drift that applying the PR specs would undo (same object changed by both)."""
        if self.drift is None or self.pr_changes is None:
            return []
        planned = {c.id for c in self.run.plan.changes}
        return [c for c in self.drift.changes if c.id in planned]

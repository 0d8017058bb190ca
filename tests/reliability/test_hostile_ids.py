"""Hostile identifiers against every dialect's sandbox (issue 10): nothing steers a write.

For each dialect a scenario (``test_hostile_ids_<dialect>.py``) seeds its
sandbox with objects whose server ids, keys and role names are path hazards
(``../../users/<id>``, ``x#frag``, ``x?y=1``, ``%73so``, ``..``, ``.``, ``a b``,
``é``, ``x%2Fy``, controls, very long …) and gives specs names that are hazards
too (``a b``, ``é``, ``#``, ``?``, ``%`` …); then creates, updates and prunes
(suspend and delete, where the dialect can) through the CLI against the real
sandbox over HTTP. One sandbox per dialect, started once for its class of tests.

Judged from the sandbox's own records, not the client's word:

- every write the server logged is one the client journaled, on the same raw
  path; decoded segment by segment, it names exactly the object of its change;
- no stored row changed that the step's changes may not touch (victims: the only
  admin, managed flags, other tenants);
- objects no path can carry are never written, and the plan says
  "cannot be managed safely" for exactly those;
- every apply succeeds, and a second plan has nothing left to do;
- no CLI run leaves a socket open or a coroutine un-awaited.

After create, update and prune, two more kinds of step (their own tests): a
change whose path needs the id of *another* object no path can carry (a flag of
such a tenant) must be reported, not planned and then failed; and an object the
provider reads one by one (a plan's tier defaults, a tenant's detail) must not
stop the plan when its id cannot be put in a path.

Why each dialect's values are where they are: the docstring of its scenario file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from tests.reliability.test_hostile_ids_admin_operators import SCENARIO as ADMIN_OPERATORS
from tests.reliability.test_hostile_ids_harness import (
    Scenario,
    ScenarioRun,
    collateral,
    note_problems,
    outcome_problems,
    path_problems,
    report,
    run_scenario,
)
from tests.reliability.test_hostile_ids_iaas_v1 import SCENARIO as IAAS_V1
from tests.reliability.test_hostile_ids_operator_v1 import SCENARIO as OPERATOR_V1
from tests.reliability.test_hostile_ids_platform_admin import SCENARIO as PLATFORM_ADMIN
from tests.reliability.test_hostile_ids_reference import SCENARIO as REFERENCE
from tests.reliability.test_hostile_ids_tenants_v1 import SCENARIO as TENANTS_V1


def of_group(run: ScenarioRun, group: str) -> ScenarioRun:
    """The steps of ``group``; a dialect without any says why, and the test is skipped."""
    steps = run.of(group)
    if not steps.results:
        why = run.scenario.without.get(group)
        assert why, f"{run.scenario.dialect} has no '{group}' step and does not say why"
        pytest.skip(f"{run.scenario.dialect}: {why}")
    return steps


@pytest.fixture(scope="class")
def run(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ScenarioRun]:
    """The run of the scenario of the requesting class, made once for the class."""
    scenario: Scenario = request.cls.scenario
    root: Path = tmp_path_factory.mktemp(f"hostile-{scenario.dialect}")
    yield from run_scenario(scenario, root)


class HostileIds:
    """The checks, on the run of one dialect's scenario: a subclass per dialect below.

    The run (seed, every step through the CLI) is made once per class and shared by
    its tests; under xdist (``--dist loadscope``) a class stays on one worker, so each
    run is made once, and the six can run on different workers.
    """

    scenario: ClassVar[Scenario]

    def test_every_apply_succeeds_and_a_second_plan_has_nothing_to_do(
        self, run: ScenarioRun
    ) -> None:
        problems = outcome_problems(run.of("lifecycle"))
        assert not problems, report(problems)

    def test_every_write_hits_exactly_the_object_its_change_names(self, run: ScenarioRun) -> None:
        assert any(result.journal for result in run.results), "the scenario wrote nothing"
        problems = path_problems(run)
        assert not problems, report(problems)

    def test_no_other_object_changes(self, run: ScenarioRun) -> None:
        problems = collateral(run)
        assert not problems, report(problems)

    def test_unaddressable_objects_are_reported_and_never_written(self, run: ScenarioRun) -> None:
        problems = note_problems(run.of("lifecycle"))
        assert not problems, report(problems)

    def test_objects_read_one_by_one_do_not_stop_the_plan(self, run: ScenarioRun) -> None:
        """A live object whose id no path can carry, of a kind the provider reads one by one
        (a plan's tier defaults, a tenant's detail): the plan still runs, says why that
        object is left alone, and manages everything else."""
        steps = of_group(run, "read")
        problems = outcome_problems(steps) + note_problems(steps)
        assert not problems, report(problems)

    def test_creates_under_unaddressable_parents_are_reported(self, run: ScenarioRun) -> None:
        """A flag asked for on a tenant whose id no path can carry: no call can make it,
        so the plan says so instead of promising a create that fails on apply."""
        steps = of_group(run, "parent")
        problems = outcome_problems(steps) + note_problems(steps)
        assert not problems, report(problems)

    def test_no_connection_or_task_is_left_behind(self, run: ScenarioRun) -> None:
        assert not run.left_behind, report(run.left_behind)


class TestReference(HostileIds):
    scenario = REFERENCE


class TestOperatorV1(HostileIds):
    scenario = OPERATOR_V1


class TestIaasV1(HostileIds):
    scenario = IAAS_V1


class TestAdminOperators(HostileIds):
    scenario = ADMIN_OPERATORS


class TestPlatformAdmin(HostileIds):
    scenario = PLATFORM_ADMIN


class TestTenantsV1(HostileIds):
    scenario = TENANTS_V1

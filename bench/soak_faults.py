"""``python -m bench.soak_faults``: every dialect through 30 % injected faults, seed after seed.

For each built-in dialect and each seed, one sandbox fails that share of its
requests (drawn from the seed: 503 before the work, 500 after it, 429, a
connection dropped after the work) and serves the dialect's example specs in
two rounds of at most 3 applies each:

1. **create**: from empty (with what the API cannot make itself seeded);
2. **flip**: every status the API can move flipped (suspend or resume, disable or
   enable; never an operator holding the API's highest role, which the lockout
   guard protects) and every flag the API can update flipped. A dialect with
   nothing to flip shows ``-``.

A round ends at the first apply after which the target matches the specs (that
apply's own verifying read finds nothing left); ``*`` marks one that still exited
with an error, a call whose answer was lost after it landed. Then a calm restart of
the same database must plan no change, and the provider's read of it must find no
object twice. Prints a table, dialect x seed: the applies each round needed (``x``:
not within 3), the duplicates and the changes left; then why each failed seed
failed. Exits 1 when one did.

The applies run at the CLI's default parallelism, so which request meets which
fault depends on arrival order: a seed fixes the draws, not the interleaving.
Example::

    python -m bench.soak_faults --seeds 10 --rate 0.3
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from reconciler.errors import ReconcilerError
from reconciler.model import LIFECYCLE, Action, Kind
from reconciler.providers import provider_class
from reconciler.runs import ApplyRun
from reconciler.sandbox.faults import FaultConfig
from reconciler.testing.plugin import sandbox_starter
from reconciler.testing.workbench import Workbench

REPO = Path(__file__).resolve().parents[1]
TOKEN = "soak-token-SECRET"
MAX_APPLIES = 3


@dataclass(frozen=True)
class Scenario:
    """A dialect's specs, and what its sandbox starts with (what the API cannot create)."""

    specs: Path
    seed: Mapping[str, Any] | None = None


def _example(dialect: str) -> Scenario:
    root = REPO / "examples" / dialect
    data = root / ".sandbox" / "data.yaml"
    seed = yaml.safe_load(data.read_text(encoding="utf-8")) if data.is_file() else None
    return Scenario(root, seed)


SCENARIOS: dict[str, Scenario] = {
    "reference": Scenario(REPO / "specs"),
    **{
        name: _example(name)
        for name in ("operator-v1", "iaas-v1", "admin-operators", "platform-admin", "tenants-v1")
    },
}
"""Every built-in dialect, on the specs its docs show."""


@dataclass
class Round:
    """One round's applies: how many until the target matched the specs (None: not
    within the limit; 0: nothing to do), and whether that apply also exited ok."""

    applies: int | None = None
    clean: bool = True

    def cell(self) -> str:
        if self.applies is None:
            return "x"
        if self.applies == 0:
            return "-"
        return f"{self.applies}{'' if self.clean else '*'}"


@dataclass
class Outcome:
    """One dialect and seed: its rounds, objects found twice, changes left, why not."""

    dialect: str
    seed: int
    create: Round = field(default_factory=Round)
    flip: Round | None = None
    """None when the create round did not converge (the flip was not tried)."""
    duplicates: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    why: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        rounds = [self.create, self.flip]
        converged = all(r is not None and r.applies is not None for r in rounds)
        return converged and not self.duplicates and not self.left


# ---- the flip round -----------------------------------------------------------------------


def _flipped_status(kind: Kind, doc: dict[str, Any], dialect: str) -> bool:
    """Move ``doc``'s status to the other end of its lifecycle, where the API can."""
    capabilities = provider_class(dialect).capabilities
    support = capabilities.supports.get(kind)
    lifecycle = LIFECYCLE.get(kind)
    if support is None or lifecycle is None:
        return False
    admin = capabilities.admin_role
    if kind is Kind.OPERATOR and admin is not None and doc.get("role") == admin:
        return False  # the lockout guard keeps the highest role active
    now = doc.get(lifecycle.field, lifecycle.active)
    if now == lifecycle.active and Action.SUSPEND in support.operations:
        doc[lifecycle.field] = lifecycle.inactive
        return True
    if now == lifecycle.inactive and Action.RESUME in support.operations:
        doc[lifecycle.field] = lifecycle.active
        return True
    return False


def _flipped_flags(doc: dict[str, Any], dialect: str) -> bool:
    support = provider_class(dialect).capabilities.supports.get(Kind.FEATURE_FLAG)
    features = doc.get("features")
    if support is None or Action.UPDATE not in support.operations or not features:
        return False
    doc["features"] = {key: not value for key, value in features.items()}
    return True


def flip(workdir: Path, dialect: str) -> int:
    """Rewrite the spec files under ``workdir`` with statuses and flags flipped; how many
    documents changed (comments are not kept: the copy is the soak's own)."""
    changed = 0
    for path in sorted(workdir.rglob("*.yaml")):
        if path.name == "reconciler.yaml":
            continue
        docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
        touched = 0
        for doc in docs:
            kind = next((k for k in Kind if k.value == doc.get("kind")), None)
            if kind is None:
                continue
            moved = _flipped_status(kind, doc, dialect)
            flags = kind is Kind.TENANT and _flipped_flags(doc, dialect)
            touched += moved or flags
        if touched:
            path.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
            changed += touched
    return changed


# ---- one dialect, one seed ----------------------------------------------------------------


def _why_not(run: ApplyRun) -> list[str]:
    lines = []
    if run.result is not None:
        lines += [f"failed {rid}: {why}" for rid, why in run.result.failed.items()]
        lines += [f"skipped {rid}: {why}" for rid, why in run.result.skipped.items()]
    if run.remaining is None:
        lines.append("the verifying read failed")
    else:
        lines += [f"left: {c.action.value} {c.id}" for c in run.remaining.changes]
    return lines or ["not ok"]


def _round(bench: Workbench, why: list[str], applies: int) -> Round:
    """Apply until the target matches the specs, at most ``applies`` times."""
    for number in range(1, applies + 1):
        try:
            run = bench.apply(allow_mass_changes=True)
        except ReconcilerError as exc:  # a read that failed through every retry
            why.append(f"apply {number}: {exc}")
            continue
        if not run.ok:
            why += [f"apply {number}: {line}" for line in _why_not(run)]
        if run.converged:  # its own verifying read found nothing left
            return Round(number, clean=run.ok)
    return Round(None, clean=False)


def soak_one(
    dialect: str, seed: int, rate: float, root: Path, applies: int = MAX_APPLIES
) -> Outcome:
    """Both rounds for ``dialect`` through faults drawn from ``seed``, then the calm check.

    Needs ``RECONCILER_TOKEN`` set to :data:`TOKEN` (as :func:`main` does)."""
    scenario, outcome = SCENARIOS[dialect], Outcome(dialect, seed)
    with ExitStack() as stack:
        bench = Workbench(
            dialect, scenario.specs, root, sandbox_starter(stack, root, TOKEN), _no_cli
        )
        noisy = bench.serve(scenario.seed, faults=FaultConfig(rate=rate, seed=seed))
        outcome.create = _round(bench, outcome.why, applies)
        if outcome.create.applies is not None:
            flipped = flip(bench.workdir, dialect)
            outcome.flip = _round(bench, outcome.why, applies) if flipped else Round(0)
        noisy.stop()
        bench.serve(db_path=noisy.db_path)  # the same state, no faults
        outcome.left = [f"{c.action.value} {c.id}" for c in bench.plan().plan.changes]
        outcome.duplicates = sorted({str(a.id) for a, _ in bench.live().duplicates})
    return outcome


def _no_cli(args: Sequence[str], *, env: Mapping[str, str] | None = None) -> Any:
    raise RuntimeError("the soak drives the library API only")


# ---- the table ----------------------------------------------------------------------------


def table(outcomes: Sequence[Outcome]) -> str:
    """One line per dialect and seed, then the reasons of those that failed."""
    head = f"{'dialect':<16} {'seed':>4}  {'create':>6}  {'flip':>4}  {'duplicates':>10}  left"
    lines = [head, "-" * len(head)]
    for o in outcomes:
        flip_cell = o.flip.cell() if o.flip is not None else ""
        lines.append(
            f"{o.dialect:<16} {o.seed:>4}  {o.create.cell():>6}  {flip_cell:>4}  "
            f"{len(o.duplicates):>10}  {len(o.left)}"
        )
    failed = [o for o in outcomes if not o.ok]
    lines += [
        "",
        "applies until the target matched the specs; * that apply still exited 1 (an answer "
        "lost after its call landed); - nothing to flip; x not within "
        f"{MAX_APPLIES}",
        f"{len(outcomes) - len(failed)} of {len(outcomes)} converged within {MAX_APPLIES} "
        "applies a round, without duplicates.",
    ]
    for o in failed:
        lines.append(f"\n{o.dialect} seed {o.seed}:")
        lines += [f"  {line}" for line in [*o.why, *o.duplicates, *o.left]]
    return "\n".join(lines)


def _runs(dialects: Sequence[str], seeds: Sequence[int], rate: float) -> Iterator[Outcome]:
    for dialect in dialects:
        for seed in seeds:
            with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
                yield soak_one(dialect, seed, rate, Path(tmp))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak_faults", description=__doc__)
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (default 10)")
    parser.add_argument("--rate", type=float, default=0.3, help="share of faulted requests")
    parser.add_argument("--dialect", action="append", choices=sorted(SCENARIOS), default=None)
    args = parser.parse_args(argv)
    os.environ["RECONCILER_TOKEN"] = TOKEN
    dialects = args.dialect or list(SCENARIOS)
    outcomes = []
    for outcome in _runs(dialects, range(args.seeds), args.rate):
        outcomes.append(outcome)
        print(
            f"{outcome.dialect} seed {outcome.seed}: {'ok' if outcome.ok else 'FAILED'}",
            file=sys.stderr,
            flush=True,
        )
    print(f"Faults: {args.rate:.0%} of requests, seeds 0..{args.seeds - 1}\n")
    print(table(outcomes))
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())

"""A saved plan is lossless: ``load(dump(p)) == p`` for generated plans."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.engine.plan import Plan
from reconciler.errors import SourceLocation
from reconciler.model import Action, Change, FieldChange, Kind, Resource, ResourceId
from reconciler.planfile import dump_plan, load_plan, spec_tree
from tests.integration.helpers import copy_tree

NAMES = ["acme", "globex", "a b", "é", "x#y", "ünïcode", "%73so", "q?x=1"]
VALUES: list[Any] = [None, True, False, 0, 7, -1, 2.5, "", "text", "line\nbreak", [1, "a"], {}]


def value(rng: random.Random, depth: int = 0) -> Any:
    if depth < 2 and rng.random() < 0.3:
        return {rng.choice(NAMES): value(rng, depth + 1) for _ in range(rng.randint(0, 3))}
    return rng.choice(VALUES)


def rid(rng: random.Random) -> ResourceId:
    return ResourceId(rng.choice(list(Kind)), rng.choice(NAMES))


def location(rng: random.Random) -> SourceLocation | None:
    if rng.random() < 0.2:
        return None
    return SourceLocation(f"specs/{rng.choice(NAMES)}.yaml", rng.randint(1, 900), rng.randint(1, 9))


def resource(rng: random.Random, ident: ResourceId) -> Resource | None:
    if rng.random() < 0.25:
        return None
    fields = {f"f{i}": value(rng) for i in range(rng.randint(0, 4))}
    return Resource(
        ident,
        fields,
        server={"id": rng.choice(["1", "u-2", "../x"]), "at": "2026-11-30T00:00:00Z"},
        source=location(rng),
        field_sources={n: loc for n in fields if (loc := location(rng)) is not None},
        protect=rng.random() < 0.3,
        ignore_fields=frozenset(rng.sample(["f0", "f1", "configuration.region"], 2)),
    )


def generated(seed: int) -> Plan:
    rng = random.Random(seed)
    ids = list({rid(rng) for _ in range(rng.randint(0, 12))})
    changes = [
        Change(
            rng.choice([a for a in Action if a is not Action.NOOP]),
            ident,
            desired=resource(rng, ident),
            live=resource(rng, ident),
            fields=[FieldChange(f"f{i}.k", value(rng), value(rng)) for i in range(3)],
            reason=rng.choice(["", "not in specs; prune policy for Tenant is 'delete'"]),
            waits_for=frozenset(rng.sample(ids, min(len(ids), rng.randint(0, 2)))),
        )
        for ident in ids
    ]
    others = [rid(rng) for _ in range(6)]
    return Plan(
        changes=changes,
        unchanged=others[:2],
        unmanaged=others[2:4],
        desired_counts={k: rng.randint(1, 50) for k in rng.sample(list(Kind), 3)},
        live_counts={k: rng.randint(1, 50) for k in rng.sample(list(Kind), 3)},
        ignored={others[4]: ["display_name", "configuration.region"]},
        notes={others[5]: "suspended since 2026-11-01 00:00 UTC; deletion due …"},
        protected=["Tenant/acme is protected and would be suspended"] * rng.randint(0, 1),
        unsafe={others[0]: "its key holds '/'"} if rng.random() < 0.5 else {},
    )


@pytest.mark.parametrize("seed", range(60))
def test_a_plan_survives_the_file(seed: int) -> None:
    plan = generated(seed)
    text = json.dumps(dump_plan(plan), ensure_ascii=False)  # through JSON text, as on disk
    assert load_plan(json.loads(text)) == plan


def test_the_generator_covers_what_a_file_must_keep() -> None:
    """Guard against a generator that never produces the attributes the test is about."""
    plans = [generated(seed) for seed in range(60)]
    resources = [r for p in plans for c in p.changes for r in (c.desired, c.live) if r]
    assert any(r.protect for r in resources) and any(r.ignore_fields for r in resources)
    assert any(r.field_sources for r in resources)
    assert any(c.waits_for for p in plans for c in p.changes)
    assert any(p.unsafe for p in plans) and any(p.protected for p in plans)


def test_the_spec_tree_digest_covers_exactly_what_the_loader_reads(tmp_path: Path) -> None:
    """Same files, same digest wherever they are; any file the loader reads changes it."""
    repo = Path(__file__).resolve().parents[2]
    first, second = tmp_path / "a" / "specs", tmp_path / "b" / "specs"
    copy_tree(repo / "specs", first)
    copy_tree(repo / "specs", second)
    digest = spec_tree(first)
    assert digest is not None and digest == spec_tree(second)
    # not read by the loader: hidden files and directories, other suffixes
    (second / ".draft.yaml").write_text("kind: Tenant\n")
    (second / ".reconciler").mkdir(exist_ok=True)
    (second / ".reconciler" / "state.yaml").write_text("x: 1\n")
    (second / "NOTES.md").write_text("notes\n")
    assert spec_tree(second) == digest
    changes: list[Callable[[Path], object]] = [
        lambda d: (d / "reconciler.yaml").write_text((d / "reconciler.yaml").read_text() + "\n"),
        lambda d: (d / "plans.yaml").rename(d / "plans2.yaml"),
        lambda d: (d / "tenants" / "extra.yml").write_text("apiVersion: reconciler.dev/v1\n"),
    ]
    for number, change in enumerate(changes):
        changed = tmp_path / f"changed-{number}" / "specs"
        copy_tree(first, changed)
        change(changed)
        assert spec_tree(changed) not in (digest, None)
    assert spec_tree(tmp_path / "missing") is None
    single = spec_tree(first / "plans.yaml")  # one spec file: it and the reconciler.yaml beside it
    assert single is not None and single != digest

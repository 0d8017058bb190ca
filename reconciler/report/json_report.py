"""Plans and apply results as JSON documents, stable for machines and diffs."""

from __future__ import annotations

import json
from typing import Any

from reconciler.engine.plan import Plan
from reconciler.engine.results import ApplyResult
from reconciler.model import Change
from reconciler.report.values import counts, field_name, gone_with_owner, left_alone, reason_of
from reconciler.runs import ApplyRun, Review

FORMAT_VERSION = 2
"""The JSON report's ``format_version`` (docs/json-report.md): additions keep it, anything
else bumps it. 2: field paths as the specs write them (``displayName``)."""


def change_dict(change: Change) -> dict[str, Any]:
    return {
        "id": str(change.id),
        "kind": change.id.kind.value,
        "key": change.id.key,
        "action": change.action.value,
        "destructive": change.is_risky,
        "fields": [{"path": field_name(f.path), "old": f.old, "new": f.new} for f in change.fields],
        "reason": reason_of(change) or None,
        "source": str(change.desired.source) if change.desired and change.desired.source else None,
    }


def plan_dict(plan: Plan, target: dict[str, Any]) -> dict[str, Any]:
    """``destructive``: suspensions, deletions, deactivations and demotions, each counted once;
    ``unmanaged``: what is left alone; ``deleted_with_owner``: what goes with a deleted owner."""
    alone = left_alone(plan)
    return {
        "format_version": FORMAT_VERSION,
        "target": target,
        "summary": {a.value: n for a, n in counts(plan.changes).items()}
        | {
            "destructive": sum(1 for c in plan.changes if c.is_risky),
            "unchanged": len(plan.unchanged),
            "unmanaged": len(alone),
        },
        "changes": [change_dict(c) for c in plan.changes],
        "unmanaged": [str(r) for r in alone],
        "deleted_with_owner": {
            str(owner): [str(r) for r in ids] for owner, ids in gone_with_owner(plan).items()
        },
        "ignored": {
            str(r): [field_name(p) for p in paths] for r, paths in sorted(plan.ignored.items())
        },
        "notes": {str(r): note for r, note in sorted(plan.notes.items())},
        "unsafe": {str(r): why for r, why in sorted(plan.unsafe.items())},
        "external": [
            {
                "id": str(rid),
                "status": ref.status,
                "declared": str(ref.declared) if ref.declared is not None else None,
                "referred_by": [str(r.id) for r in ref.referrers],
            }
            for rid, ref in sorted(plan.external.items(), key=lambda item: str(item[0]))
        ],
    }


def apply_dict(result: ApplyResult, converged: bool) -> dict[str, Any]:
    """What an apply did: every change of its plan is in exactly one of ``applied``,
    ``failed``, ``skipped``, ``not_started`` and ``unknown``."""
    return {
        "applied": [str(r) for r in result.applied],
        "failed": {str(r): why for r, why in sorted(result.failed.items())},
        "skipped": {str(r): why for r, why in sorted(result.skipped.items())},
        "not_started": [str(r) for r in result.not_started],
        "unknown": {str(r): why for r, why in sorted(result.unknown.items())},
        "stopped": result.stopped,
        "verify_error": result.verify_error,
        "converged": converged,
    }


def apply_document(run: ApplyRun, target: dict[str, Any]) -> dict[str, Any]:
    """``apply --format json``: the plan that was applied, what happened, what is left."""
    document = plan_dict(run.planned.plan, target)
    document["approved"] = run.approved
    document["result"] = apply_dict(run.result, run.converged) if run.result is not None else None
    document["remaining"] = (
        [change_dict(c) for c in run.remaining.changes] if run.remaining is not None else None
    )
    document["ok"] = run.ok
    return document


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False, default=str)


def review_dict(review: Review, target: dict[str, Any]) -> dict[str, Any]:
    """A plan, and with base specs the PR's own changes and the drift, for machines."""
    document = plan_dict(review.run.plan, target)
    document["specs"] = review.spec_path
    preview = review.run.preview
    if preview is not None:
        document["calls"] = [
            {
                "change": c.change,
                "method": c.method,
                "path": c.path,
                "params": dict(c.params or {}),
                "body": c.body,
            }
            for c in preview.calls
        ]
        document["calls_unknown"] = preview.unknown
    if review.pr_changes is not None:
        document["base"] = review.base_label
        document["pr_changes"] = [change_dict(c) for c in review.pr_changes.changes]
        document["drift"] = [change_dict(c) for c in (review.drift.changes if review.drift else [])]
        document["reverted_by_apply"] = [str(c.id) for c in review.reverted]
    return document

"""``apply --format json``: the document on stdout, the human lines on stderr (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.integration.helpers import copy_specs, run_cli, target_args


def test_apply_as_json_reports_the_plan_the_result_and_what_is_left(
    sandbox: Any, tmp_path: Path
) -> None:
    specs = copy_specs(tmp_path)
    args = ["apply", str(specs), *target_args(sandbox), "--auto-approve", "--format", "json"]
    result = run_cli(args, sandbox.token)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)  # stdout is the document and nothing else
    assert document["format_version"] >= 2 and document["ok"] is True
    planned = {c["id"] for c in document["changes"]}
    done = document["result"]
    assert set(done["applied"]) == planned and done["converged"] is True
    assert done["failed"] == {} and done["not_started"] == [] and done["stopped"] is None
    assert document["remaining"] == []
    assert "Plan:" in result.stderr and sandbox.token not in result.output

    again = run_cli(args, sandbox.token)
    assert again.exit_code == 0, again.output
    nothing = json.loads(again.stdout)
    assert nothing["changes"] == [] and nothing["result"] is None and nothing["ok"] is True

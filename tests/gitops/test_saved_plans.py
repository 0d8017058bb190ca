"""``plan --out`` then ``apply PLAN``: exactly what was reviewed, or nothing at all."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler import planfile
from reconciler.engine.plan import Plan
from reconciler.errors import ConfigError
from reconciler.model import State
from reconciler.planfile import spec_tree
from reconciler.targets import RetryPolicy, Target
from tests.integration.helpers import api, copy_specs, run_cli, target_args, writes


def by_name(client: Any, path: str) -> dict[str, Any]:
    return {i.get("name") or i.get("email"): i for i in client.get(path).json()["items"]}


def test_a_saved_plan_applies_exactly_and_holds_no_secret(sandbox: Any, tmp_path: Path) -> None:
    specs = copy_specs(tmp_path)
    out = tmp_path / "plan.json"
    made = run_cli(["plan", str(specs), *target_args(sandbox), "--out", str(out)], sandbox.token)
    assert made.exit_code == 0, made.output
    text = out.read_text()
    assert sandbox.token not in text
    saved = json.loads(text)
    assert saved["format"] == "reconciler-plan"
    assert saved["target"]["token_env"] == "RECONCILER_TOKEN"
    assert saved["spec_tree"] == spec_tree(specs) and saved["spec_tree"].startswith("sha256:")
    assert len(saved["plan"]["changes"]) == 21

    # files the loader never reads may change: the plan was still made from these specs
    (specs / "README.md").write_text("notes\n")
    (specs / ".draft.yaml").write_text("kind: Tenant\n")
    applied = run_cli(["apply", str(out), "--auto-approve"], sandbox.token)
    assert applied.exit_code == 0, applied.output
    assert "21 applied" in applied.stdout
    with api(sandbox) as client:
        assert "globex" in by_name(client, "/tenants")


def test_a_saved_plan_is_refused_once_the_specs_differ(sandbox: Any, tmp_path: Path) -> None:
    """Applied only from the very specs it was made from: a spec or reconciler.yaml edit refuses."""
    specs = copy_specs(tmp_path)
    out = tmp_path / "plan.json"
    made = run_cli(["plan", str(specs), *target_args(sandbox), "--out", str(out)], sandbox.token)
    assert made.exit_code == 0, made.output
    globex = specs / "tenants" / "globex.yaml"
    kept = globex.read_text()
    config = specs / "reconciler.yaml"

    def refused_while(edit: Callable[[], object]) -> None:
        edit()
        refused = run_cli(["apply", str(out), "--auto-approve"], sandbox.token)
        assert refused.exit_code == 1
        assert f"the specs at '{specs}' are not those it was made from" in refused.stderr
        assert "nothing was applied" in refused.stderr
        assert writes(sandbox.db_path) == [], "refused before any call"

    refused_while(globex.unlink)  # a spec file gone
    globex.write_text(kept)
    refused_while(lambda: config.write_text(config.read_text() + "# a comment\n"))
    moved = tmp_path / "elsewhere"
    specs.rename(moved)
    gone = run_cli(["apply", str(out), "--auto-approve"], sandbox.token)
    assert gone.exit_code == 1 and f"the specs it was made from are not at '{specs}'" in gone.stderr


def test_a_plan_file_of_the_previous_format_is_refused(sandbox: Any, tmp_path: Path) -> None:
    specs = copy_specs(tmp_path)
    out = tmp_path / "plan.json"
    run_cli(["plan", str(specs), *target_args(sandbox), "--out", str(out)], sandbox.token)
    document = json.loads(out.read_text())
    document["format_version"] = 2
    del document["spec_tree"]
    out.write_text(json.dumps(document))
    refused = run_cli(["apply", str(out), "--auto-approve"], sandbox.token)
    assert refused.exit_code == 1 and "make the plan again" in refused.stderr
    assert writes(sandbox.db_path) == []


def test_a_saved_plan_keeps_how_fast_its_target_may_be_called(tmp_path: Path) -> None:
    """``maxParallelism``, ``maxRequestsPerSecond`` and ``retries`` go into the file and
    come back from it (apply on merge applies the file), and forged values are refused."""
    target = Target(
        name="remote",
        dialect="reference",
        url="https://api.example.com",
        max_parallelism=7,
        max_requests_per_second=2.5,
        retries=RetryPolicy(attempts=2, backoff=0.5, max_backoff=3.0, budget=30.0),
    )
    out = tmp_path / "plan.json"
    planfile.write(out, planfile.dump(Plan(), target, State(), State(), str(tmp_path)))
    loaded = planfile.load(out).target
    assert (loaded.max_parallelism, loaded.max_requests_per_second) == (7, 2.5)
    assert loaded.retries == target.retries

    document = json.loads(out.read_text())
    for key, forged in [
        ("parallelism", 10**6),
        ("max_parallelism", 10**6),
        ("max_parallelism", "7"),
        ("max_requests_per_second", 0),
        ("max_requests_per_second", float("inf")),
        ("retries", {"attempts": 0, "backoff": 0.5, "maxBackoff": 3.0, "budget": 30.0}),
        ("retries", {"attempts": 2}),
    ]:
        out.write_text(json.dumps({**document, "target": {**document["target"], key: forged}}))
        with pytest.raises(ConfigError, match="damaged saved plan"):
            planfile.load(out)


def test_a_hand_change_after_the_plan_makes_apply_refuse(sandbox: Any, tmp_path: Path) -> None:
    specs = copy_specs(tmp_path)
    args = target_args(sandbox)
    assert run_cli(["apply", str(specs), *args, "--auto-approve"], sandbox.token).exit_code == 0
    edited = (
        (specs / "tenants" / "acme.yaml")
        .read_text()
        .replace("displayName: Acme Corporation", "displayName: Acme Corp")
    )
    (specs / "tenants" / "acme.yaml").write_text(edited)
    out = tmp_path / "plan.json"
    assert run_cli(["plan", str(specs), *args, "--out", str(out)], sandbox.token).exit_code == 0

    with api(sandbox) as client:  # someone changes the platform by hand
        globex = by_name(client, "/tenants")["globex"]
        client.patch(f"/tenants/{globex['id']}", json={"display_name": "Hand made"})
    before = len(writes(sandbox.db_path))
    refused = run_cli(["apply", str(out), "--auto-approve"], sandbox.token)
    assert refused.exit_code == 1
    assert "the live state changed since" in refused.stderr
    assert "Tenant/globex: changed since the plan was made" in refused.stderr
    assert "Traceback" not in refused.output
    assert len(writes(sandbox.db_path)) == before, "nothing may be applied"


def test_a_saved_plan_needs_its_token_and_is_not_a_spec_tree(sandbox: Any, tmp_path: Path) -> None:
    specs = copy_specs(tmp_path)
    out = tmp_path / "plan.json"
    run_cli(["plan", str(specs), *target_args(sandbox), "--out", str(out)], sandbox.token)
    no_token = run_cli(["apply", str(out), "--auto-approve"])
    assert no_token.exit_code == 1
    assert "set RECONCILER_TOKEN" in no_token.stderr
    both = run_cli(["apply", str(out), *target_args(sandbox), "--auto-approve"], sandbox.token)
    assert both.exit_code != 0 and "saved plan names its own target" in both.output


def test_show_calls_lists_the_writes_without_sending_them(sandbox: Any, tmp_path: Path) -> None:
    specs = copy_specs(tmp_path)
    args = target_args(sandbox)
    assert run_cli(["apply", str(specs), *args, "--auto-approve"], sandbox.token).exit_code == 0
    acme = specs / "tenants" / "acme.yaml"
    acme.write_text(acme.read_text().replace("Acme Corporation", "Acme Group"))
    (specs / "new.yaml").write_text(
        "apiVersion: reconciler.dev/v1\nkind: Tenant\nname: newco\nparent: acme\n"
        "features: {sso: true}\n"
    )
    before = len(writes(sandbox.db_path))
    result = run_cli(["plan", str(specs), *args, "--show-calls"], sandbox.token)
    assert result.exit_code == 0, result.output
    assert len(writes(sandbox.db_path)) == before, "a preview sends no write"
    out = result.stdout
    with api(sandbox) as client:
        acme_id = by_name(client, "/tenants")["acme"]["id"]
    assert f'PATCH /api/v1/operator/tenants/{acme_id} {{"display_name": "Acme Group"}}' in out
    assert f'POST /api/v1/operator/tenants {{"name": "newco", "parent_id": "{acme_id}"}}' in out
    assert (
        'POST /api/v1/operator/tenants/<new-1>/feature-flags {"enabled": true, "key": "sso"}' in out
    )
    document = json.loads(
        run_cli(
            ["plan", str(specs), *args, "--show-calls", "--format", "json"], sandbox.token
        ).stdout
    )
    assert [(c["change"], c["method"]) for c in document["calls"]] == [
        ("Tenant/acme", "PATCH"),
        ("Tenant/newco", "POST"),
        ("FeatureFlag/newco/sso", "POST"),
    ]


def test_sensitive_values_are_masked_in_previews() -> None:
    from reconciler.providers.preview import mask

    assert mask({"email": "a@b.c", "password": "hunter2", "nested": [{"api_key": "k"}]}) == {
        "email": "a@b.c",
        "password": "***",
        "nested": [{"api_key": "***"}],
    }


def test_a_saved_plan_keeps_the_specs_rules_through_apply_and_verify(
    sandbox: Any, tmp_path: Path
) -> None:
    """ignoreFields of a spec hold when the plan file is applied and verified."""
    specs = copy_specs(tmp_path)
    args = target_args(sandbox)
    assert run_cli(["apply", str(specs), *args, "--auto-approve"], sandbox.token).exit_code == 0
    with api(sandbox) as client:  # the display name is left to hand from now on
        acme = by_name(client, "/tenants")["acme"]
        client.patch(f"/tenants/{acme['id']}", json={"display_name": "Set by hand"})
    acme_spec = specs / "tenants" / "acme.yaml"
    acme_spec.write_text(
        acme_spec.read_text().replace(
            "displayName: Acme Corporation\n",
            "displayName: Acme Corporation\nignoreFields: [displayName]\n",
            1,
        )
    )
    globex = specs / "tenants" / "globex.yaml"
    globex.write_text(globex.read_text().replace("displayName: Globex", "displayName: Globex Inc"))
    out = tmp_path / "plan.json"
    made = run_cli(["plan", str(specs), *args, "--out", str(out)], sandbox.token)
    assert made.exit_code == 0, made.output
    assert "Tenant/globex" in made.stdout and "~ Tenant/acme" not in made.stdout
    applied = run_cli(["apply", str(out), "--auto-approve"], sandbox.token)
    assert applied.exit_code == 0, applied.output
    assert "Not converged" not in applied.output
    with api(sandbox) as client:
        assert by_name(client, "/tenants")["acme"]["display_name"] == "Set by hand"

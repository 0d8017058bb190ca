"""Live objects no call can name are shown in every report format, never written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.integration.helpers import api, copy_specs, run_cli, target_args, writes

HOSTILE_KEY = "../../users/x"


def test_unsafe_objects_are_listed_in_text_json_and_markdown(sandbox: Any, tmp_path: Path) -> None:
    specs = copy_specs(tmp_path)
    args = target_args(sandbox)
    assert run_cli(["apply", str(specs), *args, "--auto-approve"], sandbox.token).exit_code == 0
    with api(sandbox) as client:  # a flag made by someone else's script, with a key no path holds
        acme = next(t for t in client.get("/tenants").json()["items"] if t["name"] == "acme")
        made = client.post(
            f"/tenants/{acme['id']}/feature-flags", json={"key": HOSTILE_KEY, "enabled": True}
        )
        assert made.status_code == 201, made.text
    config = specs / "reconciler.yaml"
    config.write_text(config.read_text().replace("FeatureFlag: ignore", "FeatureFlag: delete"))
    rid = f"FeatureFlag/acme/{HOSTILE_KEY}"

    text = run_cli(["plan", str(specs), *args], sandbox.token)
    assert text.exit_code == 0, text.output
    assert f"{rid}: cannot be managed safely" in text.stdout
    assert "0 to delete" in text.stdout

    as_json = run_cli(["plan", str(specs), *args, "--format", "json"], sandbox.token)
    document = json.loads(as_json.stdout)
    assert "'/'" in document["unsafe"][rid]
    assert rid not in [c["id"] for c in document["changes"]]

    markdown = run_cli(["plan", str(specs), *args, "--format", "markdown"], sandbox.token)
    assert "Cannot be managed safely, left untouched" in markdown.stdout
    assert "FeatureFlag/acme/" in markdown.stdout

    before = len(writes(sandbox.db_path))
    applied = run_cli(["apply", str(specs), *args, "--auto-approve"], sandbox.token)
    assert applied.exit_code == 0, applied.output
    assert writes(sandbox.db_path)[before:] == []
    with api(sandbox) as client:
        keys = [
            f["key"] for f in client.get(f"/tenants/{acme['id']}/feature-flags").json()["items"]
        ]
    assert HOSTILE_KEY in keys

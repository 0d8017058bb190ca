"""`api: {dialect, options}` in reconciler.yaml: typed per dialect, problems at file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import SpecError
from reconciler.options.reference import ReferenceOptions
from reconciler.options.tenants_v1 import TenantsV1Options
from reconciler.planfile import _target
from reconciler.spec import load_config

HEAD = "apiVersion: reconciler.dev/v1\ntargets:\n"


def write(tmp_path: Path, targets: str) -> Path:
    (tmp_path / "reconciler.yaml").write_text(HEAD + targets)
    return tmp_path


def problems(tmp_path: Path, targets: str) -> str:
    with pytest.raises(SpecError) as caught:
        load_config(write(tmp_path, targets))
    return str(caught.value)


def test_the_plain_form_stays_and_means_the_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "  t: {api: tenants-v1, url: https://x.example}\n"))
    assert config.targets["t"].dialect == "tenants-v1"
    assert config.targets["t"].options is None


def test_options_reach_the_target_typed(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            "  t:\n"
            "    api:\n"
            "      dialect: tenants-v1\n"
            "      options: {configurationRequestWrapper: settings}\n"
            "    url: https://x.example\n",
        )
    )
    options = config.targets["t"].options
    assert isinstance(options, TenantsV1Options)
    assert options.configuration_request_wrapper == "settings"
    assert options.configuration_response_wrapper == "configuration"  # the default


def test_an_empty_mapping_form_is_the_defaults(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, "  t: {api: {dialect: reference}, url: https://x.example}\n")
    )
    assert config.targets["t"].dialect == "reference"
    assert config.targets["t"].options == ReferenceOptions()


def test_an_unknown_option_is_placed_with_did_you_mean(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "  t:\n"
        "    api:\n"
        "      dialect: tenants-v1\n"
        "      options:\n"
        "        configurationRequestWraper: settings\n"
        "    url: https://x.example\n",
    )
    assert "reconciler.yaml:7:9: tenants-v1 options: unknown field " in found
    assert "did you mean 'configurationRequestWrapper'?" in found


def test_a_wrong_type_is_placed_at_the_value(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "  t:\n"
        "    api: {dialect: tenants-v1, options: {configurationResponseWrapper: 5}}\n"
        "    url: https://x.example\n",
    )
    assert "reconciler.yaml:4:72:" in found
    assert "'configurationResponseWrapper' must be a string, not the number 5" in found


def test_an_unknown_dialect_is_placed_with_did_you_mean(tmp_path: Path) -> None:
    found = problems(tmp_path, "  a: {api: {dialect: tenant-v1}, url: https://x.example}\n")
    assert "reconciler.yaml:3:22: unknown API dialect 'tenant-v1'" in found
    assert "did you mean 'tenants-v1'?" in found


def test_a_misspelt_key_of_api(tmp_path: Path) -> None:
    found = problems(
        tmp_path, "  b: {api: {dialect: tenants-v1, option: {}}, url: https://x.example}\n"
    )
    assert "reconciler.yaml:3:34: unknown field 'targets.b.api.option'" in found
    assert "(did you mean 'options'?)" in found
    assert "must be a string, not a mapping" not in found  # only the mapping's errors


def test_a_plain_api_of_the_wrong_type_says_one_thing(tmp_path: Path) -> None:
    found = problems(tmp_path, "  t: {api: 5, url: https://x.example}\n")
    assert "'targets.t.api' must be a string, not the number 5" in found
    assert "ApiSpec" not in found and found.count("\n") == 0


def test_options_go_into_a_saved_plan(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            "  t: {api: {dialect: tenants-v1, options: {configurationResponseWrapper: null}},"
            " url: https://x.example}\n",
        )
    )
    dumped = _target(config.targets["t"])
    written = TenantsV1Options.model_validate({"configurationResponseWrapper": None})
    assert dumped["options"] == written.as_data()  # every option, defaults included
    assert dumped["options"]["configurationResponseWrapper"] is None

"""leadbridge.toml: every wrong or missing key is named, before any call is made."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from flow_helpers import Setup

from leadbridge.flows.config import ConfigError, load_config, parse_config

MINIMAL = {
    "leeloo": {"token": "t"},
    "dialog": {"login": "demo", "password": "p"},
    "flows": {"call-leads": {"project_id": 1, "start_block_id": 10, "phone_id": 5}},
}


def test_a_minimal_file_gets_the_documented_defaults() -> None:
    config = parse_config(MINIMAL, environ={})
    section = config.flows.call_leads
    assert section is not None and section.batch_size == 1000 and section.add_data == {"name": "name",
                                                                                        "person_id": "id"}
    assert config.ledger.url.startswith("sqlite:///") and config.phones.default_region == "RU"
    assert config.enabled_flows() == ["call-leads"]


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["flows"]["call-leads"].update(batch_sise=5), "flows.call-leads.batch_sise: unknown key"),
    (lambda d: d["flows"]["call-leads"].pop("project_id"), "flows.call-leads.project_id: missing"),
    (lambda d: d["flows"]["call-leads"].update(attempts=9), "flows.call-leads.attempts: Input should be less"),
    (lambda d: d["flows"]["call-leads"].update(last_message_within="soon"), "flows.call-leads.last_message_within"),
    (lambda d: d["flows"]["call-leads"].update(add_data={"x": "surname"}), "add_data.x: 'surname' is not"),
    (lambda d: d["leeloo"].pop("token"), "leeloo.token: missing (or set LEADBRIDGE_LEELOO_TOKEN)"),
    (lambda d: d["dialog"].pop("password"), "dialog: Value error, give either token, or login and password"),
    (lambda d: d.update(schedule={"every": "often"}), "schedule.every"),
    (lambda d: d["flows"].update({"call-results": {"scenario_id": 1, "outcomes": {"answered": {"status": "OK"}}}}),
     "flows.call-results.outcomes.answered.status"),
])
def test_each_mistake_is_named(change: Callable[[dict[str, object]], object], message: str) -> None:
    import copy

    data = copy.deepcopy(MINIMAL)
    change(data)  # type: ignore[arg-type]
    with pytest.raises(ConfigError) as error:
        parse_config(data, environ={})
    assert message in str(error.value)


def test_secrets_come_from_the_environment_and_never_show() -> None:
    data = {**MINIMAL, "leeloo": {}, "dialog": {"login": "demo", "password": "env:DIALOG_SECRET"}}
    config = parse_config(data, environ={"LEADBRIDGE_LEELOO_TOKEN": "s3cr3t-token", "DIALOG_SECRET": "pa55"})
    assert config.leeloo is not None and config.leeloo.token.get_secret_value() == "s3cr3t-token"
    assert config.dialog is not None and config.dialog.password is not None
    assert config.dialog.password.get_secret_value() == "pa55"
    assert "s3cr3t" not in repr(config) and "pa55" not in repr(config) and "pa55" not in str(config)
    with pytest.raises(ConfigError, match=r"dialog\.password: environment variable DIALOG_SECRET is not set"):
        parse_config(data, environ={"LEADBRIDGE_LEELOO_TOKEN": "x"})


def test_missing_file_and_broken_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[leeloo\ntoken = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken)


def test_a_flow_without_its_platform_is_refused() -> None:
    data = {"flows": {"revenue-to-neiros": {}}, "leeloo": {"token": "t"}}
    config = parse_config(data, environ={})
    with pytest.raises(ConfigError, match=r"revenue-to-neiros needs the \[neiros\] section"):
        config.require("revenue-to-neiros")


def test_cli_reports_a_bad_key_before_any_call(setup: Setup, cli: Callable[..., subprocess.CompletedProcess[str]]
                                               ) -> None:
    path = setup.write_config(replace={"batch_size = 25": "batch_size = 25\nbatchsize = 3"})
    before = setup.last_request_id()
    result = cli("run", "--all", "--config", str(path))
    assert result.returncode == 2
    assert "flows.call-leads.batchsize: unknown key" in result.stdout
    assert setup.last_request_id() == before, "a call was made despite the bad configuration"


def test_cli_unknown_tag_stops_that_flow_only(setup: Setup, cli: Callable[..., subprocess.CompletedProcess[str]]
                                              ) -> None:
    path = setup.write_config(replace={'queued_tag = "в обзвоне"': 'queued_tag = "нет такого"'})
    result = cli("run", "call-leads", "deals-to-leeloo", "--config", str(path))
    assert result.returncode == 1
    assert "flows.call-leads.queued_tag: no Leeloo tag named 'нет такого'" in result.stdout
    assert setup.requests("/api/campaigns") == []
    assert setup.requests("/api/v2/calls"), "deals-to-leeloo should still have run"

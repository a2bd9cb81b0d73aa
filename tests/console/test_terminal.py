"""The terminal, read as a person reads it: help, 80-column tables, grouped messages, --json, watch's period."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from leadbridge.cli import app
from leadbridge.flows.demo import demo_config
from leadbridge.flows.engine import FlowReport
from leadbridge.flows.ledger import Ledger, NewUnit
from leadbridge.flows.runner import group_messages, render_reports, render_status

runner = CliRunner()


def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "leadbridge.toml"
    path.write_text(demo_config("http://127.0.0.1:9", f"sqlite:///{tmp_path / 'ledger.sqlite3'}",
                                "5e1f119d6c384804b31e945e", None), encoding="utf-8")
    return path


def test_help_shows_flags_without_value_placeholders() -> None:
    result = runner.invoke(app, ["flows", "run", "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert "--dry-run" in result.output and "--json" in result.output
    assert "<bool>" not in result.output


def test_status_table_fits_80_columns_with_whole_headers(tmp_path: Path) -> None:
    with Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite3'}") as ledger:
        ledger.add_units("revenue-to-neiros", "person", [NewUnit("p1", {"total": 1}, state="skipped",
                                                                 error="no phone")])
        ledger.add_units("call-leads", "lead", [NewUnit(f"p{i}", {}) for i in range(1234)])
        console = Console(width=80, record=True, color_system=None)
        render_status(console, ledger)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    header = next(line for line in text.splitlines() if "pending" in line)
    for state in ("pending", "claimed", "done", "failed", "skipped", "uncertain"):
        assert state in header
    assert "…" not in header
    assert "1,234" in text


def test_repeated_messages_are_grouped_with_a_count_and_a_pointer() -> None:
    report = FlowReport("revenue-to-neiros")
    for n in range(18):
        report.note("warning", f"person 59bbc6415c9869bee3397c{n:02d}: no phone number")
    report.note("error", "Neiros refused deal 17: 422")
    assert group_messages(report.messages)[0][2] == 18
    console = Console(width=120, record=True, color_system=None)
    render_reports(console, [report])
    lines = [line for line in console.export_text().splitlines() if "no phone number" in line]
    assert len(lines) == 1
    assert "17 more like it" in lines[0] and "leadbridge flows status" in lines[0]


def test_status_json_is_machine_readable(tmp_path: Path) -> None:
    path = config_file(tmp_path)
    with Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite3'}") as ledger:
        ledger.add_units("call-leads", "lead", [NewUnit("p1", {}), NewUnit("p2", {}, state="skipped", error="x")])
    result = runner.invoke(app, ["flows", "status", "--json", "--config", str(path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["units"] == [{"flow": "call-leads", "kind": "lead", "pending": 1, "claimed": 0, "done": 0,
                              "failed": 0, "skipped": 1, "uncertain": 0}]


def test_watch_refuses_a_zero_period(tmp_path: Path) -> None:
    result = runner.invoke(app, ["flows", "watch", "--every", "0s", "--config", str(config_file(tmp_path))])
    assert result.exit_code == 2
    assert "at least 1s" in result.output

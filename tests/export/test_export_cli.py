"""`leadbridge export` refuses a wrong configuration before any call, naming the key; secrets stay hidden."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rich.console import Console

from leadbridge.export.pipeline import ExportResult, render_export

CONFIG = """
[leeloo]
token = "t"
base_url = "http://127.0.0.1:9"

[export]
{export}
"""


def run(tmp_path: Path, export: str, *args: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "leadbridge.toml"
    config.write_text(CONFIG.format(export=export), encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "leadbridge.cli", "export", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)


def test_an_unknown_export_key_is_named(tmp_path: Path) -> None:
    done = run(tmp_path, 'destinaton = "duckdb:///x.duckdb"')
    assert done.returncode == 2
    assert "export.destinaton: unknown key" in done.stdout


def test_a_bad_value_and_an_unknown_platform_are_named(tmp_path: Path) -> None:
    done = run(tmp_path, "concurrency = 0")
    assert done.returncode == 2 and "export.concurrency" in done.stdout
    done = run(tmp_path, "", "--platform", "amocrm")
    assert done.returncode == 2 and "--platform: amocrm" in done.stdout
    done = run(tmp_path, 'destination = "mysql://db/warehouse"')
    assert done.returncode == 2 and "export.destination" in done.stdout


def test_the_summary_hides_the_warehouse_password() -> None:
    console = Console(record=True, width=200)
    render_export(console, ExportResult("postgresql://loader:s3cret-pw@db.internal:5432/dw", "leadbridge",
                                        {"people": 3}, 1.5))
    flat = "".join(console.export_text().split())  # the title may wrap anywhere
    assert "s3cret-pw" not in flat and "loader:***@db.internal" in flat and "people" in flat

"""docs/flows.md's example configuration runs against the sandbox, after making its tags as the docs show."""

from __future__ import annotations

import io
import re
import shlex
import tomllib
from pathlib import Path

import httpx
from rich.console import Console

from http_clients import TIMEOUT
from leadbridge.flows.config import parse_config
from leadbridge.flows.runner import run_flows
from leadbridge.sandbox.server import serve_in_thread
from leadbridge.sandbox.state import MEMORY_URL, Sandbox

DOC = Path(__file__).resolve().parents[2] / "docs" / "flows.md"
DOC_SANDBOX_URL = "http://127.0.0.1:8765"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_the_example_runs_against_the_sandbox_after_its_tags_are_made(tmp_path: Path) -> None:
    example = next(b for b in blocks("toml") if "[flows.call-leads]" in b)
    sandbox_sections = next(b for b in blocks("toml") if b.lstrip().startswith("[leeloo]") and "demo" in b)
    tag_loop = next(line for block in blocks("bash") for line in block.splitlines() if line.startswith("for tag in"))
    tag_names = shlex.split(tag_loop.removeprefix("for tag in ").split(";")[0])

    with serve_in_thread(Sandbox(MEMORY_URL, seed=1, people=200)) as running:
        # As the docs show: POST /_sandbox/tags for each tag name of the loop.
        for name in tag_names:
            response = httpx.post(running.url + "/_sandbox/tags", json={"name": name}, timeout=TIMEOUT)
            assert response.status_code == 200, response.text
        data = tomllib.loads(example)
        data.update(tomllib.loads(sandbox_sections.replace(DOC_SANDBOX_URL, running.url)))
        data["ledger"]["url"] = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
        config = parse_config(data, environ={})
        reports = run_flows(config, config.enabled_flows(), console=Console(file=io.StringIO()),
                            show_progress=False)
    assert [r.flow for r in reports] == ["call-leads", "call-results", "deals-to-leeloo", "revenue-to-neiros"]
    for report in reports:
        assert report.counts["stopped by an error"] == 0, (report.flow, report.messages)

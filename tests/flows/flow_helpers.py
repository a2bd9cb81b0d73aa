"""Helpers of the flow tests: a sandbox with the demo's tags, configurations pointing at it, its request log.

Effects are checked through the platforms' APIs and the sandbox's request log, never
through the flows' own ledger (except where a test is about the ledger's verdicts).
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.parse
from pathlib import Path
from typing import Any

import httpx

from leadbridge.flows.config import Config, load_config
from leadbridge.flows.demo import _prepare_sandbox, demo_config
from leadbridge.sandbox.server import RunningSandbox

LEELOO_TOKEN = "demo-leeloo-token"


class Setup:
    """A sandbox plus helpers to write configurations and read its request log."""

    def __init__(self, running: RunningSandbox, folder: Path) -> None:
        self.running = running
        self.url = running.url
        self.folder = folder
        self.leadgentool, self.template = _prepare_sandbox(running.sandbox)
        self.control = httpx.Client(base_url=running.url, timeout=60)
        self.leeloo = httpx.Client(base_url=running.url, timeout=60, headers={"X-Leeloo-AuthToken": LEELOO_TOKEN})
        token = self.control.post("/api/userapi/v1/auth/login",
                                  json={"email": "demo@neiros.local", "password": "demo"}).json()["token"]
        self.neiros = httpx.Client(base_url=running.url, timeout=60, headers={"Authorization": f"Bearer {token}"})

    def config_text(self, ledger_url: str | None = None, replace: dict[str, str] | None = None) -> str:
        text = demo_config(self.url, ledger_url or f"sqlite:///{self.folder / 'ledger.sqlite3'}", self.leadgentool,
                           self.template)
        for old, new in (replace or {}).items():
            assert old in text, old
            text = text.replace(old, new)
        return text

    def write_config(self, ledger_url: str | None = None, replace: dict[str, str] | None = None,
                     name: str = "leadbridge.toml") -> Path:
        path = self.folder / name
        path.write_text(self.config_text(ledger_url, replace), encoding="utf-8")
        return path

    def config(self, ledger_url: str | None = None, replace: dict[str, str] | None = None) -> Config:
        return load_config(self.write_config(ledger_url, replace))

    def requests(self, path: str, method: str = "POST", ok_only: bool = True) -> list[dict[str, Any]]:
        entries = self.control.get("/_sandbox/requests",
                                   params={"path": path, "method": method, "limit": 100_000}).json()["data"]
        return [e for e in entries if e["status"] < 400 or not ok_only]

    def last_request_id(self) -> int:
        return int(self.control.get("/_sandbox/requests", params={"limit": 1}).json()["last_id"])

    def advance(self, seconds: float) -> None:
        self.control.post("/_sandbox/clock/advance", json={"seconds": seconds}).raise_for_status()

    def close(self) -> None:
        for client in (self.control, self.leeloo, self.neiros):
            client.close()


def form(body: Any) -> dict[str, str]:
    """A logged form-data or urlencoded body as a dict (JSON bodies come back decoded already)."""
    if isinstance(body, dict):
        return {k: str(v) for k, v in body.items()}
    if isinstance(body, str) and "Content-Disposition" in body:
        fields = {}
        for part in body.split("Content-Disposition: form-data; name=\"")[1:]:
            name, _, rest = part.partition('"')
            fields[name] = rest.strip().split("\r\n--")[0].strip()
        return fields
    return {k: v[0] for k, v in urllib.parse.parse_qs(str(body or "")).items()}


def run_cli(*args: str, timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``leadbridge flows …`` in a child process, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "leadbridge.flows.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "COLUMNS": "200", **(env or {})})


def dialog_rows(setup: Setup) -> list[dict[str, Any]]:
    """Every dialog of every campaign the flows asked reports for, read through the Dialog API."""
    token = setup.control.post("/api/login", json={"login": "demo", "password": "demo"}).json()["token"]
    campaign_ids = {r["body"]["analytics_filter"]["outgoing_campaign_id"]
                    for r in setup.requests("/api/analytics/1/report")}
    rows: list[dict[str, Any]] = []
    for campaign_id in sorted(campaign_ids):
        answer = setup.control.post("/api/analytics/1/report", headers={"Authorization": f"Bearer {token}"}, json={
            "analytics_filter": {"scenario_id": 951, "start_block_id": 10, "outgoing_campaign_id": campaign_id,
                                 "date_start": "2000-01-01T00:00:00.000Z", "date_end": "2100-01-01T00:00:00.000Z"}})
        rows.extend(answer.json()["data"])
    return rows


def matching_phones(setup: Setup) -> set[str]:
    """E.164 phones of the people call-leads selects with ``tags = []`` (every person with a phone)."""
    from leadbridge.flows.phones import normalise

    phones: set[str] = set()
    for p in every_person(setup, [("filter[last_message][from]", "2010-01-01"),
                                  ("filter[last_message][to]", "2100-01-01")]):
        if e := normalise(p.get("phone")).e164:
            phones.add(e)
    return phones


def every_person(setup: Setup, params: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Every person the filters select, page by page (Leeloo serves at most 100 a page)."""
    people: list[dict[str, Any]] = []
    while True:
        page = setup.leeloo.get("/api/v2/people", params=[*params, ("limit", "100"),
                                                          ("offset", str(len(people)))]).json()["data"]
        people.extend(page)
        if len(page) < 100:
            return people



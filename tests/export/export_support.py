"""Helpers of the export tests: the configuration, a Dialog campaign, and the API's own numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from leadbridge.flows.config import Config, load_config
from leadbridge.flows.phones import normalise
from leadbridge.sandbox.seed import TENANTS
from leadbridge.sandbox.server import RunningSandbox
from leadbridge.sdk import Dialog, Leeloo, Neiros

TENANT = TENANTS[0]


def config_text(base_url: str, destination: str, pipelines_dir: Path, campaigns: list[int],
                dataset: str = "leadbridge") -> str:
    return f"""
[leeloo]
token = "{TENANT.leeloo_token}"
base_url = "{base_url}"

[neiros]
email = "{TENANT.neiros_email}"
password = "{TENANT.neiros_password}"
base_url = "{base_url}"

[dialog]
login = "{TENANT.dialog_login}"
password = "{TENANT.dialog_password}"
base_url = "{base_url}"

[export]
destination = "{destination}"
dataset = "{dataset}"
pipelines_dir = "{pipelines_dir}"
concurrency = 2

[export.dialog]
campaigns = {campaigns}
from_ledger = false
project_id = {TENANT.dialog_project_id}
scenario_id = {TENANT.dialog_scenario_id}
start_block_id = {TENANT.dialog_start_block_id}
"""


@dataclass
class ExportSetup:
    platform: RunningSandbox
    folder: Path

    def __post_init__(self) -> None:
        url = self.platform.url
        self.leeloo = Leeloo(TENANT.leeloo_token, base_url=url, timeout=60)
        self.neiros = Neiros(TENANT.neiros_email, TENANT.neiros_password, base_url=url, timeout=60)
        self.dialog = Dialog(TENANT.dialog_login, TENANT.dialog_password, base_url=url, timeout=60)
        self.control = httpx.Client(base_url=url, timeout=60)
        self.campaigns: list[int] = []

    def close(self) -> None:
        for client in (self.leeloo, self.neiros, self.dialog):
            client.close()
        self.control.close()

    def write_config(self, destination: str | None = None, dataset: str = "leadbridge") -> Path:
        path = self.folder / "leadbridge.toml"
        target = destination or f"duckdb:///{self.folder / 'warehouse.duckdb'}"
        path.write_text(config_text(self.platform.url, target, self.folder / "pipelines", self.campaigns, dataset),
                        encoding="utf-8")
        return path

    def config(self, destination: str | None = None, dataset: str = "leadbridge") -> Config:
        return load_config(self.write_config(destination, dataset))

    def start_campaign(self, people: int = 8) -> int:
        """A Dialog campaign calling the first ``people`` Leeloo people with a valid phone."""
        phones = []
        for person in self.leeloo.people.iter():
            number = normalise(person.phone).e164
            if number:
                phones.append((number, {"name": person.name or "", "person_id": person.id}))
            if len(phones) == people:
                break
        campaign = self.dialog.campaigns.create(TENANT.dialog_project_id, "Экспорт", TENANT.dialog_start_block_id,
                                                TENANT.dialog_phone_id, phones, datetime(2000, 1, 1), "00:00",
                                                "23:59", attempts=1)
        self.campaigns.append(campaign)
        return campaign

    def advance(self, seconds: int) -> None:
        self.control.post("/_sandbox/clock/advance", json={"seconds": seconds}).raise_for_status()

    def requests_since(self, since_id: int) -> list[dict[str, Any]]:
        answer = self.control.get("/_sandbox/requests", params={"since_id": since_id, "limit": 100_000})
        answer.raise_for_status()
        return list(answer.json()["data"])

    def last_request_id(self) -> int:
        log = self.requests_since(0)
        return int(log[-1]["id"]) if log else 0

    # --- the API's own numbers, read through the SDK --------------------------------------

    def api_people(self) -> list[Any]:
        return list(self.leeloo.people.iter())

    def api_orders(self) -> list[Any]:
        return list(self.leeloo.orders.iter())

    def api_deals(self) -> list[Any]:
        deals = []
        end = datetime.now(UTC) + timedelta(days=400)
        for site in self.neiros.sites.list():
            for summary in self.neiros.deals.iter(site.id, "2000-01-01", end):
                deals.append(self.neiros.deals.get(summary.id, site.id))
        return deals

    def api_dialog_rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for campaign in self.campaigns:
            report = self.dialog.analytics.report(TENANT.dialog_project_id, TENANT.dialog_scenario_id,
                                                  TENANT.dialog_start_block_id, campaign, "2000-01-01T00:00:00Z",
                                                  datetime.now(UTC) + timedelta(days=3650))
            rows.extend(report.rows)
        return rows


def query(pipeline: Any, sql: str) -> list[tuple[Any, ...]]:
    with pipeline.sql_client() as client:
        return [tuple(row) for row in client.execute_sql(sql) or []]

"""The Dialog dlt source, on the SDK's :class:`~leadbridge.sdk.Dialog` client.

Dialog has no call that lists campaigns, so the source reads the reports of campaigns it
is told about: ids given in the configuration, or the campaigns the flows' ledger
recorded (:func:`ledger_campaigns`). Tables: ``dialog_results`` (one row per dialog,
merged on campaign and dialog id, one column per report column, including the campaign's
``add_data`` keys) and ``dialog_columns`` (each campaign's columns: field, title, type).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
from dlt.extract.resource import DltResource
from dlt.extract.source import DltSource

from leadbridge.contract.dialog import BASE_URL as DEFAULT_BASE_URL
from leadbridge.contract.dialog import is_true
from leadbridge.export._state import Watermark
from leadbridge.export._tables import TIMESTAMP, build_table, column_hints, e164
from leadbridge.sdk import Dialog
from leadbridge.sdk.models import Report

FIRST_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)
# Campaigns run on the platform's clock (the sandbox's may be moved ahead): ask far enough.
AHEAD = timedelta(days=3650)

RESULTS = [("campaign_id", pa.int64()), ("dialog_id", pa.int64()), ("phone_number", pa.string()),
           ("phone_e164", pa.string()), ("attempt", pa.int64()), ("started_at", TIMESTAMP),
           ("duration", pa.float64()), ("outcome", pa.string()), ("goal", pa.bool_()), ("transcript", pa.string())]
COLUMNS = [("campaign_id", pa.int64()), ("field", pa.string()), ("display_name", pa.string()),
           ("type", pa.string())]


@dataclass(frozen=True)
class Campaign:
    """A campaign and the project, scenario and start block its report is asked under."""

    campaign_id: int
    project_id: int
    scenario_id: int
    start_block_id: int


Connect = Callable[[], Dialog]
CampaignList = Sequence[Campaign] | Callable[[], Sequence[Campaign]]


def _moment(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _typed(value: Any, kind: str | None) -> Any:
    """A report value as its column's type says (the report sends text for most of them)."""
    if value is None or value == "":
        return None
    if kind == "datetime":
        return _moment(value)
    if kind == "goal":
        return is_true(value)
    if kind == "number":
        if isinstance(value, int | float):
            return value
        try:
            number = float(value)
        except ValueError:
            return str(value)
        return int(number) if number.is_integer() else number
    return value if isinstance(value, str) else str(value)


def result_rows(campaign_id: int, report: Report, region: str) -> list[dict[str, Any]]:
    kinds = {column.field: column.type for column in report.columns}
    rows = []
    for raw in report.rows:
        row = {field: _typed(value, kinds.get(field)) for field, value in raw.items()}
        row["campaign_id"] = campaign_id
        for fixed in ("dialog_id", "attempt"):
            if isinstance(row.get(fixed), float):
                row[fixed] = int(row[fixed])
        if row.get("duration") is not None:
            row["duration"] = float(row["duration"])
        row["phone_e164"] = e164(row.get("phone_number"), region)
        rows.append(row)
    return rows


def dialog_source(campaigns: CampaignList, login: str | None = None, password: str | None = None, *,
                  token: str | None = None, base_url: str = DEFAULT_BASE_URL, phone_region: str = "RU",
                  client_options: dict[str, Any] | None = None) -> DltSource:
    """The Dialog dlt source for ``campaigns`` (a list of :class:`Campaign`, or a function returning it).

    Each campaign's report is asked from the start of the newest dialog loaded before; a
    dialog already loaded is not loaded again.
    """
    options = dict(client_options or {})

    def connect() -> Dialog:
        return Dialog(login, password, token=token, base_url=base_url, **options)

    def known() -> Sequence[Campaign]:
        return campaigns() if callable(campaigns) else campaigns

    def reports() -> Iterator[Any]:
        """The dialogs of each known campaign since the last run, and the campaign's columns."""
        state = dlt.current.resource_state()
        with connect() as client:
            for campaign in known():
                mark = Watermark(state, f"campaign:{campaign.campaign_id}")
                report = client.analytics.report(campaign.project_id, campaign.scenario_id, campaign.start_block_id,
                                                 campaign.campaign_id, mark.since or FIRST_MOMENT,
                                                 datetime.now(UTC) + AHEAD)
                rows = [row for row in result_rows(campaign.campaign_id, report, phone_region)
                        if row.get("dialog_id") is not None
                        and mark.keep(row.get("started_at"), str(row["dialog_id"]))]
                if rows:
                    yield dlt.mark.with_hints(build_table(rows, RESULTS, not_null=("campaign_id", "dialog_id")),
                                              RESULT_HINTS, create_table_variant=True)
                    columns = [{"campaign_id": campaign.campaign_id, "field": column.field,
                                "display_name": column.display_name, "type": column.type}
                               for column in report.columns]
                    yield dlt.mark.with_hints(build_table(columns, COLUMNS), COLUMN_HINTS, create_table_variant=True)
                mark.save()

    @dlt.source(name="dialog", max_table_nesting=0)
    def dialog() -> list[DltResource]:
        # The hints travel with each table, so the columns table does not inherit the results' columns.
        return [dlt.resource(reports, name="dialog_results", write_disposition="merge")]

    return dialog()


RESULT_HINTS = dlt.mark.make_hints(table_name="dialog_results", write_disposition="merge",
                                   primary_key=("campaign_id", "dialog_id"),
                                   columns=column_hints(RESULTS, not_null=("campaign_id", "dialog_id")))
COLUMN_HINTS = dlt.mark.make_hints(table_name="dialog_columns", write_disposition="merge",
                                   primary_key=("campaign_id", "field"), columns=column_hints(COLUMNS))


def ledger_campaigns(ledger_url: str, *, project_id: int, scenario_id: int, start_block_id: int) -> list[Campaign]:
    """The campaigns the flows' call-leads created, as its ledger recorded them."""
    from sqlalchemy.engine import make_url

    from leadbridge.flows.ledger import Ledger

    url = make_url(ledger_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        return []  # no flow ran yet: reading must not create a ledger
    with Ledger(ledger_url) as ledger:
        ids = sorted({int(unit.result["campaign_id"]) for unit in ledger.units("call-leads", "campaign", ["done"])
                      if unit.result and unit.result.get("campaign_id") is not None})
    return [Campaign(campaign_id, project_id, scenario_id, start_block_id) for campaign_id in ids]

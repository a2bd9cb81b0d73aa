"""The Neiros dlt source, on the SDK's :class:`~leadbridge.sdk.Neiros` client.

Tables: ``sites`` (replaced on each run) and ``deals`` (merged on id): each deal listed
in a site's date window, with its details (visit, client phone, channel, traffic, amount,
stage). The window of a site starts at the day of the newest deal loaded before, and a
deal already loaded on that day is not read again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import dlt
import pyarrow as pa
from dlt.extract.resource import DltResource
from dlt.extract.source import DltSource

from leadbridge.contract.neiros import BASE_URL as DEFAULT_BASE_URL
from leadbridge.export._state import Watermark
from leadbridge.export._tables import TIMESTAMP, build_table, column_hints, e164, extras, utc_day
from leadbridge.sdk import Neiros

FIRST_DAY = date(2000, 1, 1)
# Deals are listed by their creation day; a sandbox clock (or a time zone) may run ahead.
DAYS_AHEAD = 366

SITES = [("id", pa.int64()), ("name", pa.string())]
DEALS = [("id", pa.int64()), ("site_id", pa.int64()), ("date", pa.date32()), ("neiros_visit", pa.string()),
         ("neiros_id", pa.string()), ("created_at", TIMESTAMP), ("phone", pa.string()), ("phone_e164", pa.string()),
         ("duration", pa.int64()), ("record", pa.string()), ("canal", pa.string()), ("traffic", pa.string()),
         ("summ", pa.float64()), ("status", pa.string())]

Connect = Callable[[], Neiros]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def sites_resource(connect: Connect) -> DltResource:
    def sites() -> Iterator[pa.Table]:
        """Every site of the account (what the Neiros interface calls projects)."""
        with connect() as client:
            rows = [{"id": site.id, "name": site.name, **extras(site)} for site in client.sites.list()]
        yield build_table(rows, SITES, not_null=("id",))

    return dlt.resource(sites, name="sites", write_disposition="replace", primary_key="id",
                        columns=column_hints(SITES, not_null=("id",)))


def deals_resource(connect: Connect, *, site_ids: Sequence[int] | None, region: str, first_day: date) -> DltResource:
    def deals() -> Iterator[pa.Table]:
        """Deals created since the newest day loaded before, per site, each with its details."""
        state = dlt.current.resource_state()
        with connect() as client:
            wanted = list(site_ids) if site_ids else [site.id for site in client.sites.list()]
            for site_id in wanted:
                mark = Watermark(state, f"site:{site_id}")
                start = mark.since.date() if mark.since else first_day
                end = utc_day() + timedelta(days=DAYS_AHEAD)
                rows: list[dict[str, Any]] = []
                for summary in client.deals.iter(site_id, start, end):
                    day = summary.date
                    if not mark.keep(_midnight(day) if day else None, str(summary.id)):
                        continue
                    deal = client.deals.get(summary.id, site_id)
                    rows.append({
                        "id": summary.id, "site_id": summary.site_id or site_id, "date": day,
                        "neiros_visit": deal.neiros_visit, "neiros_id": deal.neiros_id, "created_at": deal.created_at,
                        "phone": deal.phone, "phone_e164": e164(deal.phone, region), "duration": deal.duration,
                        "record": deal.record, "canal": deal.canal, "traffic": deal.traffic, "summ": deal.summ,
                        "status": deal.status, **extras(summary), **extras(deal)})
                    if len(rows) >= 1000:
                        yield build_table(rows, DEALS, not_null=("id",))
                        rows = []
                if rows:
                    yield build_table(rows, DEALS, not_null=("id",))
                mark.save()

    return dlt.resource(deals, name="deals", write_disposition="merge", primary_key="id",
                        columns=column_hints(DEALS, not_null=("id",)))


def neiros_source(email: str | None = None, password: str | None = None, *, token: str | None = None,
                  base_url: str = DEFAULT_BASE_URL, sites: Sequence[int] | None = None, phone_region: str = "RU",
                  first_day: date = FIRST_DAY, client_options: dict[str, Any] | None = None) -> DltSource:
    """The Neiros dlt source: ``pipeline.run(neiros_source(email="…", password="…"))``.

    ``sites`` limits the deals to those sites (default: every site); the first run reads
    deals created from ``first_day`` on.
    """
    options = dict(client_options or {})

    def connect() -> Neiros:
        return Neiros(email, password, token=token, base_url=base_url, **options)

    @dlt.source(name="neiros", max_table_nesting=0)
    def neiros() -> list[DltResource]:
        return [sites_resource(connect),
                deals_resource(connect, site_ids=sites, region=phone_region, first_day=first_day)]

    return neiros()

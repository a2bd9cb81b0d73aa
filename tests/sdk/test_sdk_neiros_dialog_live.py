"""Neiros and Dialog SDK methods against the sandbox over real HTTP, sync and async."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sdk_support import MODES, close, collect, dialog_client, neiros_client, resolve

from http_clients import TIMEOUT
from leadbridge import errors
from leadbridge.sandbox.seed import TENANTS
from leadbridge.sandbox.server import RunningSandbox
from leadbridge.sdk import NumberedPage

DEMO = TENANTS[0]
WIDE = (date(2000, 1, 1), date(2100, 1, 1))


@pytest.fixture(params=MODES)
async def nei(request: pytest.FixtureRequest, live: RunningSandbox) -> AsyncIterator[Any]:
    creds = live.credentials
    client = neiros_client(request.param, live.url, email=creds.neiros_email, password=creds.neiros_password)
    yield client
    await close(client)


async def a_site_with_deals(nei: Any) -> tuple[int, NumberedPage[Any]]:
    for site in await resolve(nei.sites.list()):
        page = await resolve(nei.deals.list(site.id, *WIDE))
        if page.total:
            return site.id, page
    raise AssertionError("no site with deals in the demo data")


async def test_sites_list(nei: Any) -> None:
    sites = await resolve(nei.sites.list())
    assert {site.id for site in sites} >= set(DEMO.site_ids)
    assert all(site.name for site in sites)


async def test_deals_pages_and_iter(nei: Any) -> None:
    site_id, first = await a_site_with_deals(nei)
    assert first.page == 1 and first.last_page >= 1 and len(first) <= first.total
    deals = await collect(nei.deals.iter(site_id, *WIDE))
    assert len(deals) == first.total == len({deal.id for deal in deals})
    assert all(deal.site_id == site_id for deal in deals)
    if first.last_page > 1:
        second = await resolve(nei.deals.list(site_id, *WIDE, page=2))
        assert second.page == 2 and not {d.id for d in second} & {d.id for d in first}
    day = deals[0].date
    same_day = await collect(nei.deals.iter(site_id, day, datetime(day.year, day.month, day.day, 12, tzinfo=UTC)))
    assert deals[0].id in [deal.id for deal in same_day] and all(deal.date == day for deal in same_day)


async def test_deal_update_sum_then_get(nei: Any) -> None:
    site_id, first = await a_site_with_deals(nei)
    deal_id = first[0].id
    amount = uuid.uuid4().int % 100_000 + 1
    assert await resolve(nei.deals.update_sum(deal_id, site_id, amount)) is True
    deal = await resolve(nei.deals.get(deal_id, site_id))
    assert deal.id == deal_id and deal.summ == amount
    assert deal.created_at is None or deal.created_at.utcoffset() == timedelta(0)


async def test_deal_of_another_site_is_not_found(nei: Any) -> None:
    site_id, first = await a_site_with_deals(nei)
    other = next(s for s in DEMO.site_ids if s != site_id)
    with pytest.raises(errors.NotFoundError):
        await resolve(nei.deals.get(first[0].id, other))


@pytest.mark.parametrize("mode", MODES)
async def test_neiros_bad_password_and_given_token(live: RunningSandbox, mode: str) -> None:
    creds = live.credentials
    client = neiros_client(mode, live.url, email=creds.neiros_email, password="wrong-password")
    with pytest.raises(errors.APIError) as caught:
        await resolve(client.sites.list())
    assert caught.value.status in (401, 422) and "wrong-password" not in str(caught.value)
    await close(client)
    token = httpx.post(live.url + "/api/userapi/v1/auth/login",
                       json={"email": creds.neiros_email, "password": creds.neiros_password},
                       timeout=TIMEOUT).json()["token"]
    client = neiros_client(mode, live.url, token=token)
    assert await resolve(client.sites.list())
    await close(client)


# --- Dialog ------------------------------------------------------------------------------


def dialog_token(base_url: str, login: str, password: str) -> str:
    """A token from the sandbox's JSON login: these tests are about campaigns; the SDK's own
    login (the observed form) is replayed against a stand-in server in test_sdk_stub_server.py."""
    response = httpx.post(base_url + "/api/login", json={"login": login, "password": password}, timeout=30)
    response.raise_for_status()
    token: str = response.json()["token"]
    return token


@pytest.mark.parametrize("mode", MODES)
async def test_campaign_runs_and_its_report_lists_the_dialogs(fresh: RunningSandbox, mode: str) -> None:
    creds = fresh.credentials
    client = dialog_client(mode, fresh.url, token=dialog_token(fresh.url, creds.dialog_login, creds.dialog_password))
    phones = ["+79990000101", ("+79990000102", {"name": "Иван"}), {"phone": "+79990000103", "add_data": {}}]
    try:
        campaign_id = await resolve(client.campaigns.create(
            DEMO.dialog_project_id, "Опрос", DEMO.dialog_start_block_id, DEMO.dialog_phone_id, phones,
            date(2000, 1, 1), "00:00", "23:59", attempts=2, interval=10, description="из SDK"))
        assert isinstance(campaign_id, int)
        httpx.post(fresh.url + "/_sandbox/clock/advance", json={"seconds": 2 * 86400},
                   timeout=TIMEOUT).raise_for_status()
        report = await resolve(client.analytics.report(
            DEMO.dialog_project_id, DEMO.dialog_scenario_id, DEMO.dialog_start_block_id, campaign_id,
            datetime(2000, 1, 1), datetime(2100, 1, 1, tzinfo=UTC)))
        numbers = {row["phone_number"] for row in report.rows}
        assert numbers == {"+79990000101", "+79990000102", "+79990000103"}
        assert report.count == len(report.rows) >= 3
        assert report.total_duration == sum(int(row["duration"]) for row in report.rows)
        assert "phone_number" in [column.field for column in report.columns]
        narrow = await resolve(client.analytics.report(
            DEMO.dialog_project_id, DEMO.dialog_scenario_id, DEMO.dialog_start_block_id, campaign_id,
            "2000-01-01T00:00:00.000Z", "2100-01-01T00:00:00.000Z",
            columns=["phone_number", {"name": "duration", "sorting": "desc"}]))
        assert [column.field for column in narrow.columns] == ["phone_number", "duration"]
        durations = [int(row["duration"]) for row in narrow.rows]
        assert durations == sorted(durations, reverse=True) and narrow.count == report.count
    finally:
        await close(client)


@pytest.mark.parametrize("mode", MODES)
async def test_campaign_validation_names_the_field(live: RunningSandbox, mode: str) -> None:
    creds = live.credentials
    client = dialog_client(mode, live.url, token=dialog_token(live.url, creds.dialog_login, creds.dialog_password))
    try:
        with pytest.raises(errors.ValidationError) as caught:
            await resolve(client.campaigns.create(DEMO.dialog_project_id, "x", DEMO.dialog_start_block_id,
                                                  DEMO.dialog_phone_id, ["+79990000101"], "2030-13-45",
                                                  "09:00", "17:00"))
        assert any("date" in field for field in caught.value.fields)
        with pytest.raises(ValueError):
            await resolve(client.campaigns.create(1, "x", 1, 1, ["+7"], "2030-01-01", "09:00", "17:00", attempts=6))
    finally:
        await close(client)

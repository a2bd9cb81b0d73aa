"""The flows dashboard in a real headless Chromium: run the demo's flows, read the funnel,
resolve an uncertain unit with a button."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from console_support import PHONE, screenshot
from playwright.sync_api import expect
from rich.console import Console
from sqlalchemy import distinct, func, select

from leadbridge.console.flows_ui import create_dashboard, funnel
from leadbridge.flows.config import Config, load_config
from leadbridge.flows.demo import _prepare_sandbox, demo_config
from leadbridge.flows.ledger import Ledger
from leadbridge.flows.runner import run_flows
from leadbridge.sandbox import schema
from leadbridge.sandbox.seed import TENANTS
from leadbridge.sandbox.server import RunningSandbox, serve_app_in_thread, serve_in_thread
from leadbridge.sandbox.state import MEMORY_URL, Sandbox

DAY = 86_400


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[RunningSandbox, Config]]:
    """The demo's sandbox and configuration (as ``leadbridge demo`` makes them), with an on-disk ledger."""
    with serve_in_thread(Sandbox(MEMORY_URL, seed=1, people=150)) as running:
        leadgentool, template = _prepare_sandbox(running.sandbox)
        path = tmp_path / "leadbridge.toml"
        path.write_text(demo_config(running.url, f"sqlite:///{tmp_path / 'ledger.sqlite3'}", leadgentool, template),
                        encoding="utf-8")
        yield running, load_config(path)


def quiet_run(config: Config, names: list[str]) -> None:
    run_flows(config, names, console=Console(file=io.StringIO()), show_progress=False)


def test_run_the_demo_flows_read_the_funnel_and_resolve_an_uncertain_unit(
        demo: tuple[RunningSandbox, Config], page: Any, browser: Any) -> None:
    running, config = demo
    control = httpx.Client(base_url=running.url, timeout=60)
    # Dialog answers campaign creation with a 503: the campaign may or may not exist, so it is uncertain.
    control.post("/_sandbox/faults", json={"pattern": "^/api/campaigns$", "methods": ["POST"],
                                           "error_rate": 1}).raise_for_status()
    quiet_run(config, ["call-leads"])
    control.delete("/_sandbox/faults").raise_for_status()

    with serve_app_in_thread(create_dashboard(config.ledger.url)) as dashboard:
        page.goto(dashboard + "/")
        campaign_unit = page.locator("#attention article.unit", has_text="call-leads/campaign").first
        expect(campaign_unit).to_contain_text("uncertain")
        expect(campaign_unit.locator("ol.effects li.e-uncertain")).to_contain_text("create")
        unit_id = int(campaign_unit.get_attribute("id").removeprefix("unit-"))
        screenshot(page, "flows-attention")
        # Checked on Dialog: no campaign was made (the fault answered before the sandbox did).
        with running.sandbox.read() as session:
            assert session.scalar(select(func.count()).select_from(schema.Campaign)) == 0
        campaign_unit.get_by_role("button", name="Не случилось — повторить").click()
        expect(page.locator(".flash.ok")).to_contain_text(f"unit #{unit_id}")
        # The batch is settled as "not created" and its leads wait for the next run.
        expect(page.locator(f"#unit-{unit_id} .state").first).to_have_text("failed")
        expect(page.locator(f"#unit-{unit_id}")).to_contain_text("its leads are queued again")
        with Ledger(config.ledger.url) as ledger:
            unit = ledger.get(unit_id)
            assert unit is not None and unit.state == "failed"
            assert ledger.counts()[("call-leads", "lead")].get("uncertain", 0) == 0

        # The page stays open while the flows run: it follows the ledger by itself.
        quiet_run(config, ["call-leads", "deals-to-leeloo", "revenue-to-neiros"])
        for _ in range(6):
            control.post("/_sandbox/clock/advance", json={"seconds": DAY}).raise_for_status()
            quiet_run(config, ["call-results"])
            with Ledger(config.ledger.url) as ledger:
                if not ledger.counts().get(("call-results", "campaign"), {}).get("pending"):
                    break
        with Ledger(config.ledger.url) as ledger:
            steps = {step.label: step.value for step in funnel(ledger)}
            counts = ledger.counts()
        expect(page.locator('#funnel li[data-step="3"] strong')).to_have_attribute(
            "data-value", str(steps["Звонили"]), timeout=60_000)

        shown = dict(page.locator("#funnel li").evaluate_all(
            "items => items.map(li => [li.querySelector('.label').textContent,"
            " Number(li.querySelector('strong').dataset.value)])"))
        assert shown == steps
        # The ledger's own numbers.
        assert steps["Лиды найдены"] == sum(counts[("call-leads", "lead")].values()) > 0
        assert steps["Заказы оплачены"] == counts[("revenue-to-neiros", "order")].get("done", 0)
        # The sandbox's: numbers queued in Dialog, numbers called, answered, goals; deals with a sum.
        company = TENANTS[0].company_id
        with running.sandbox.read() as session:
            campaigns = select(schema.Campaign.id).where(schema.Campaign.company_id == company)
            calls = select(schema.CampaignPhone.phone).join(
                schema.DialogCall, schema.DialogCall.campaign_phone_id == schema.CampaignPhone.id).where(
                schema.DialogCall.campaign_id.in_(campaigns))
            queued = session.scalar(select(func.count()).where(schema.CampaignPhone.campaign_id.in_(campaigns)))

            def phones(query: Any) -> int:
                numbers = query.subquery()
                return session.scalar(select(func.count(distinct(numbers.c.phone)))) or 0

            called = phones(calls)
            answered = phones(calls.where(schema.DialogCall.outcome == "answered"))
            goals = phones(calls.where(schema.DialogCall.goal_reached.is_(True)))
        assert steps["В обзвоне"] == queued > 0
        assert (steps["Звонили"], steps["Ответили"], steps["Цель достигнута"]) == (called, answered, goals)
        assert steps["Звонили"] > 0

        expect(page.locator("#live")).to_have_text("○ запусков нет")
        expect(page.locator("#runs tbody tr").first).to_contain_text("call-results")
        expect(page.locator("#runs tbody tr").first).to_contain_text("ok")
        expect(page.locator("#units tr[data-flow='call-leads'][data-kind='lead']")).to_be_visible()
        screenshot(page, "flows-dashboard", full_page=True)
        phone = browser.new_context(viewport=PHONE, locale="ru-RU", device_scale_factor=2)
        try:
            small = phone.new_page()
            small.goto(dashboard + "/")
            expect(small.locator("#funnel")).to_be_visible()
            screenshot(small, "flows-dashboard-phone")
            assert small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        finally:
            phone.close()
    control.close()


def test_the_dashboard_lists_the_webhooks_received_and_what_they_triggered(tmp_path: Path) -> None:
    from leadbridge.flows.events import EventStore, NewEvent

    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    with Ledger(url) as ledger:
        store = EventStore(ledger)
        store.record([NewEvent("INCOMING_MESSAGE:m1", "INCOMING_MESSAGE", {"type": "INCOMING_MESSAGE"}),
                      NewEvent("ORDER:o1", "ORDER", {"type": "ORDER"}, "nothing to trigger")])
        waiting = store.waiting()
        store.processed({waiting[0].id: "call-leads: lead +79991234567 queued"})
    with serve_app_in_thread(create_dashboard(url)) as dashboard, httpx.Client(timeout=60) as client:
        page = client.get(dashboard + "/").text
        events = page[page.index('id="events"'):page.index('id="runs"')]
        assert "call-leads: lead +79991234567 queued" in events and "nothing to trigger" in events
        rows = events[events.index("<tbody>"):]
        assert rows.index("ORDER") < rows.index("INCOMING_MESSAGE")  # newest first
        assert client.get(dashboard + "/api/summary").json()["events"] == {"INCOMING_MESSAGE/processed": 1,
                                                                          "ORDER/processed": 1}

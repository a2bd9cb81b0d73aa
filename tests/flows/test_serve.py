"""``flows serve`` turns webhooks into exactly-once effects, with the polling catch-up filling in lost ones.

Effects are read from the sandbox (its request log and APIs), never from the flows' reports.
"""

from __future__ import annotations

import random
import sqlite3
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from flow_helpers import Setup, run_cli
from live_helpers import LIVE, callable_people, campaign_phones, serving, wait_until, write_in

from http_clients import TIMEOUT
from leadbridge.sandbox.seed import DOC_IDS


def deliver(url: str, bodies: list[dict[str, Any]], workers: int = 8) -> list[int]:
    """POST each body (in the order given, several at once); the statuses answered."""
    with httpx.Client(timeout=TIMEOUT) as client, ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda body: client.post(url, json=body).status_code, bodies))


def events_waiting(ledger: Path) -> int:
    with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=60) as db:
        return int(db.execute("SELECT count(*) FROM lb_event WHERE state = 'received'").fetchone()[0])


def test_duplicated_reordered_and_lost_messages_make_each_lead_called_once(setup: Setup) -> None:
    config = setup.write_config(replace=LIVE)
    ledger = setup.folder / "ledger.sqlite3"
    people = callable_people(setup, 24)
    events = [write_in(setup, person) for person in people]
    lost, delivered = people[:8], people[8:]
    deliveries = [event for event in events[8:] for _ in range(random.randint(1, 3))]
    random.shuffle(deliveries)
    # A subscription of a person already written in: the same lead, nothing more.
    deliveries.append({"type": "SUBSCRIPTION", "data": {
        "account_id": delivered[0]["accounts"][0]["account_id"], "person_id": delivered[0]["id"],
        "tunnel_id": None, "leadgentool_id": setup.leadgentool, "source": "vk", "email": None, "phone": None,
        "created_at": "2026-12-02T10:47:06.474Z"}})

    with serving(config, "--no-catch-up") as live:
        assert set(deliver(live.url, deliveries)) == {200}
        wanted = {p["e164"] for p in delivered}
        wait_until(lambda: wanted <= set(campaign_phones(setup)), what="a campaign with the delivered leads")
        assert not {p["e164"] for p in lost} & set(campaign_phones(setup)), "a lost event was acted on"

        # The polling catch-up, beside the running serve, finds the people whose event was lost.
        assert run_cli("run", "call-leads", "--config", str(config)).returncode == 0
        every_phone = Counter(campaign_phones(setup))
        assert {p["e164"] for p in people} <= set(every_phone)
        assert max(every_phone.values()) == 1, "a phone is in two campaigns"

        # Late redeliveries of everything, the lost ones included, change nothing.
        campaigns = len(setup.requests("/api/campaigns"))
        assert set(deliver(live.url, [*events, *reversed(events)])) == {200}
        wait_until(lambda: events_waiting(ledger) == 0, what="the redelivered events processed")
        assert len(setup.requests("/api/campaigns")) == campaigns
        tagged = Counter(r["path"].split("/")[4] for r in setup.requests("/add-tag", method="PUT"))
        assert {p["id"] for p in people} <= set(tagged)
    assert Counter(campaign_phones(setup)) == every_phone


def _deal_person(setup: Setup) -> tuple[dict[str, Any], str]:
    """A Neiros deal with a phone, and a new Leeloo person with that phone."""
    token = setup.control.post("/api/userapi/v1/auth/login",
                               json={"email": "demo@neiros.local", "password": "demo"}).json()["token"]
    neiros = {"Authorization": f"Bearer {token}"}
    for site in setup.control.get("/api/userapi/v1/sites", headers=neiros).json()["data"]:
        projects = setup.control.get("/api/userapi/v1/projects", headers=neiros, params={
            "site_id": site["id"], "date_start": "2000-01-01", "date_end": "2100-01-01", "page": 1}).json()
        for summary in projects["data"]["projects"]:
            deal = setup.control.get(f"/api/userapi/v1/project/{summary['id']}", headers=neiros,
                                     params={"site_id": site["id"]}).json()["data"]
            if deal["phone"] and len(deal["phone"]) > 5:
                person = setup.leeloo.post("/api/v2/people", json={
                    "name": "Покупатель", "phone": "+" + deal["phone"],
                    "leadgentool_id": setup.leadgentool}).json()["data"]
                return {**deal, "site_id": site["id"]}, person["person_id"]
    raise AssertionError("no Neiros deal with a phone")


def _pay(setup: Setup, person_id: str) -> dict[str, Any]:
    """A paid order of the person (through the Leeloo API); returns the SALE webhook Leeloo sends for it."""
    order = setup.leeloo.post("/api/v2/orders", json={
        "paymentCreditsId": DOC_IDS["payment_credits"], "offerId": DOC_IDS["offer"], "personId": person_id,
        "isNotifyAccount": False}).json()["data"]
    assert setup.leeloo.post(f"/api/v2/orders/{order['id']}", data={"status": "RESOLVED"}).status_code == 200
    account = setup.leeloo.get(f"/api/v2/people/{person_id}").json()["data"]["accounts"][0]["account_id"]
    return {"type": "SALE", "data": {"order_id": order["id"], "account_id": account, "offer_name": "Курс",
                                     "price": order.get("price"), "currency": "RUB", "email": "NOT_DEFINED",
                                     "phone": None, "created_at": "2026-12-02T10:47:06.474Z",
                                     "payment_method": DOC_IDS["payment_credits"]}}


def test_a_sale_sets_its_persons_deal_sum_once_whatever_the_deliveries(setup: Setup) -> None:
    config = setup.write_config(replace=LIVE)
    ledger = setup.folder / "ledger.sqlite3"
    deal, person_id = _deal_person(setup)
    updates = f"/project/{deal['id']}/update"

    def summ() -> float:
        value: float = setup.neiros.get(f"/api/userapi/v1/project/{deal['id']}",
                                        params={"site_id": deal["site_id"]}).json()["data"]["summ"]
        return value

    with serving(config, "--no-catch-up") as live:
        first = _pay(setup, person_id)
        order = {"type": "ORDER", "data": {k: v for k, v in first["data"].items() if k != "payment_method"}}
        assert deliver(live.url, [order, first, first, {"type": "SOMETHING_NEW", "data": {"x": 1}}]) == [200] * 4
        wait_until(lambda: summ() == 100, what="the deal sum set from the SALE")
        assert len(setup.requests(updates)) == 1

        # The polling catch-up finds nothing left to send.
        assert run_cli("run", "revenue-to-neiros", "--config", str(config)).returncode == 0
        assert len(setup.requests(updates)) == 1

        # A second sale; then the first one's late redelivery, out of order: the sum stays the person's total.
        second = _pay(setup, person_id)
        assert deliver(live.url, [second], workers=1) == [200]
        wait_until(lambda: summ() == 200, what="the second sale's total")
        assert deliver(live.url, [first, second], workers=1) == [200, 200]
        wait_until(lambda: events_waiting(ledger) == 0, what="the redelivered events processed")
        assert summ() == 200
        assert len(setup.requests(updates)) == 2


def test_the_receiver_refuses_what_is_not_an_event_and_never_records_it(setup: Setup) -> None:
    config = setup.write_config(replace=LIVE)
    with serving(config, "--no-catch-up") as live, httpx.Client(timeout=TIMEOUT) as client:
        answer = client.post(live.url, content=b"{not json")
        assert answer.status_code == 400 and answer.json()["field"] == "body"
        answer = client.post(live.url + "webhooks/leeloo", json={"type": "SALE", "data": {"price": 1}})
        assert answer.status_code == 400 and answer.json()["field"] == "data.order_id"
        assert client.post(live.url, content=b"x" * (2 * 1024 * 1024)).status_code == 413
        assert client.get(live.url).status_code == 405
        assert client.post(live.url + "elsewhere", json={"type": "ORDER"}).status_code == 404
    with sqlite3.connect(setup.folder / "ledger.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM lb_event").fetchone()[0] == 0

"""Each flow end to end against a sandbox, its effects read back through the platforms' APIs."""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from flow_helpers import Setup, every_person, form
from rich.console import Console

from leadbridge.flows.engine import FlowReport
from leadbridge.flows.runner import run_flows
from leadbridge.sandbox import schema
from leadbridge.sandbox.seed import DOC_IDS, TENANTS
from leadbridge.sandbox.wire import new_oid

DEMO_COMPANY = TENANTS[0].company_id


def run(setup: Setup, *flows: str, replace: dict[str, str] | None = None) -> dict[str, FlowReport]:
    reports = run_flows(setup.config(replace=replace), list(flows), console=Console(file=io.StringIO()))
    return {r.flow: r for r in reports}


def hot_people(setup: Setup) -> list[dict[str, Any]]:
    return every_person(setup, [("filter[tags]", "горячий"), ("filter[tags]", "vip"),
                                ("filter[last_message][from]", "2010-01-01"),
                                ("filter[last_message][to]", "2100-01-01")])


def messages(report: FlowReport) -> str:
    return "\n".join(text for _, text in report.messages)


def dialog_token(setup: Setup) -> str:
    token: str = setup.control.post("/api/login", json={"login": "demo", "password": "demo"}).json()["token"]
    return token


def test_call_leads_queues_every_matching_phone_once(setup: Setup) -> None:
    people = [p for p in hot_people(setup) if p.get("phone") not in (None, "", "NOT_DEFINED")]
    bad, original, duplicate = people[0], people[1], people[2]
    assert setup.leeloo.put(f"/api/v2/people/{bad['id']}", json={"phone": "12345"}).status_code == 200
    # The same number written the Russian national way: a duplicate once normalised.
    same = "8" + original["phone"].removeprefix("+7")
    assert setup.leeloo.put(f"/api/v2/people/{duplicate['id']}", json={"phone": same}).status_code == 200

    report = run(setup, "call-leads")["call-leads"]

    campaigns = setup.requests("/api/campaigns")
    phones = [entry["phone"] for c in campaigns for entry in c["body"]["phones"]]
    assert len(phones) == len(set(phones)), "a phone was queued twice"
    expected = {p["phone"] for p in people if p["id"] not in (bad["id"], duplicate["id"])}
    assert set(phones) == expected
    assert all(len(c["body"]["phones"]) <= 25 for c in campaigns)
    by_phone = {p["phone"]: p for p in people}
    for campaign in campaigns:
        for entry in campaign["body"]["phones"]:
            assert entry["add_data"]["person_id"] == by_phone[entry["phone"]]["id"]
            assert entry["add_data"]["name"] == by_phone[entry["phone"]]["name"]
    queued = setup.leeloo.get(f"/api/v2/people/{by_phone[phones[0]]['id']}").json()["data"]["tags"]
    assert "в обзвоне" in queued
    assert "в обзвоне" not in setup.leeloo.get(f"/api/v2/people/{bad['id']}").json()["data"]["tags"]
    text = messages(report)
    assert bad["id"] in text and "'12345' is not a valid number" in text
    assert duplicate["id"] in text and original["phone"] in text

    run(setup, "call-leads")
    assert len(setup.requests("/api/campaigns")) == len(campaigns), "a re-run created campaigns again"


def test_call_leads_without_a_queued_tag_settles_every_lead_once(setup: Setup) -> None:
    """No step per lead: the leads are settled together, and a re-run queues none of them again."""
    no_tag = {'queued_tag = "в обзвоне"': ""}
    report = run(setup, "call-leads", replace=no_tag)["call-leads"]
    campaigns = setup.requests("/api/campaigns")
    queued = sum(len(c["body"]["phones"]) for c in campaigns)
    assert queued > 0 and report.counts["done"] == queued
    assert report.counts["people tagged as queued"] == 0

    again = run(setup, "call-leads", replace=no_tag)["call-leads"]
    assert len(setup.requests("/api/campaigns")) == len(campaigns), "a re-run created campaigns again"
    assert again.counts["done"] == 0 and again.counts["people already known"] >= queued


def test_call_results_writes_each_dialog_back_once(setup: Setup) -> None:
    run(setup, "call-leads")
    setup.advance(86_400)
    report = run(setup, "call-results")["call-results"]
    assert report.counts["campaigns closed"] == len(setup.requests("/api/campaigns"))

    token = dialog_token(setup)
    campaign_ids = {r["body"]["analytics_filter"]["outgoing_campaign_id"]
                    for r in setup.requests("/api/analytics/1/report")}
    rows = []
    for campaign_id in campaign_ids:
        answer = setup.control.post("/api/analytics/1/report", headers={"Authorization": f"Bearer {token}"}, json={
            "analytics_filter": {"scenario_id": 951, "start_block_id": 10, "outgoing_campaign_id": campaign_id,
                                 "date_start": "2000-01-01T00:00:00.000Z", "date_end": "2100-01-01T00:00:00.000Z"}})
        rows.extend(answer.json()["data"])
    assert rows
    calls = [form(r["body"]) for r in setup.requests("/api/v2/calls")]
    written = Counter((c["to"], c["date"]) for c in calls)
    statuses = {"answered": "SUCCESS", "no_answer": "NO_ANSWER", "busy": "NO_ANSWER", "voicemail": "CLOSED_BY_SYSTEM"}
    for row in rows:
        assert written[(row["phone_number"], row["started_at"])] == 1, row
    assert len(calls) == len(rows)
    by_key = {(c["to"], c["date"]): c for c in calls}
    for row in rows:
        call = by_key[(row["phone_number"], row["started_at"])]
        assert call["status"] == statuses[row["outcome"]] and call["type"] == "OUTBOUND"
        assert int(call["duration"]) == row["duration"]
    comments = setup.requests("/add-comment", method="PUT")
    assert len(comments) == len(rows)
    assert len(setup.requests("/api/v2/messages/send-template")) == sum(r["outcome"] == "answered" for r in rows)
    goal = next(r for r in rows if r["goal"])
    tags = setup.leeloo.get(f"/api/v2/people/{goal['person_id']}").json()["data"]["tags"]
    assert {"встреча назначена", "дозвонились"} <= set(tags)

    run(setup, "call-results", "call-leads")
    assert len(setup.requests("/api/v2/calls")) == len(calls)
    assert len(setup.requests("/add-comment", method="PUT")) == len(comments)


def _deals(setup: Setup, days: int) -> list[dict[str, Any]]:
    today = datetime.now(UTC).date()
    deals = []
    for site in setup.neiros.get("/api/userapi/v1/sites").json()["data"]:
        page = 1
        while True:
            answer = setup.neiros.get("/api/userapi/v1/projects", params={
                "site_id": site["id"], "date_start": str(today - timedelta(days=days)), "date_end": str(today),
                "page": page}).json()
            for summary in answer["data"]["projects"]:
                deal = setup.neiros.get(f"/api/userapi/v1/project/{summary['id']}",
                                        params={"site_id": site["id"]}).json()["data"]
                deals.append({**deal, "site_id": site["id"]})
            if page >= answer["last_page"]:
                break
            page += 1
    return deals


def _add_deal(setup: Setup, deal_id: int, phone: str | None) -> None:
    sandbox = setup.running.sandbox
    with sandbox.write(DEMO_COMPANY) as session:
        session.add(schema.Deal(id=deal_id, company_id=DEMO_COMPANY, site_id=100, neiros_visit="0" * 24,
                                neiros_id="1", created_at=sandbox.now() - timedelta(days=1), phone=phone,
                                duration=0, record=None, canal="Google", traffic="google", summ=0, status="Новая"))


def test_deals_to_leeloo_brings_each_deal_once(setup: Setup) -> None:
    _add_deal(setup, 900_001, None)
    _add_deal(setup, 900_002, "12")
    deals = _deals(setup, 365)
    with_phone = [d for d in deals if d["phone"] and len(d["phone"]) > 5]
    known_before = {d["phone"] for d in with_phone
                    if setup.leeloo.get("/api/v2/people", params={"filter[phone]": "+" + d["phone"]}).json()["data"]}

    report = run(setup, "deals-to-leeloo")["deals-to-leeloo"]

    calls = [form(r["body"]) for r in setup.requests("/api/v2/calls")]
    assert Counter(c["from"] for c in calls) == Counter("+" + d["phone"] for d in with_phone)
    assert all(c["type"] == "INBOUND" for c in calls)
    created = [r["body"]["phone"] for r in setup.requests("/api/v2/people") if r["path"] == "/api/v2/people"]
    assert sorted(created) == sorted({"+" + d["phone"] for d in with_phone} - {"+" + p for p in known_before})
    comments = [r["body"]["comment"] for r in setup.requests("/add-comment", method="PUT")]
    assert len(comments) == len(with_phone)
    assert any(f"№{with_phone[0]['id']}" in c and with_phone[0]["canal"] in c for c in comments)
    text = messages(report)
    assert "deal 100:900001: deal has no phone number" in text
    assert "deal 100:900002" in text and "'12'" in text

    run(setup, "deals-to-leeloo")
    assert len(setup.requests("/api/v2/calls")) == len(calls)
    assert len(setup.requests("/api/v2/people")) == len(created)


def test_revenue_to_neiros_sets_the_deal_sum_when_it_changes(setup: Setup) -> None:
    deal = next(d for d in _deals(setup, 365) if d["phone"])
    person = setup.leeloo.post("/api/v2/people", json={"name": "Покупатель", "phone": "+" + deal["phone"],
                                                       "leadgentool_id": setup.leadgentool}).json()["data"]
    person_id = person["person_id"]

    def paid_order() -> None:
        order = setup.leeloo.post("/api/v2/orders", json={
            "paymentCreditsId": DOC_IDS["payment_credits"], "offerId": DOC_IDS["offer"], "personId": person_id,
            "isNotifyAccount": False}).json()["data"]
        assert setup.leeloo.post(f"/api/v2/orders/{order['id']}", data={"status": "RESOLVED"}).status_code == 200

    def summ() -> float:
        value: float = setup.neiros.get(f"/api/userapi/v1/project/{deal['id']}",
                                        params={"site_id": deal["site_id"]}).json()["data"]["summ"]
        return value

    paid_order()
    sandbox = setup.running.sandbox
    orphan = new_oid()
    with sandbox.write(DEMO_COMPANY) as session:
        session.add(schema.Order(id=orphan, company_id=DEMO_COMPANY, person_id=None, title="Без клиента",
                                 price=50, currency="RUB", status="RESOLVED", payment_method="MANUAL",
                                 created_at=sandbox.now(), updated_at=sandbox.now()))

    report = run(setup, "revenue-to-neiros")["revenue-to-neiros"]
    assert summ() == 100
    assert f"order {orphan}: paid order without a person" in messages(report)
    updates = len(setup.requests(f"/project/{deal['id']}/update"))
    assert updates == 1

    run(setup, "revenue-to-neiros")
    assert len(setup.requests(f"/project/{deal['id']}/update")) == updates, "an unchanged sum was sent again"

    paid_order()
    run(setup, "revenue-to-neiros")
    assert summ() == 200
    assert len(setup.requests(f"/project/{deal['id']}/update")) == updates + 1

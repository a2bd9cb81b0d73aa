"""Leeloo v2 orders: manual orders created, listed, resolved; their effect on tunnel stats."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest
from leeloo_support import DEMO_COMPANY, PLACEHOLDER, create_person

from leadbridge.sandbox import schema
from leadbridge.sandbox.server import RunningSandbox
from leadbridge.sandbox.state import statement_watchers

OFFER = "5e3c357bf04b1f000c27b83a"  # 100 USD, in the placeholder tunnel
CREDITS = "5e3c3533f04b1f000c27b534"
PAID_BY_CARD = "59f2e2425bb695001a3f6388"  # an ASSET_PAYMENT order of Kurt Bowie


def _order(client: httpx.Client, person_id: str, **extra: Any) -> dict[str, Any]:
    body = {"paymentCreditsId": CREDITS, "offerId": OFFER, "personId": person_id, **extra}
    response = client.post("/api/v2/orders", json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def _stats(client: httpx.Client) -> dict[str, Any]:
    data: dict[str, Any] = client.get(f"/api/v2/tunnels/{PLACEHOLDER}/stats").json()["data"][0]
    return data


@pytest.mark.parametrize("notify", ["false", False])
def test_created_order_is_opened_and_visible_everywhere(leeloo: httpx.Client, notify: Any) -> None:
    person_id = create_person(leeloo)["person_id"]
    order = _order(leeloo, person_id, isNotifyAccount=notify, transactionDate="2020-02-04T11:46:48.803Z")
    assert (order["title"], order["price"], order["currency"], order["status"]) == ("Ручной оффер", 100, "USD",
                                                                                    "OPENED")
    single = leeloo.get(f"/api/v2/orders/{order['id']}").json()["data"]
    assert single["paymentMethod"] == "MANUAL" and single["status"] == "OPENED"
    newest = leeloo.get("/api/v2/orders", params={"limit": 1}).json()
    assert newest["data"][0]["id"] == order["id"] and newest["data"][0]["person_id"] == person_id
    card = leeloo.get(f"/api/v2/people/{person_id}", params={"include": "orders"}).json()
    assert card["data"]["links"]["orders"] == [{"type": "orders", "id": order["id"]}]
    assert card["included"]["orders"][0]["status"] == "OPENED"


def test_notifying_the_account_sends_it_a_message(leeloo: httpx.Client) -> None:
    created = create_person(leeloo)
    _order(leeloo, created["person_id"], isNotifyAccount="true")
    chat = leeloo.get(f"/api/v2/communication-channels/{created['id']}/chat-messages").json()["data"]
    assert "Ручной оффер" in chat[0]["text"] and chat[0]["type"] == "BOT_MESSAGE"


def test_resolving_a_manual_order_changes_it_and_the_tunnel_sales(leeloo: httpx.Client) -> None:
    person_id = create_person(leeloo)["person_id"]
    before = _stats(leeloo)
    order = _order(leeloo, person_id)
    after_order = _stats(leeloo)
    assert after_order["orders"] == before["orders"] + 1 and after_order["sales"] == before["sales"]

    response = leeloo.post(f"/api/v2/orders/{order['id']}", json={
        "status": "RESOLVED", "paymentDate": "2024-03-01 10:00", "currency": "RUB", "price": 1000,
        "userComments": "оплачено наличными"})
    assert response.json() == {"status": 1, "data": {"id": order["id"]}}
    single = leeloo.get(f"/api/v2/orders/{order['id']}").json()["data"]
    assert (single["status"], single["price"], single["currency"]) == ("RESOLVED", 1000, "RUB")

    stats = _stats(leeloo)
    assert stats["sales"] == before["sales"] + 1 and stats["uniqSales"] == before["uniqSales"] + 1
    assert stats["totalSale"] == pytest.approx(before["totalSale"] + 1000 * 0.011, abs=0.01)  # RUB at 0.011 USD

    again = leeloo.post(f"/api/v2/orders/{order['id']}", data={"status": "REJECTED"})
    assert again.status_code == 409 and "RESOLVED" in again.json()["message"]
    assert leeloo.get(f"/api/v2/orders/{order['id']}").json()["data"]["status"] == "RESOLVED"


def test_rejecting_keeps_it_out_of_sales(leeloo: httpx.Client) -> None:
    order = _order(leeloo, create_person(leeloo)["person_id"])
    before = _stats(leeloo)
    assert leeloo.post(f"/api/v2/orders/{order['id']}", data={"status": "REJECTED"}).status_code == 200
    assert leeloo.get(f"/api/v2/orders/{order['id']}").json()["data"]["status"] == "REJECTED"
    assert _stats(leeloo)["sales"] == before["sales"]


def test_a_payment_system_order_cannot_be_updated_by_hand(leeloo: httpx.Client) -> None:
    before = leeloo.get(f"/api/v2/orders/{PAID_BY_CARD}").json()["data"]
    assert before["paymentMethod"] == "ASSET_PAYMENT"
    response = leeloo.post(f"/api/v2/orders/{PAID_BY_CARD}", data={"status": "REJECTED"})
    assert response.status_code == 409 and "manual" in response.json()["message"]
    assert leeloo.get(f"/api/v2/orders/{PAID_BY_CARD}").json()["data"] == before


def test_order_needs_a_manual_payment_system(leeloo: httpx.Client, live: Any) -> None:
    from leadbridge.sandbox import schema

    with live.sandbox.read() as session:
        card = session.query(schema.PaymentCredits.id).filter(
            schema.PaymentCredits.company_id == "5b9f63e3d244d2000e27692f",
            schema.PaymentCredits.payment_method != "MANUAL").first()[0]
    response = leeloo.post("/api/v2/orders", json={"paymentCreditsId": card, "offerId": OFFER,
                                                   "personId": PLACEHOLDER})
    assert response.status_code == 422 and "paymentCreditsId" in response.json()["errors"]


def test_orders_list_pages(leeloo: httpx.Client) -> None:
    default = leeloo.get("/api/v2/orders").json()
    assert (default["meta"]["limit"], default["meta"]["offset"]) == (20, 0)
    first_two = leeloo.get("/api/v2/orders", params={"limit": 2}).json()["data"]
    second = leeloo.get("/api/v2/orders", params={"limit": 1, "offset": 1}).json()["data"]
    assert second[0]["id"] == first_two[1]["id"]
    assert {o["status"] for o in default["data"]} <= {"OPENED", "RESOLVED", "REJECTED", "ORDER", "PENDING",
                                                      "FAILED", "SUCCESS", "REFUNDED"}


def test_an_orders_offer_and_payment_system_are_read_once_then_kept(leeloo: httpx.Client) -> None:
    """Offers and payment systems only change when seeded: a second order reads neither table, and
    an unknown offer is still refused (a 404 is not kept)."""
    person_id = create_person(leeloo)["person_id"]
    _order(leeloo, person_id)
    statements: list[str] = []

    def record(sql: str, _params: dict[str, Any]) -> None:
        statements.append(sql)

    statement_watchers.append(record)
    try:
        _order(leeloo, person_id)
        unknown = leeloo.post("/api/v2/orders", json={"paymentCreditsId": CREDITS, "offerId": "0" * 24,
                                                      "personId": person_id})
    finally:
        statement_watchers.remove(record)
    reads = [sql for sql in statements if "FROM leeloo_offer" in sql or "FROM leeloo_payment_credits" in sql]
    # The unknown offer's lookup only: found records are kept, a refusal is not.
    assert len(reads) == 1 and "FROM leeloo_offer" in reads[0], statements
    assert unknown.status_code == 404 and "offerId" in unknown.json()["errors"]


def _last_message_time(leeloo: httpx.Client, email: str) -> str | None:
    found = leeloo.get("/api/v2/people", params={"filter[email]": email}).json()["data"]
    assert len(found) == 1, found
    value: str | None = found[0]["lastMessageTime"]
    return value


def test_an_order_moves_the_persons_last_message_only_when_its_notice_has_an_account(fresh: RunningSandbox) -> None:
    """The order's notice goes to the person's latest account, and the person's lastMessageTime
    follows it; a person with no account (the API never makes one, the database may hold one)
    gets no notice, and keeps its lastMessageTime."""
    alone, email = "6a0000000000000000000001", "no-account@example.com"
    with fresh.sandbox.write(DEMO_COMPANY) as session:
        session.add(schema.Person(id=alone, company_id=DEMO_COMPANY, name="Без каналов", email=email,
                                  search_text="без каналов", created_at=datetime(2026, 1, 1),
                                  updated_at=datetime(2026, 1, 1)))
    with httpx.Client(base_url=fresh.url, timeout=60,
                      headers={"X-Leeloo-AuthToken": fresh.credentials.leeloo_token}) as leeloo:
        person = create_person(leeloo)
        order = _order(leeloo, person["person_id"])
        assert _last_message_time(leeloo, person["email"]) == order["createdAt"]
        _order(leeloo, alone)
        assert _last_message_time(leeloo, email) is None

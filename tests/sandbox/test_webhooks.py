"""Leeloo webhooks: settings, each event from each of its causes, the documented shapes,
retries and the delivery log under receiver failures, and injected faults on deliveries.

One sandbox per backend for the module, sending to a receiver on 127.0.0.1; each test
starts with an empty delivery queue and a receiver that has seen nothing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest
from leeloo_support import DEMO_COMPANY, PLACEHOLDER, create_person, unique_phone

from http_clients import TIMEOUT
from leadbridge.sandbox import schema
from leadbridge.sandbox.server import RunningSandbox, serve_in_thread
from leadbridge.sandbox.state import MEMORY_URL, Sandbox
from leadbridge.sandbox.webhooks import EVENT_TYPES, LOG_MAX, RetryPolicy
from pg_support import private_pg_schema
from webhook_support import WAIT_SECONDS, Receiver, deliveries, receiving, wait_deliveries

OFFER = "5e3c357bf04b1f000c27b83a"  # "Ручной оффер", 100 USD
CREDITS = "5e3c3533f04b1f000c27b534"  # the demo tenant's manual payment system
SMS_CONNECTION = "5dbfe6c5fb73e101720b3dc7"
SMS_LEADGENTOOL = "5e1f119d6c384804b31e945e"
PERSON_LEADGENTOOL = "609290d3e060416cdea6823e"
ORDER_KEYS = {"order_id", "account_id", "offer_name", "price", "currency", "email", "phone", "created_at"}
SUBSCRIPTION_KEYS = {"account_id", "person_id", "tunnel_id", "leadgentool_id", "source", "email", "phone",
                     "created_at"}
MESSAGE_KEYS = {"message_id", "account_id", "person_id", "text", "email", "phone", "created_at"}
LEELOO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
MAX_ATTEMPTS = 4


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hooked(request: pytest.FixtureRequest, receiver: Receiver) -> Iterator[RunningSandbox]:
    """A sandbox of each backend whose demo tenant sends every event to ``receiver``."""
    def serve(url: str) -> Iterator[RunningSandbox]:
        sandbox = Sandbox(url, seed=7, people=50, webhook_url=receiver.url)
        # Quick retries, so an outage of a few attempts passes in well under a second.
        sandbox.webhooks.policy = RetryPolicy(base_seconds=0.02, cap_seconds=0.1, max_attempts=MAX_ATTEMPTS,
                                              timeout_seconds=TIMEOUT)
        with serve_in_thread(sandbox) as running:
            yield running
        sandbox.close()

    if request.param == "postgresql":
        with private_pg_schema() as url:
            yield from serve(url)
    else:
        yield from serve(MEMORY_URL)


@pytest.fixture
def client(hooked: RunningSandbox, receiver: Receiver) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hooked.url, timeout=TIMEOUT,
                      headers={"X-Leeloo-AuthToken": hooked.credentials.leeloo_token}) as http:
        http.delete("/_sandbox/faults")
        set_hook(http, receiver.url)
        wait_idle(hooked)
        hooked.sandbox.webhooks.clear()
        receiver.reset()
        yield http
        http.delete("/_sandbox/faults")


def set_hook(client: httpx.Client, url: str, events: list[str] | None = None, enabled: bool = True) -> None:
    response = client.put("/_sandbox/webhooks", json={"enabled": enabled, "url": url,
                                                      "events": list(EVENT_TYPES) if events is None else events})
    assert response.status_code == 200, response.text


def wait_idle(running: RunningSandbox) -> None:
    """Until no delivery is waiting or under way (a test's events never reach the next one)."""
    hooks = running.sandbox.webhooks
    deadline = time.monotonic() + WAIT_SECONDS
    while hooks.pending() or any(d["state"] == "pending" for d in hooks.deliveries(limit=LOG_MAX)):
        assert time.monotonic() < deadline, "deliveries never settled"
        time.sleep(0.02)


def order(client: httpx.Client, person_id: str) -> str:
    response = client.post("/api/v2/orders", json={"paymentCreditsId": CREDITS, "offerId": OFFER,
                                                   "personId": person_id})
    assert response.status_code == 200, response.text
    order_id: str = response.json()["data"]["id"]
    return order_id


# --- settings ------------------------------------------------------------------------------


def test_settings_round_trip_and_refuse_bad_values(client: httpx.Client, receiver: Receiver) -> None:
    set_hook(client, receiver.url, ["SALE", "ORDER"])
    shown = client.get("/_sandbox/webhooks", params={"company_id": DEMO_COMPANY}).json()["data"]
    assert shown == [{"company_id": DEMO_COMPANY, "enabled": True, "url": receiver.url, "events": ["ORDER", "SALE"]}]
    everyone = client.get("/_sandbox/webhooks").json()["data"]
    assert len(everyone) >= 2 and {row["company_id"] for row in everyone} >= {DEMO_COMPANY}
    for body, field in (({"enabled": True, "url": "ftp://example.ru/"}, "url"),
                        ({"enabled": True, "url": "http://" + "a" * 2100}, "url"),
                        ({"enabled": True, "url": "http://a..b/hook"}, "url"),  # no socket looks that up
                        ({"enabled": True, "url": "http://xn--a.com/hook"}, "url"),
                        ({"enabled": True, "url": receiver.url, "events": ["ORDERS"]}, "events"),
                        ({"url": receiver.url}, "enabled")):
        refused = client.put("/_sandbox/webhooks", json=body)
        assert refused.status_code == 422, refused.text
        assert any(key.split(".")[0] == field for key in refused.json()["errors"]), refused.text
    missing = client.put("/_sandbox/webhooks", json={"company_id": "0" * 24, "enabled": True, "url": receiver.url})
    assert missing.status_code == 404 and "company_id" in missing.json()["errors"]
    assert client.get("/_sandbox/webhooks", params={"company_id": "nope"}).status_code == 422


def test_only_the_chosen_events_of_an_enabled_webhook_are_sent(client: httpx.Client, receiver: Receiver,
                                                               hooked: RunningSandbox) -> None:
    set_hook(client, receiver.url, ["SALE"])
    person = create_person(client)
    order_id = order(client, person["person_id"])
    set_hook(client, receiver.url, enabled=False)
    create_person(client)
    assert deliveries(client) == []
    set_hook(client, receiver.url, ["SALE"])
    assert client.post(f"/api/v2/orders/{order_id}", json={"status": "RESOLVED"}).status_code == 200
    sale = receiver.wait_event("SALE", lambda data: data["order_id"] == order_id)
    wait_idle(hooked)
    assert [e["type"] for e in receiver.events()] == ["SALE"] and sale["account_id"] == person["id"]


# --- each event from each cause --------------------------------------------------------------


def test_order_and_sale_from_the_api_in_the_wiki_shapes(client: httpx.Client, receiver: Receiver) -> None:
    person = create_person(client)
    order_id = order(client, person["person_id"])
    data = receiver.wait_event("ORDER", lambda d: d["order_id"] == order_id)
    assert set(data) == ORDER_KEYS
    assert (data["account_id"], data["offer_name"], data["price"], data["currency"]) == (
        person["id"], "Ручной оффер", 100, "USD")
    assert (data["email"], data["phone"]) == (person["email"], person["phone"])
    assert LEELOO_TIME.fullmatch(data["created_at"])

    paid = client.post(f"/api/v2/orders/{order_id}", json={"status": "RESOLVED", "paymentDate": "2024-03-01 10:00",
                                                           "currency": "RUB", "price": 10770})
    assert paid.status_code == 200, paid.text
    sale = receiver.wait_event("SALE", lambda d: d["order_id"] == order_id)
    assert set(sale) == ORDER_KEYS | {"payment_method"}
    assert (sale["price"], sale["currency"], sale["created_at"], sale["payment_method"]) == (
        10770, "RUB", "2024-03-01T10:00:00.000Z", CREDITS)
    assert (sale["account_id"], sale["offer_name"], sale["email"]) == (person["id"], "Ручной оффер", person["email"])


def test_order_from_the_console(client: httpx.Client, receiver: Receiver) -> None:
    person = create_person(client)
    made = client.post(f"/_sandbox/ui/people/{person['person_id']}/orders", data={"offer_id": OFFER})
    assert made.status_code == 303 and "error" not in made.headers["location"], made.headers
    data = receiver.wait_event("ORDER", lambda d: d["account_id"] == person["id"])
    assert set(data) == ORDER_KEYS and data["offer_name"] == "Ручной оффер"


def test_subscription_from_create_person_people_sms_and_manual_subscribe(client: httpx.Client,
                                                                          receiver: Receiver) -> None:
    person = create_person(client)
    data = receiver.wait_event("SUBSCRIPTION", lambda d: d["person_id"] == person["person_id"])
    assert set(data) == SUBSCRIPTION_KEYS
    assert (data["account_id"], data["leadgentool_id"], data["email"], data["phone"]) == (
        person["id"], PERSON_LEADGENTOOL, person["email"], person["phone"])
    assert isinstance(data["source"], str) and data["tunnel_id"] and LEELOO_TIME.fullmatch(data["created_at"])

    phone = unique_phone()
    sms = client.post("/api/v2/people/sms", json={"data": [{"name": "СМС Клиент", "phone": phone}],
                                                  "connection_id": SMS_CONNECTION, "leadgentool_id": SMS_LEADGENTOOL})
    assert sms.status_code == 200, sms.text
    by_sms = receiver.wait_event("SUBSCRIPTION", lambda d: d["phone"] == phone)
    assert by_sms["leadgentool_id"] == SMS_LEADGENTOOL and by_sms["email"] == "NOT_DEFINED"

    block = client.get(f"/api/v2/tunnels/{PLACEHOLDER}", params={"include": "blocks"}).json()["linked"]["blocks"][0]
    subscribed = client.post(f"/api/v2/communication-channels/{person['id']}/manual-subscribe",
                             json={"tunnel_id": PLACEHOLDER, "tunnel_block_id": block["id"]})
    assert subscribed.status_code == 200, subscribed.text
    receiver.wait_for(lambda r: len([e for e in r.events("SUBSCRIPTION")
                                     if e["data"]["person_id"] == person["person_id"]]) == 2, "manual-subscribe")
    manual = [e["data"] for e in receiver.events("SUBSCRIPTION") if e["data"]["person_id"] == person["person_id"]]
    assert {d["tunnel_id"] for d in manual} >= {PLACEHOLDER}


def test_incoming_message_from_the_control_api_and_the_console(client: httpx.Client, receiver: Receiver) -> None:
    person = create_person(client)
    written = client.post("/_sandbox/incoming-messages", json={"account_id": person["id"], "text": "Сколько стоит?"})
    assert written.status_code == 200, written.text
    data = receiver.wait_event("INCOMING_MESSAGE", lambda d: d["text"] == "Сколько стоит?"
                               and d["account_id"] == person["id"])
    assert set(data) == MESSAGE_KEYS
    assert (data["person_id"], data["email"], data["phone"]) == (person["person_id"], person["email"], person["phone"])
    chat = client.get(f"/api/v2/communication-channels/{person['id']}/chat-messages").json()["data"]
    assert chat[0]["id"] == data["message_id"] and chat[0]["createdAt"] == data["created_at"]

    console = client.post(f"/_sandbox/ui/people/{person['person_id']}/messages",
                          data={"account_id": person["id"], "text": "из консоли"})
    assert console.status_code == 303
    receiver.wait_event("INCOMING_MESSAGE", lambda d: d["text"] == "из консоли" and d["account_id"] == person["id"])


def test_a_refused_write_sends_nothing(client: httpx.Client, hooked: RunningSandbox) -> None:
    person = create_person(client)
    order_id = order(client, person["person_id"])
    wait_idle(hooked)
    before = deliveries(client, limit=1000)
    refused = client.post("/api/v2/orders", json={"paymentCreditsId": CREDITS, "offerId": "0" * 24,
                                                  "personId": person["person_id"]})
    assert refused.status_code == 404
    rejected = client.post(f"/api/v2/orders/{order_id}", json={"status": "REJECTED"})
    assert rejected.status_code == 200  # a rejected order is no sale
    again = client.post(f"/api/v2/orders/{order_id}", json={"status": "RESOLVED"})
    assert again.status_code == 409
    bad_message = client.post("/_sandbox/incoming-messages", json={"account_id": "0" * 24, "text": "эй"})
    assert bad_message.status_code == 404
    # The log takes a delivery as its write commits, before the answer: nothing new is there.
    assert deliveries(client, limit=1000) == before


# --- delivery: retries, the log, injected faults ---------------------------------------------


def test_failed_attempts_are_retried_and_logged(client: httpx.Client, receiver: Receiver,
                                                hooked: RunningSandbox) -> None:
    receiver.reset(fail_first=2)
    person = create_person(client)
    log = wait_deliveries(client, lambda ds: ds[0]["state"] == "delivered", "a delivery after two failures")
    entry = log[0]
    assert (entry["event_type"], entry["attempts"], entry["last_status"], entry["url"]) == (
        "SUBSCRIPTION", 3, 200, receiver.url)
    assert entry["company_id"] == DEMO_COMPANY and entry["body"]["data"]["person_id"] == person["person_id"]
    assert entry["delivered_at"] >= entry["created_at"]
    assert receiver.requests == 3 and len(receiver.received) == 1
    assert receiver.received[0].delivery == entry["id"] and receiver.received[0].content_type == "application/json"

    receiver.reset(fail_first=100)
    client.post("/_sandbox/incoming-messages", json={"account_id": person["id"], "text": "никто не слышит"})
    failed = wait_deliveries(client, lambda ds: ds[0]["state"] == "failed", "a delivery to give up")[0]
    assert (failed["attempts"], failed["last_status"], failed["last_error"]) == (MAX_ATTEMPTS, 500, "HTTP 500")
    assert receiver.requests == MAX_ATTEMPTS


def test_a_receiver_that_is_down_is_retried(client: httpx.Client, receiver: Receiver, hooked: RunningSandbox) -> None:
    with receiving() as gone:
        url = gone.url
    set_hook(client, url)  # nothing listens there any more
    create_person(client)
    failed = wait_deliveries(client, lambda ds: ds[0]["state"] == "failed", "a delivery to a closed port")[0]
    assert failed["attempts"] == MAX_ATTEMPTS and failed["last_status"] is None and failed["last_error"]


def test_a_stored_url_no_delivery_can_reach_fails_its_deliveries_not_the_others(
        client: httpx.Client, receiver: Receiver, hooked: RunningSandbox) -> None:
    # A setting stored before its URL was checked (by an older version): read at start, as here.
    with hooked.sandbox.write(DEMO_COMPANY) as session:
        session.merge(schema.WebhookSetting(company_id=DEMO_COMPANY, enabled=True, url="http://a..b/hook",
                                            events=",".join(EVENT_TYPES)))
    hooked.sandbox.webhooks.load()
    create_person(client)
    failed = wait_deliveries(client, lambda ds: ds[0]["state"] == "failed", "a delivery to a host name no one has")[0]
    assert failed["attempts"] == MAX_ATTEMPTS and failed["last_status"] is None and failed["last_error"]
    set_hook(client, receiver.url)  # the workers live on: the next event is delivered
    create_person(client)
    wait_deliveries(client, lambda ds: ds[0]["state"] == "delivered", "a delivery after the failed ones")


def test_faults_drop_duplicate_delay_and_fail_deliveries(client: httpx.Client, receiver: Receiver,
                                                         hooked: RunningSandbox) -> None:
    person = create_person(client)
    wait_idle(hooked)
    receiver.reset()

    def fault(**spec: object) -> None:
        client.delete("/_sandbox/faults")
        response = client.post("/_sandbox/faults", json={"target": "webhooks", "pattern": "^INCOMING_MESSAGE$",
                                                         **spec})
        assert response.status_code == 200, response.text

    def write(text: str) -> None:
        sent = client.post("/_sandbox/incoming-messages", json={"account_id": person["id"], "text": text})
        assert sent.status_code == 200

    fault(drop_rate=1)
    write("потеряно")
    dropped = deliveries(client)[0]
    assert (dropped["state"], dropped["attempts"]) == ("failed", 0) and "dropped" in dropped["last_error"]

    fault(duplicate_rate=1)
    write("дважды")
    receiver.wait_for(lambda r: len(r.events("INCOMING_MESSAGE")) == 2, "a duplicated delivery")
    first, second = receiver.events("INCOMING_MESSAGE")
    assert first == second and first["data"]["text"] == "дважды"
    assert len({r.delivery for r in receiver.received}) == 2

    fault(latency_ms=300)
    write("позже")
    late = wait_deliveries(client, lambda ds: ds[0]["state"] == "delivered", "a delayed delivery")[0]
    waited = datetime.fromisoformat(late["delivered_at"][:-1]) - datetime.fromisoformat(late["created_at"][:-1])
    assert waited.total_seconds() >= 0.3

    fault(error_rate=1, error_status=502, pattern=".*")
    assert client.get("/api/v2/people", params={"limit": 1}).status_code == 200  # the API is not disturbed
    write("сбой")
    failed = wait_deliveries(client, lambda ds: ds[0]["state"] == "failed", "deliveries failing by a fault")[0]
    assert (failed["attempts"], failed["last_status"]) == (MAX_ATTEMPTS, 502)
    assert [e["data"]["text"] for e in receiver.events("INCOMING_MESSAGE")] == ["дважды", "дважды", "позже"]
    faults = client.get("/_sandbox/faults").json()["faults"]
    assert faults[0]["target"] == "webhooks" and faults[0]["error_rate"] == 1


def test_a_webhook_fault_is_refused_with_bad_values(client: httpx.Client) -> None:
    for spec, field in (({"target": "queue"}, "target"), ({"target": "webhooks", "drop_rate": 2}, "drop_rate"),
                        ({"target": "webhooks", "duplicate_rate": -1}, "duplicate_rate")):
        refused = client.post("/_sandbox/faults", json=spec)
        assert refused.status_code == 422 and field in refused.json()["errors"], refused.text


def test_the_console_shows_and_changes_the_settings_and_the_log(client: httpx.Client, receiver: Receiver) -> None:
    create_person(client)
    wait_deliveries(client, lambda ds: bool(ds) and ds[0]["state"] == "delivered", "a delivery")
    page = client.get("/_sandbox/ui/webhooks")
    assert page.status_code == 200 and receiver.url in page.text and "SUBSCRIPTION" in page.text
    assert "delivered" in page.text
    changed = client.post("/_sandbox/ui/webhooks", data={"enabled": "1", "url": receiver.url, "event_SALE": "1"})
    assert changed.status_code == 303 and "error" not in changed.headers["location"]
    shown = client.get("/_sandbox/webhooks", params={"company_id": DEMO_COMPANY}).json()["data"][0]
    assert shown["events"] == ["SALE"] and shown["enabled"] is True
    refused = client.post("/_sandbox/ui/webhooks", data={"enabled": "1", "url": "not a url"})
    assert refused.status_code == 303 and "error" in refused.headers["location"]

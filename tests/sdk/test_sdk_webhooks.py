"""leadbridge.webhooks: the typed events of Leeloo's webhooks and the ASGI receiver, served over HTTP."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from http_clients import TIMEOUT
from leadbridge import webhooks

ORDER = {"order_id": "5eabf8e1f5bd1b000e8c8d41", "account_id": "5b3f543bb2737000133d25b0", "offer_name": "Курс",
         "price": 10770, "currency": "RUB", "email": "client@example.ru", "phone": "79991234567",
         "created_at": "2020-05-01T10:47:06.474Z"}


def test_the_four_events_read_into_their_types() -> None:
    order = webhooks.parse({"type": "ORDER", "data": ORDER})
    assert isinstance(order, webhooks.OrderEvent)
    assert order.data.order_id == ORDER["order_id"] and order.data.price == 10770 and order.data.currency == "RUB"
    assert order.data.created_at == datetime(2020, 5, 1, 10, 47, 6, 474000, tzinfo=UTC)
    sale = webhooks.parse({"type": "SALE", "data": {**ORDER, "payment_method": "5e3c3533f04b1f000c27b534"}})
    assert isinstance(sale, webhooks.SaleEvent) and sale.data.payment_method == "5e3c3533f04b1f000c27b534"
    subscription = webhooks.parse({"type": "SUBSCRIPTION", "data": {
        "account_id": "a1", "person_id": "p1", "tunnel_id": "t1", "leadgentool_id": "l1", "source": None,
        "email": "NOT_DEFINED", "phone": None, "created_at": "2020-05-01T10:47:06.474Z"}})
    assert isinstance(subscription, webhooks.SubscriptionEvent)
    assert (subscription.person_id, subscription.data.tunnel_id, subscription.data.email) == ("p1", "t1", None)
    message = webhooks.parse(b'{"type": "INCOMING_MESSAGE", "data": {"message_id": "m1", "account_id": "a1", '
                             b'"person_id": "p1", "text": "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", '
                             b'"email": null, "phone": "NOT_DEFINED", "created_at": "2020-05-01T10:47:06.474Z"}}')
    assert isinstance(message, webhooks.IncomingMessageEvent)
    assert (message.person_id, message.data.text, message.data.phone) == ("p1", "Привет", None)


def test_redeliveries_share_a_key_and_distinct_events_do_not() -> None:
    first = webhooks.parse({"type": "ORDER", "data": ORDER})
    assert webhooks.parse({"type": "ORDER", "data": dict(ORDER)}).dedupe_key == first.dedupe_key
    assert webhooks.parse({"type": "SALE", "data": ORDER}).dedupe_key != first.dedupe_key
    assert webhooks.parse({"type": "ORDER", "data": {**ORDER, "order_id": "x"}}).dedupe_key != first.dedupe_key

    def subscription(**changes: Any) -> str:
        data = {"account_id": "a1", "leadgentool_id": "l1", "created_at": "2020-05-01T10:47:06.474Z", **changes}
        return webhooks.parse({"type": "SUBSCRIPTION", "data": data}).dedupe_key

    assert subscription() == subscription(person_id="ignored", source="vk")
    assert len({subscription(), subscription(account_id="a2"), subscription(leadgentool_id="l2"),
                subscription(created_at="2020-05-01T10:47:07.000Z")}) == 4
    # Two subscriptions whose times cannot be read are still told apart by the text they came with.
    assert subscription(created_at="yesterday") != subscription(created_at="today")


def test_unknown_fields_types_and_events_are_tolerated() -> None:
    event = webhooks.parse({"type": "ORDER", "extra": 1, "data": {
        **ORDER, "price": "10770.50", "phone": 79991234567, "currency": ["RUB"], "created_at": "not a time",
        "coupon": {"code": "X"}}})
    assert isinstance(event, webhooks.OrderEvent)
    assert event.data.price == 10770.5 and event.data.phone == "79991234567"
    assert event.data.currency is None and event.data.created_at is None
    assert event.data.model_extra == {"coupon": {"code": "X"}} and event.model_extra == {"extra": 1}
    assert event.raw["data"]["currency"] == ["RUB"]
    unknown = webhooks.parse('{"type": "REFUND", "data": {"order_id": "o1"}}')
    assert isinstance(unknown, webhooks.UnknownEvent) and unknown.data == {"order_id": "o1"}
    assert unknown.dedupe_key.startswith("REFUND:")
    assert unknown.dedupe_key == webhooks.parse({"data": {"order_id": "o1"}, "type": "REFUND"}).dedupe_key


@pytest.mark.parametrize(("body", "field"), [
    (b"{not json", "body"), (b"[1, 2]", "body"), (b'{"data": {}}', "type"), (b'{"type": 3}', "type"),
    (b'{"type": "SALE", "data": "x"}', "data"), (b'{"type": "ORDER", "data": {"price": 1}}', "data.order_id"),
    (b'{"type": "INCOMING_MESSAGE", "data": {"message_id": ""}}', "data.message_id"),
    (('{"type": "ORDER", "data": {"order_id": "%s"}}' % ("x" * 65)).encode(), "data.order_id"),
    (b'{"type": "' + b"T" * 41 + b'"}', "type"), (b"[" * 100_000, "body"),
])
def test_a_body_that_is_not_an_event_is_refused_naming_the_field(body: bytes, field: str) -> None:
    with pytest.raises(webhooks.WebhookError) as caught:
        webhooks.parse(body)
    assert caught.value.field == field


@contextmanager
def served(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a thread on a free port of 127.0.0.1."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="auto"))
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        listener.close()


def test_the_receiver_answers_200_only_after_its_handler_returned() -> None:
    handled: list[webhooks.Event] = []

    def handler(event: webhooks.Event) -> None:
        if isinstance(event, webhooks.SaleEvent):
            raise RuntimeError("the database is down")
        handled.append(event)

    with served(webhooks.Receiver(handler)) as url, httpx.Client(base_url=url, timeout=TIMEOUT) as client:
        assert client.post("/", json={"type": "ORDER", "data": ORDER}).status_code == 200
        assert client.post("/webhooks/leeloo", json={"type": "ORDER", "data": ORDER}).status_code == 200
        assert [e.dedupe_key for e in handled] == [f"ORDER:{ORDER['order_id']}"] * 2
        failed = client.post("/", json={"type": "SALE", "data": ORDER})
        assert failed.status_code == 500 and "again" in failed.json()["error"]
        refused = client.post("/", content=b'{"type": "ORDER", "data": {}}')
        assert refused.status_code == 400 and refused.json()["field"] == "data.order_id"
        assert client.post("/", content=b"x" * (webhooks.MAX_BODY_BYTES + 1)).status_code == 413
        assert client.get("/").status_code == 405
        assert client.post("/other", json={"type": "ORDER", "data": ORDER}).status_code == 404
        assert len(handled) == 2


def test_the_receiver_mounts_in_an_app_with_an_async_handler() -> None:
    handled: list[str] = []

    async def handler(event: webhooks.Event) -> None:
        await asyncio.sleep(0)
        handled.append(event.type)

    app = FastAPI()
    app.mount("/hooks", webhooks.Receiver(handler))
    with served(app) as url, httpx.Client(base_url=url, timeout=TIMEOUT) as client:
        assert client.post("/hooks/", json={"type": "REFUND", "data": {}}).status_code == 200
        assert client.post("/hooks/webhooks/leeloo", json={"type": "ORDER", "data": ORDER}).status_code == 200
    assert handled == ["REFUND", "ORDER"]

"""The living sandbox: activity on the sandbox clock, deterministic from the seed, emitting
the same webhooks as the API's causes, with the real-time clock and with clock/advance.

The events are read from the webhook delivery log (taken as each write commits), with the
demo tenant's webhook pointed at a receiver on 127.0.0.1.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from test_webhooks import MESSAGE_KEYS, ORDER_KEYS, SUBSCRIPTION_KEYS

from http_clients import TIMEOUT
from leadbridge.sandbox import schema
from leadbridge.sandbox.activity import parse_rate
from leadbridge.sandbox.server import RunningSandbox, serve_in_thread
from leadbridge.sandbox.state import MEMORY_URL, Sandbox
from pg_support import private_pg_schema
from webhook_support import WAIT_SECONDS, Receiver, receiving

# Fields that are the same in two runs of one seed (generated ids carry the time they were made).
STABLE_FIELDS = ("text", "offer_name", "price", "currency", "email", "phone", "source")


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "postgresql":
        with private_pg_schema() as url:
            yield url
    else:
        yield MEMORY_URL


@contextmanager
def living(url: str, receiver: Receiver, activity: str, seed: int = 7) -> Iterator[RunningSandbox]:
    """A served sandbox with activity; closed once its server (and so its activity) stopped."""
    sandbox = Sandbox(url, seed=seed, people=50, activity=activity, webhook_url=receiver.url)
    try:
        with serve_in_thread(sandbox) as running:
            yield running
    finally:
        sandbox.close()


def advance(running: RunningSandbox, seconds: float) -> dict[str, Any]:
    response = httpx.post(f"{running.url}/_sandbox/clock/advance", json={"seconds": seconds}, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def events(running: RunningSandbox) -> list[dict[str, Any]]:
    """Every event emitted so far, oldest first."""
    response = httpx.get(f"{running.url}/_sandbox/webhooks/deliveries", params={"limit": 10_000}, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return [entry["body"] for entry in reversed(response.json()["data"])]


def at(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["data"]["created_at"][:-1])


def test_rates_are_named_or_numbers() -> None:
    assert (parse_rate("calm"), parse_rate("busy"), parse_rate("90"), parse_rate(2.5)) == (6.0, 400.0, 90.0, 2.5)
    for bad in ("lively", "0", "-3", "nan", "inf", "100000"):
        with pytest.raises(ValueError, match="activity"):
            parse_rate(bad)


def test_the_same_seed_makes_the_same_events(backend: str, receiver: Receiver, tmp_path: Any) -> None:
    runs = []
    for url in (backend, MEMORY_URL if backend != MEMORY_URL else f"sqlite:///{tmp_path / 'second.sqlite3'}"):
        with living(url, receiver, "120") as running:
            advance(running, 120)
            runs.append(events(running)[:200])
    first, second = runs
    assert len(first) == len(second) == 200
    assert [e["type"] for e in first] == [e["type"] for e in second]
    assert len({e["type"] for e in first}) == 4
    for one, other in zip(first, second, strict=True):
        assert {k: one["data"].get(k) for k in STABLE_FIELDS} == {k: other["data"].get(k) for k in STABLE_FIELDS}
    offsets = [[(at(e) - at(run[0])).total_seconds() for e in run] for run in runs]
    assert all(abs(a - b) < 0.002 for a, b in zip(*offsets, strict=True))


def test_advancing_the_clock_makes_the_events_of_those_minutes_in_order(backend: str, receiver: Receiver) -> None:
    with living(backend, receiver, "30") as running:
        before = datetime.fromisoformat(httpx.get(f"{running.url}/_sandbox/clock", timeout=TIMEOUT)
                                        .json()["now"][:-1])
        after = datetime.fromisoformat(advance(running, 600)["now"][:-1])
        made = [e for e in events(running) if before <= at(e) <= after]
        times = [at(e) for e in made]
        assert times == sorted(times)  # produced in order, each at its own time
        assert 220 <= len(made) <= 400  # about 30 a minute for 10 minutes
        assert (times[-1] - before).total_seconds() > 540 and (times[0] - before).total_seconds() < 60


def test_busy_activity_moves_every_part_of_the_world(backend: str, receiver: Receiver) -> None:
    with living(backend, receiver, "busy") as running:
        sandbox = running.sandbox
        with sandbox.read() as session:
            deals_before = set(session.scalars(select(schema.Deal.id)))
        clock = datetime.fromisoformat(advance(running, 0)["now"][:-1])
        advance(running, 60)
        made = events(running)
        kinds = Counter(e["type"] for e in made if clock < at(e) <= clock + timedelta(seconds=60))
        assert kinds["INCOMING_MESSAGE"] >= 200  # busy feeds over 200 incoming messages a minute
        assert min(kinds[k] for k in ("ORDER", "SALE", "SUBSCRIPTION")) > 0
        # Activity's events have exactly the shapes the API's causes give.
        expected = {"ORDER": ORDER_KEYS, "SALE": ORDER_KEYS | {"payment_method"}, "SUBSCRIPTION": SUBSCRIPTION_KEYS,
                    "INCOMING_MESSAGE": MESSAGE_KEYS}
        assert all(set(e["data"]) == expected[e["type"]] for e in made)
        subscribed = {e["data"]["person_id"] for e in made if e["type"] == "SUBSCRIPTION"}
        wrote = {e["data"]["person_id"] for e in made if e["type"] == "INCOMING_MESSAGE"}
        assert subscribed & wrote  # new people go on to write in
        paid = {e["data"]["order_id"] for e in made if e["type"] == "SALE"}
        assert paid & {e["data"]["order_id"] for e in made if e["type"] == "ORDER"}
        with sandbox.read() as session:
            deals = session.execute(select(schema.Deal.id, schema.Deal.phone, schema.Deal.record)).all()
            phones = {p.lstrip("+") for p in session.scalars(select(schema.Person.phone)) if p}
        new = [d for d in deals if d.id not in deals_before]
        assert new and all(d.record for d in new)  # call records
        assert any(d.phone in phones for d in new) and any(d.phone not in phones for d in new)


def test_the_world_moves_with_the_real_time_clock(receiver: Receiver) -> None:
    with living(MEMORY_URL, receiver, "600") as running:
        deadline = time.monotonic() + WAIT_SECONDS
        while not events(running):
            assert time.monotonic() < deadline, "no activity in real time"
            time.sleep(0.05)
        first = events(running)[0]
        now = datetime.fromisoformat(httpx.get(f"{running.url}/_sandbox/clock", timeout=TIMEOUT).json()["now"][:-1])
        assert at(first) <= now

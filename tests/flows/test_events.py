"""The ledger's event table on SQLite and PostgreSQL: one row per event however often delivered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from leadbridge.flows.events import EventStore, NewEvent
from leadbridge.flows.ledger import Ledger, NewUnit
from leadbridge.flows.serve import claim_unit
from pg_support import private_pg_schema


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    if request.param == "sqlite":
        with Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite3'}") as opened:
            yield opened
        return
    with private_pg_schema() as url, Ledger(url) as opened:
        yield opened


def test_an_event_is_recorded_once_and_processed_once(ledger: Ledger) -> None:
    store = EventStore(ledger)
    first = NewEvent("INCOMING_MESSAGE:m1", "INCOMING_MESSAGE", {"type": "INCOMING_MESSAGE", "data": {"n": 1}})
    assert store.record([first, NewEvent("ORDER:o1", "ORDER", {"type": "ORDER"}, "nothing to trigger")]) == 2
    assert store.record([first, NewEvent("INCOMING_MESSAGE:m2", "INCOMING_MESSAGE", {})]) == 1
    waiting = store.waiting()
    assert [e.type for e in waiting] == ["INCOMING_MESSAGE", "INCOMING_MESSAGE"]
    assert waiting[0].body == {"type": "INCOMING_MESSAGE", "data": {"n": 1}}
    store.processed({event.id: "call-leads: lead queued" for event in waiting})
    assert store.waiting() == []
    assert store.counts() == {("INCOMING_MESSAGE", "processed"): 2, ("ORDER", "processed"): 1}
    assert [(e.type, e.outcome) for e in store.latest(2)] == [("INCOMING_MESSAGE", "call-leads: lead queued"),
                                                              ("ORDER", "nothing to trigger")]


def test_a_unit_is_claimed_by_its_key_once(ledger: Ledger) -> None:
    ledger.add_units("revenue-to-neiros", "person", [NewUnit("p1", {"total": 1.0}), NewUnit("p2", {"total": 2.0})])
    unit = claim_unit(ledger, "revenue-to-neiros", "person", "p2")
    assert unit is not None and unit.key == "p2" and unit.state == "claimed"
    assert claim_unit(ledger, "revenue-to-neiros", "person", "p2") is None
    assert [u.key for u in ledger.claim("revenue-to-neiros", "person", 10)] == ["p1"]

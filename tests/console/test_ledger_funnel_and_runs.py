"""The ledger's funnel figures and history of runs, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from leadbridge.flows import funnel
from leadbridge.flows.ledger import Ledger, NewUnit


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    url = request.getfixturevalue("pg_schema_url") if request.param == "postgresql" \
        else f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    with Ledger(url) as book:
        yield book


def result(phone: str, outcome: str, goal: bool = False) -> dict[str, object]:
    return {"phone": phone, "outcome": outcome, "goal": goal, "attempt": 1}


def test_funnel_counts_people_by_phone_at_each_step(ledger: Ledger) -> None:
    leads = [NewUnit(f"p{i}", {"phone": f"+7999000000{i}"}, dedupe=f"+7999000000{i}") for i in range(5)]
    leads.append(NewUnit("p-bad", {"phone": "12"}, state="skipped", error="invalid phone"))
    ledger.add_units("call-leads", "lead", leads)
    claimed = ledger.claim("call-leads", "lead", 4)
    batch = ledger.create_claimed("call-leads", "campaign", "b1", {"phones": 4}, children=[u.id for u in claimed])
    ledger.finish(batch.id, "done", result={"campaign_id": 7, "phones": 4})
    ledger.add_units("call-results", "result", [
        NewUnit("7:1", result("+79990000000", "no_answer")),
        NewUnit("7:2", result("+79990000000", "answered", goal=True)),  # the same person, called again
        NewUnit("7:3", result("+79990000001", "answered")),
        NewUnit("7:4", result("+79990000002", "busy")),
    ])
    ledger.add_units("revenue-to-neiros", "order", [NewUnit("o1", {"price": 10}, state="done"),
                                                    NewUnit("o2", {"price": 5}, state="done"),
                                                    NewUnit("o3", {"price": 1}, state="skipped")])
    ledger.add_units("revenue-to-neiros", "person", [NewUnit("p0", {"total": 1500.5}),
                                                     NewUnit("p1", {"total": 99.5})])
    person = ledger.claim("revenue-to-neiros", "person", 1)
    ledger.finish(person[0].id, "done")

    figures = funnel.figures(ledger)
    assert figures == {"leads": 6, "queued": 4, "called": 3, "answered": 2, "goal": 1, "orders_paid": 2,
                       "revenue_people": 1, "revenue": {"p0": 1500.5, "p1": 99.5}[person[0].key]}


def test_runs_are_recorded_newest_first(ledger: Ledger) -> None:
    first = ledger.start_run(["call-leads"])
    ledger.finish_run(first, {"call-leads": {"new leads": 3}}, "ok")
    second = ledger.start_run(["call-results", "revenue-to-neiros"], dry_run=True)
    runs = ledger.runs()
    assert [r.id for r in runs] == [second, first]
    assert runs[0].finished_at is None and runs[0].exit is None and runs[0].dry_run
    assert runs[0].flows == ["call-results", "revenue-to-neiros"]
    assert runs[1].counts == {"call-leads": {"new leads": 3}} and runs[1].exit == "ok"
    assert runs[1].finished_at is not None and runs[1].finished_at >= runs[1].started_at
    assert ledger.runner_alive(runs[0].runner)

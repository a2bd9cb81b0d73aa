"""Dialog campaigns running on the sandbox clock, and the report over their calls.

Uses ``clocked`` (a sandbox per backend for this module) because the tests move the clock.
Each test builds its own campaign on a day after the sandbox's current date, so tests do
not depend on one another's clock moves.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import httpx
import pytest

from docs_fixtures import load
from http_clients import TIMEOUT
from leadbridge.sandbox.server import RunningSandbox, serve_in_thread
from leadbridge.sandbox.state import MEMORY_URL, Sandbox

Finished = tuple[int, str, list[dict[str, Any]]]
PACE = timedelta(seconds=30)  # dialog.backend.CALL_PACE_SECONDS
WINDOW = ("10:00", "10:20")  # 40 call slots a day
PHONES = 60
ATTEMPTS = 3
INTERVAL_MINUTES = 7
STATES = ("Создано", "В работе", "Завершено")


def login(url: str) -> httpx.Client:
    token = httpx.post(f"{url}/api/login", json={"login": "demo", "password": "demo"}, timeout=TIMEOUT).json()["token"]
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


@pytest.fixture(scope="module")
def client(clocked: RunningSandbox) -> Iterator[httpx.Client]:
    with login(clocked.url) as c:
        yield c


def now(client: httpx.Client) -> datetime:
    return parse(client.get("/_sandbox/clock").json()["now"])


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.removesuffix("Z"))


def advance_to(client: httpx.Client, moment: datetime) -> None:
    seconds = (moment - now(client)).total_seconds()
    if seconds > 0:
        assert client.post("/_sandbox/clock/advance", json={"seconds": seconds}).status_code == 200


def campaign_body(day: str, phones: int = PHONES, attempts: int = ATTEMPTS) -> dict[str, Any]:
    body: dict[str, Any] = load("dialog", "campaigns_create")["request"]["body"]
    body["campaign"]["schedule"].update(
        date=day, start_time=WINDOW[0], end_time=WINDOW[1], attempts={"id": attempts, "title": str(attempts)},
        interval=str(INTERVAL_MINUTES),
    )
    body["phones"] = [{"phone": f"+7912{n:07d}", "add_data": {"name": f"Клиент {n}", "time": "11:00"}}
                      for n in range(phones)]
    return body


def next_day(client: httpx.Client) -> str:
    return (now(client) + timedelta(days=2)).date().isoformat()


def create(client: httpx.Client, body: dict[str, Any]) -> int:
    response = client.post("/api/campaigns", json=body)
    assert response.status_code == 200, response.text
    campaign_id: int = response.json()["campaign"]["id"]
    return campaign_id


def state(client: httpx.Client, campaign_id: int) -> dict[str, Any]:
    campaign: dict[str, Any] = client.get(f"/api/campaigns/{campaign_id}").json()["campaign"]
    return campaign


def report(client: httpx.Client, campaign_id: int, columns: list[dict[str, Any]] | None = None,
           **window: str) -> dict[str, Any]:
    body = {
        "analytics_filter": {"scenario_id": 951, "start_block_id": 10, "outgoing_campaign_id": campaign_id,
                             "date_start": window.get("date_start", "2000-01-01"),
                             "date_end": window.get("date_end", "2100-01-01")},
        "columns": columns or [],
    }
    response = client.post("/api/analytics/1/report", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.fixture(scope="module")
def finished(client: httpx.Client) -> Finished:
    """A campaign of PHONES numbers run to its end: (id, first day, every call with all columns)."""
    day = next_day(client)
    campaign_id = create(client, campaign_body(day))
    advance_to(client, datetime.fromisoformat(day) + timedelta(days=10))
    rows = report(client, campaign_id)["data"]
    return campaign_id, day, rows


# --- the run ---------------------------------------------------------------------------------


def test_campaign_waits_for_its_window_then_runs_then_finishes(client: httpx.Client) -> None:
    day = next_day(client)
    campaign_id = create(client, campaign_body(day))
    opens = datetime.fromisoformat(f"{day}T{WINDOW[0]}")
    assert state(client, campaign_id)["state"] == "Создано"
    advance_to(client, opens - timedelta(seconds=1))
    waiting = state(client, campaign_id)
    assert waiting["state"] == "Создано" and waiting["calls_count"] == 0
    advance_to(client, opens + timedelta(minutes=5, seconds=1))
    running = state(client, campaign_id)
    assert running["state"] == "В работе"
    assert running["calls_count"] == 11  # 10:00:00 … 10:05:00, one every 30 s
    rows = report(client, campaign_id)["data"]
    assert [parse(row["started_at"]) for row in rows] == [opens + PACE * i for i in range(11)]
    advance_to(client, opens + timedelta(days=10))
    done = state(client, campaign_id)
    assert done["state"] == "Завершено"
    assert done["calls_count"] == report(client, campaign_id)["count"] > PHONES


def test_calls_only_inside_the_daily_window_and_carry_over(finished: Finished) -> None:
    _, day, rows = finished
    starts = [parse(row["started_at"]) for row in rows]
    assert all(WINDOW[0] <= moment.strftime("%H:%M") < WINDOW[1] for moment in starts)
    assert min(starts).date().isoformat() == day
    assert len({moment.date() for moment in starts}) >= 2  # 40 slots a day cannot hold them all
    assert all(b - a >= PACE for a, b in pairwise(starts))


def test_numbers_are_called_in_list_order(finished: Finished) -> None:
    firsts = [row["phone_number"] for row in finished[2] if row["attempt"] == 1]
    assert firsts == [f"+7912{n:07d}" for n in range(PHONES)]


def test_attempts_and_interval_are_honoured(finished: Finished) -> None:
    by_phone: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in finished[2]:
        by_phone[row["phone_number"]].append(row)
    assert len(by_phone) == PHONES
    retried = 0
    for calls in by_phone.values():
        assert [call["attempt"] for call in calls] == list(range(1, len(calls) + 1))
        assert len(calls) <= ATTEMPTS
        for earlier, later in pairwise(calls):
            assert earlier["outcome"] in ("no_answer", "busy", "voicemail")
            gap = parse(later["started_at"]) - parse(earlier["started_at"])
            assert gap >= timedelta(minutes=INTERVAL_MINUTES)
            retried += 1
        final = calls[-1]
        assert final["outcome"] == "answered" or final["attempt"] == ATTEMPTS
    assert retried > 0


def test_outcomes_goal_and_transcript_are_consistent(finished: Finished) -> None:
    rows = finished[2]
    assert {row["outcome"] for row in rows} == {"answered", "no_answer", "busy", "voicemail"}
    for row in rows:
        if row["goal"]:
            assert row["outcome"] == "answered"
        if row["outcome"] in ("no_answer", "busy"):
            assert row["duration"] == 0 and row["transcript"] == ""
        else:
            assert row["duration"] > 0
            assert row["name"] in row["transcript"]
    assert any(row["goal"] for row in rows) and any(not row["goal"] and row["outcome"] == "answered" for row in rows)


def test_reading_twice_changes_nothing(client: httpx.Client, finished: Finished) -> None:
    campaign_id, _, rows = finished
    assert report(client, campaign_id)["data"] == rows
    assert report(client, campaign_id)["data"] == rows


def test_past_date_starts_in_the_next_window_after_creation(client: httpx.Client) -> None:
    created_at = now(client)
    body = campaign_body("2000-01-01", phones=3, attempts=1)
    campaign_id = create(client, body)
    advance_to(client, created_at + timedelta(days=2))
    rows = report(client, campaign_id)["data"]
    assert len(rows) == 3
    first = parse(rows[0]["started_at"])
    assert first >= created_at.replace(microsecond=0)
    assert WINDOW[0] <= first.strftime("%H:%M") < WINDOW[1]
    assert first - created_at < timedelta(days=1)
    assert state(client, campaign_id)["state"] == "Завершено"


def test_document_examples_end_to_end(fresh: RunningSandbox) -> None:
    """The document's campaign (dated 2000-01-01) gets id 12345 and runs after its creation; the
    document's report request then answers with its columns, though its window (2000-01-01)
    holds no calls; widened to now, it finds the example's one number."""
    with login(fresh.url) as client:
        assert create(client, load("dialog", "campaigns_create")["request"]["body"]) == 12345
        advance_to(client, now(client) + timedelta(days=2))
        fixture = load("dialog", "analytics_report")["request"]
        verbatim = client.post(fixture["path"], json=fixture["body"])
        assert verbatim.status_code == 200
        body = verbatim.json()
        assert body["columns"] == [{"field": "phone_number", "display_name": "Phone Number", "type": "text"}]
        assert body["count"] == 0 and body["data"] == []
        fixture["body"]["analytics_filter"]["date_end"] = "2100-01-01"
        widened = client.post(fixture["path"], json=fixture["body"]).json()
        assert widened["data"] == [{"phone_number": "+79999999999"}]
        assert widened["count"] == 1 and widened["total_duration"] == widened["avg_duration"]
        assert state(client, 12345)["state"] == "Завершено"


def run_in_new_sandbox(seed: int, day: str) -> list[dict[str, Any]]:
    with serve_in_thread(Sandbox(MEMORY_URL, seed=seed, people=10)) as running, login(running.url) as client:
        campaign_id = create(client, campaign_body(day, phones=20))
        advance_to(client, datetime.fromisoformat(day) + timedelta(days=5))
        rows: list[dict[str, Any]] = report(client, campaign_id)["data"]
        return rows


def test_same_seed_same_outcomes_other_seed_others() -> None:
    day = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    first, second, other = run_in_new_sandbox(5, day), run_in_new_sandbox(5, day), run_in_new_sandbox(6, day)
    assert first == second
    assert [row["outcome"] for row in first] != [row["outcome"] for row in other]


# --- the report over a finished campaign -------------------------------------------------------


def column(name: str, **spec: Any) -> dict[str, Any]:
    return {"id": 1, "name": name, "display_name": name, "column_type": "field", **spec}


def totals_match(result: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    assert result["count"] == len(result["data"]) == len(rows)
    total = sum(row["duration"] for row in rows)
    assert result["total_duration"] == total
    assert result["avg_duration"] == pytest.approx(total / len(rows) if rows else 0, abs=0.01)


def test_no_columns_selects_all_and_totals_cover_every_call(
    client: httpx.Client, finished: Finished
) -> None:
    campaign_id, _, rows = finished
    result = report(client, campaign_id)
    fields = [c["field"] for c in result["columns"]]
    assert fields == ["dialog_id", "campaign_id", "phone_number", "attempt", "started_at", "duration", "outcome",
                      "goal", "transcript", "name", "time"]
    types = {c["field"]: c["type"] for c in result["columns"]}
    assert types["started_at"] == "datetime" and types["goal"] == "goal" and types["transcript"] == "dialog"
    assert types["duration"] == "number" and types["name"] == "text"
    totals_match(result, rows)


@pytest.mark.parametrize(("spec", "keep"), [
    (column("outcome", filter_type="equal", filter_value="answered"), lambda r: r["outcome"] == "answered"),
    (column("goal", filter_type="is_true"), lambda r: r["goal"]),
    (column("goal", filter_type="not_true"), lambda r: not r["goal"]),
    (column("goal", filter_type="equal", filter_value="true"), lambda r: r["goal"]),
    (column("transcript", filter_type="is_empty"), lambda r: r["transcript"] == ""),
    (column("transcript", filter_type="not_empty"), lambda r: r["transcript"] != ""),
    (column("transcript", filter_type="contains", filter_value="АВТООТВЕТЧИК"),
     lambda r: "автоответчик" in r["transcript"].lower()),
    (column("phone_number", filter_type="starts_with", filter_value="+7912000001"),
     lambda r: r["phone_number"].startswith("+7912000001")),
    (column("phone_number", filter_type="ends_with", filter_value="7"), lambda r: r["phone_number"].endswith("7")),
    (column("attempt", filter_type="equal", filter_value="2"), lambda r: r["attempt"] == 2),
    (column("duration", filter_type="equal", filter_value=0), lambda r: r["duration"] == 0),
    (column("name", filter_type="equal", filter_value="Клиент 5"), lambda r: r["name"] == "Клиент 5"),
    (column("name", filter_type="contains", filter_value="клиент 1"), lambda r: "клиент 1" in r["name"].lower()),
    ({"data_type": "goal", "filter_type": "is_true"}, lambda r: r["goal"]),
], ids=["outcome-equal", "goal-is_true", "goal-not_true", "goal-equal", "transcript-is_empty",
        "transcript-not_empty", "transcript-contains", "phone-starts_with", "phone-ends_with", "attempt-equal",
        "duration-equal", "add_data-equal", "add_data-contains", "goal-type-is_true"])
def test_filters(client: httpx.Client, finished: Finished,
                 spec: dict[str, Any], keep: Any) -> None:
    campaign_id, _, rows = finished
    expected = [row for row in rows if keep(row)]
    assert 0 < len(expected) < len(rows)
    result = report(client, campaign_id, [spec, column("dialog_id"), column("duration")])
    assert [row["dialog_id"] for row in result["data"]] == [row["dialog_id"] for row in expected]
    totals_match(result, expected)


def test_sorting_by_several_columns(client: httpx.Client, finished: Finished) -> None:
    campaign_id, _, rows = finished
    result = report(client, campaign_id, [column("outcome", sorting="asc"), column("duration", sorting="desc"),
                                          column("dialog_id", sorting="asc")])
    expected = sorted(rows, key=lambda r: (r["outcome"], -r["duration"], r["dialog_id"]))
    assert result["data"] == [{"outcome": r["outcome"], "duration": r["duration"], "dialog_id": r["dialog_id"]}
                              for r in expected]
    newest_first = report(client, campaign_id, [column("started_at", sorting="desc")])["data"]
    assert [row["started_at"] for row in newest_first] == sorted((r["started_at"] for r in rows), reverse=True)


def test_data_type_selects_every_column_of_that_type(
    client: httpx.Client, finished: Finished
) -> None:
    result = report(client, finished[0], [{"data_type": "number"}])
    assert [c["field"] for c in result["columns"]] == ["dialog_id", "campaign_id", "attempt", "duration"]
    assert all(set(row) == {"dialog_id", "campaign_id", "attempt", "duration"} for row in result["data"])
    texts = report(client, finished[0], [{"data_type": "text"}])
    assert [c["field"] for c in texts["columns"]] == ["phone_number", "outcome", "name", "time"]


def test_date_window_applies_to_call_start(
    client: httpx.Client, finished: Finished
) -> None:
    campaign_id, day, rows = finished
    first_day = [row for row in rows if row["started_at"].startswith(day)]
    result = report(client, campaign_id, [column("dialog_id"), column("duration")], date_start=day, date_end=day)
    assert [row["dialog_id"] for row in result["data"]] == [row["dialog_id"] for row in first_day]
    assert 0 < len(first_day) < len(rows)
    totals_match(result, first_day)
    exact = rows[3]["started_at"]
    one = report(client, campaign_id, [column("dialog_id")], date_start=exact, date_end=exact)
    assert one["data"] == [{"dialog_id": rows[3]["dialog_id"]}]

"""Time to first byte of the heaviest console pages at 100k people.

    .venv/bin/python bench/console.py [--people 100000] [--requests 15] [--database sqlite|postgresql]

The sandbox runs on SQLite in memory, or with ``--database postgresql`` on a schema of its own
in ``--pg-url`` (made for the run and dropped after it).

Pages: a people search (by a name, by a phone fragment, by a common syllable that thousands of
people share, by two letters, and one matching no one), a person whose chat has 500 messages,
a Dialog campaign of 1,000 numbers with its calls placed, and the flows dashboard's funnel over
a ledger the size of the people (the
whole dashboard page, and its JSON summary polled while a run goes). Each page is asked
``--requests`` times after one warm-up request, one at a time; the median and the slowest are
printed. Target: every median under 300 ms.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, select, text

from leadbridge.console.flows_ui import create_dashboard
from leadbridge.flows.ledger import Ledger, NewUnit
from leadbridge.sandbox import schema
from leadbridge.sandbox.leeloo.backend.core import append_message
from leadbridge.sandbox.seed import TENANTS
from leadbridge.sandbox.server import serve_app_in_thread, serve_in_thread
from leadbridge.sandbox.state import MEMORY_URL, Sandbox
from leadbridge.sdk import Dialog

TARGET_MS = 300.0
DEMO = TENANTS[0]


def ttfb(client: httpx.Client, url: str) -> float:
    """Milliseconds from sending the request to the first byte of the body."""
    started = time.perf_counter()
    with client.stream("GET", url) as response:
        next(response.iter_raw(), b"")
        elapsed = (time.perf_counter() - started) * 1000
        response.raise_for_status()
    return elapsed


def chatty_person(sandbox: Sandbox, messages: int) -> str:
    """A demo person whose first account's chat gets ``messages`` more messages."""
    with sandbox.read() as session:
        person_id, account_id = session.execute(
            select(schema.Account.person_id, schema.Account.id).where(schema.Account.company_id == DEMO.company_id)
            .order_by(schema.Account.id).limit(1)).one()
    start = sandbox.now() - timedelta(days=30)
    with sandbox.write(DEMO.company_id) as session:
        for n in range(messages):
            kind = ("FRIEND_MESSAGE", "BOT_MESSAGE", "YOUR_MESSAGE")[n % 3]
            append_message(session, DEMO.company_id, account_id, f"Сообщение номер {n}: как дела с заказом?", kind,
                           start + timedelta(minutes=n))
    return str(person_id)


def big_campaign(url: str, numbers: int) -> int:
    today = (httpx.get(url + "/_sandbox/clock").json()["now"])[:10]
    phones = [(f"+7999{n:07d}", {"name": f"Клиент {n}"}) for n in range(numbers)]
    with Dialog(base_url=url, login=DEMO.dialog_login, password=DEMO.dialog_password, timeout=120) as dialog:
        campaign_id = dialog.campaigns.create(DEMO.dialog_project_id, "Большой обзвон", DEMO.dialog_start_block_id,
                                              DEMO.dialog_phone_id, phones, today, "00:00", "23:59", attempts=2,
                                              interval=30)
    httpx.post(url + "/_sandbox/clock/advance", json={"seconds": 3 * 86_400}).raise_for_status()
    return campaign_id


def fill_ledger(url: str, people: int) -> None:
    """A ledger the size of the demo company: every person a lead, most called, some paid."""
    with Ledger(url) as ledger:
        for start in range(0, people, 5000):
            ledger.add_units("call-leads", "lead", [
                NewUnit(f"p{i}", {"phone": f"+7999{i:07d}"}, dedupe=f"+7999{i:07d}", state="done")
                for i in range(start, min(people, start + 5000))])
            ledger.add_units("call-results", "result", [
                NewUnit(f"c:{i}", {"phone": f"+7999{i:07d}", "outcome": "answered" if i % 3 else "no_answer",
                                   "goal": i % 7 == 0, "attempt": 1})
                for i in range(start, min(people, start + 5000)) if i % 10])
            ledger.add_units("revenue-to-neiros", "order", [
                NewUnit(f"o{i}", {"price": 1000}, state="done") for i in range(start, min(people, start + 5000), 20)])
        for batch in range(0, people, 1000):
            unit = ledger.create_claimed("call-leads", "campaign", f"b{batch}", {"phones": 1000})
            ledger.finish(unit.id, "done", result={"campaign_id": batch, "phones": min(1000, people - batch)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with database(args.database, args.pg_url) as url:
        run(url, args.people, args.requests)


@contextmanager
def database(kind: str, pg_url: str) -> Iterator[str]:
    """The sandbox's database URL: SQLite in memory, or a new PostgreSQL schema dropped afterwards."""
    if kind == "sqlite":
        yield MEMORY_URL
        return
    name = f"bench_console_{uuid.uuid4().hex[:12]}"
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        yield f"{pg_url}?options=-csearch_path%3D{name}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        engine.dispose()


def run(url: str, people: int, requests: int) -> None:
    started = time.monotonic()
    sandbox = Sandbox(url, seed=1, people=people)
    print(f"seeding {people:,} people ({sandbox.engine.dialect.name})…", flush=True)
    with serve_in_thread(sandbox) as running, tempfile.TemporaryDirectory() as scratch:
        person_id = chatty_person(sandbox, 500)
        campaign_id = big_campaign(running.url, 1000)
        ledger_url = f"sqlite:///{Path(scratch) / 'ledger.sqlite3'}"
        fill_ledger(ledger_url, people)
        with sandbox.read() as session:
            name = session.scalar(select(schema.Person.name).where(schema.Person.company_id == DEMO.company_id)
                                  .order_by(schema.Person.id.desc()).offset(people // 2).limit(1)) or "Иван"
        print(f"ready in {time.monotonic() - started:.0f} s", flush=True)
        with serve_app_in_thread(create_dashboard(ledger_url)) as dashboard:
            ui = running.url + "/_sandbox/ui"
            pages = {
                "people search, by name": f"{ui}/people?q={name.split()[0]}",
                "people search, by phone": f"{ui}/people?q=7999",
                "people search, syllable": f"{ui}/people?q=ова",
                "people search, 2 letters": f"{ui}/people?q=Щщ",
                "people search, no match": f"{ui}/people?q=Щщщщ",
                "people, tag filter": f"{ui}/people?tag=" + _tag(sandbox),
                "person, 500 messages": f"{ui}/people/{person_id}",
                "campaign, 1,000 numbers": f"{ui}/dialog/{campaign_id}",
                "campaigns list": f"{ui}/dialog",
                "overview": ui,
                "flows dashboard (funnel)": dashboard + "/",
                "funnel summary (JSON)": dashboard + "/api/summary",
            }
            with httpx.Client(timeout=120) as client:
                print(f"\n{'page':<28} {'median ms':>10} {'slowest ms':>11}  target {TARGET_MS:.0f} ms")
                worst = 0.0
                for label, url in pages.items():
                    ttfb(client, url)  # warm-up: caches, and the campaign's calls placed once
                    times = [ttfb(client, url) for _ in range(requests)]
                    median = statistics.median(times)
                    worst = max(worst, median)
                    verdict = "ok" if median < TARGET_MS else "SLOW"
                    print(f"{label:<28} {median:>10.1f} {max(times):>11.1f}  {verdict}", flush=True)
    sandbox.close()
    print(f"\nslowest median: {worst:.1f} ms ({'every page under' if worst < TARGET_MS else 'over'} "
          f"{TARGET_MS:.0f} ms)")


def _tag(sandbox: Sandbox) -> str:
    with sandbox.read() as session:
        return str(session.scalar(select(schema.Tag.id).where(schema.Tag.company_id == DEMO.company_id,
                                                              schema.Tag.name == "горячий")))


if __name__ == "__main__":
    main()

"""``flows serve`` killed with SIGKILL at random points loses no acknowledged event and repeats no effect.

People write in on the sandbox; a sender delivers their INCOMING_MESSAGE webhooks as Leeloo
does, at least once (shuffled, some twice, and again after any failed delivery) to whichever
``flows serve`` is running. The serve is killed ``TRIALS`` times: in some trials once it has
committed a side effect as ``intended`` (a campaign or a tag, a moment later), in the others at
a random moment. After each kill every event the sender saw answered 200 must be in the
ledger. Then a last serve runs until everything is delivered and processed, and the polling
catch-up runs once. The promise is checked on the sandbox's side: every phone is in exactly
one campaign, or, for a lead the ledger shows as uncertain (killed while Dialog was creating
its campaign), in at most one.
"""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from flow_helpers import Setup, run_cli
from live_helpers import callable_people, campaign_phones, start_serve, wait_until, write_in

from http_clients import TIMEOUT

TRIALS = 20
PEOPLE = 100
# The sender's pause between two deliveries: slow enough that deliveries go on through all the
# trials (about 40 s of serving for 100 people), so every trial has work to be killed in.
PACE = 0.25
# How long a trial waits for a side effect to be intended before it kills the serve anyway.
TRIAL_WAIT = 30
CRASH = {'tags = ["горячий", "vip"]': "tags = []", "batch_size = 25": 'batch_size = 4\nbatch_window = "0.3s"'}


class Sender:
    """Delivers every body at least once to the current URL, at a steady pace, retrying what failed."""

    def __init__(self, bodies: list[dict[str, Any]]) -> None:
        plan = [body for body in bodies for _ in range(random.choice((1, 1, 2)))]
        random.shuffle(plan)
        self.plan = plan
        self.url: str | None = None
        self.acknowledged: set[str] = set()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=TIMEOUT) as client:
            while self.plan and not self.stop.is_set():
                url = self.url
                body = self.plan[0]
                try:
                    ok = url is not None and client.post(url, json=body).status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    with self.lock:
                        self.acknowledged.add(body["data"]["message_id"])
                    self.plan.pop(0)
                else:  # refused or cut: Leeloo delivers it again later
                    self.plan.append(self.plan.pop(0))
                    time.sleep(0.05)
                time.sleep(PACE)

    def acked(self) -> set[str]:
        with self.lock:
            return set(self.acknowledged)


def ledger_rows(ledger: Path, sql: str) -> list[tuple[Any, ...]]:
    if not ledger.exists():
        return []
    with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=60) as db:
        try:
            return db.execute(sql).fetchall()
        except sqlite3.OperationalError:  # the first serve has not created the tables yet
            return []


def recorded_messages(ledger: Path) -> set[str]:
    return {str(json.loads(body)["data"]["message_id"]) for (body,) in ledger_rows(ledger, "SELECT body FROM lb_event")}


def intended(ledger: Path) -> set[tuple[int, str]]:
    return {(int(u), str(n)) for u, n in ledger_rows(ledger, "SELECT unit_id, name FROM lb_effect "
                                                              "WHERE state = 'intended'")}


def test_serve_killed_at_random_points_loses_no_acknowledged_event_and_repeats_no_effect(setup: Setup) -> None:
    config = setup.write_config(replace=CRASH)
    ledger = setup.folder / "ledger.sqlite3"
    people = callable_people(setup, PEOPLE)
    sender = Sender([write_in(setup, person) for person in people])
    sender.thread.start()
    bound = time.monotonic() + 600
    between = 0
    try:
        for trial in range(TRIALS):
            before = intended(ledger)
            live = start_serve(config, "--no-catch-up", "--workers", "4")
            sender.url = live.url
            if trial % 2 == 0:  # among its side effects: once one is intended, a moment later
                waited = min(bound, time.monotonic() + TRIAL_WAIT)
                while time.monotonic() < waited and live.process.poll() is None and not intended(ledger) - before:
                    time.sleep(0.005)
                time.sleep(random.uniform(0, 0.02))
            else:
                time.sleep(random.uniform(0.05, 1.5))
            live.process.kill()
            live.process.wait(timeout=60)
            sender.url = None
            if intended(ledger) - before:
                between += 1
            lost = sender.acked() - recorded_messages(ledger)
            assert not lost, f"trial {trial}: acknowledged events not in the ledger: {sorted(lost)[:5]}"
            assert time.monotonic() < bound, "kill trials exceed their time bound"

        # A last serve takes everything up again and receives the rest.
        live = start_serve(config, "--no-catch-up")
        sender.url = live.url
        try:
            wait_until(lambda: not sender.plan, bound=300, what="every delivery acknowledged")
            wait_until(lambda: not ledger_rows(ledger, "SELECT 1 FROM lb_event WHERE state = 'received'") and not
                       ledger_rows(ledger, "SELECT 1 FROM lb_unit WHERE flow = 'call-leads' AND kind = 'lead' "
                                           "AND state IN ('pending', 'claimed')"),
                       bound=300, what="every event processed and every lead in a campaign")
        finally:
            live.process.terminate()
            live.process.wait(timeout=60)
    finally:
        sender.stop.set()
        sender.thread.join(timeout=60)
    assert len(sender.acked()) == PEOPLE
    assert between >= TRIALS // 4, f"only {between} of {TRIALS} kills landed between intended and done"

    assert run_cli("run", "call-leads", "--config", str(config)).returncode == 0  # the catch-up
    phones = Counter(campaign_phones(setup))
    assert max(phones.values()) == 1, f"phones in two campaigns: {[p for p, n in phones.items() if n > 1]}"
    states = dict(ledger_rows(ledger, "SELECT key, state FROM lb_unit WHERE flow = 'call-leads' AND kind = 'lead'"))
    for person in people:
        assert states[person["id"]] in ("done", "uncertain"), (person["id"], states[person["id"]])
        if states[person["id"]] == "done":
            assert phones[person["e164"]] == 1, f"{person['e164']} is done but in no campaign"
    uncertain = sum(state == "uncertain" for state in states.values())
    assert uncertain < PEOPLE // 2, f"{uncertain} leads uncertain: most kills should not hide a campaign"

"""Helpers of the tests of ``flows serve``: people writing in, the webhook bodies Leeloo sends, a serve process.

The events are the bodies the interface documents (docs/flows.md, "Webhooks"), built from
what really happened on the sandbox: a person writes in through the control API, an order
is paid through the Leeloo API. The test posts them as Leeloo would, at least once:
duplicated, reordered, or never.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flow_helpers import Setup, every_person

from http_clients import TIMEOUT
from leadbridge.flows.phones import normalise
from leadbridge.sandbox.wire import new_oid

LIVE = {'tags = ["горячий", "vip"]': "tags = []",
        "batch_size = 25": 'batch_size = 25\nbatch_window = "1s"'}
QUEUED_TAG = "в обзвоне"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def callable_people(setup: Setup, count: int) -> list[dict[str, Any]]:
    """``count`` people with a messenger account and a valid phone no other person has, not queued yet."""
    people = every_person(setup, [("filter[last_message][from]", "2010-01-01"),
                                  ("filter[last_message][to]", "2100-01-01")])
    phones: dict[str, int] = {}
    for person in people:
        if e164 := normalise(person.get("phone")).e164:
            phones[e164] = phones.get(e164, 0) + 1
    chosen = []
    for person in people:
        e164 = normalise(person.get("phone")).e164
        if e164 and phones[e164] == 1 and person.get("accounts") and QUEUED_TAG not in person.get("tags", []):
            chosen.append({**person, "e164": e164})
        if len(chosen) == count:
            return chosen
    raise AssertionError(f"the sandbox has only {len(chosen)} people to call, not {count}")


def write_in(setup: Setup, person: dict[str, Any], text: str = "Перезвоните мне") -> dict[str, Any]:
    """The person writes to the bot (on the sandbox); returns the INCOMING_MESSAGE webhook Leeloo sends for it."""
    account = person["accounts"][0]["account_id"]
    answer = setup.control.post("/_sandbox/incoming-messages", json={"account_id": account, "text": text})
    answer.raise_for_status()
    return {"type": "INCOMING_MESSAGE", "data": {
        "message_id": new_oid(), "account_id": account, "person_id": person["id"], "text": text,
        "email": person.get("email") or "NOT_DEFINED", "phone": person.get("phone") or "NOT_DEFINED",
        "created_at": answer.json()["data"]["createdAt"]}}


def campaign_phones(setup: Setup) -> list[str]:
    """Every phone of every campaign created on Dialog (from the sandbox's request log), with repeats."""
    return [phone["phone"] for request in setup.requests("/api/campaigns")
            if request["path"] == "/api/campaigns" for phone in request["body"]["phones"]]


def wait_until(condition: Any, bound: float = 90.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + bound
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {bound:.0f}s"
        time.sleep(0.1)


class Serving:
    """A ``leadbridge flows serve`` child process and its address."""

    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url


def start_serve(config: Path, *args: str) -> Serving:
    """Start ``flows serve --port 0`` and read the address it prints (bounded in time)."""
    process = subprocess.Popen([sys.executable, "-m", "leadbridge.flows.cli", "serve", "--config", str(config),
                                "--port", "0", *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env={**os.environ, "COLUMNS": "200"})
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if selector.select(timeout=0.5):
            line = process.stdout.readline()
            if not line:
                break
            if "receiving webhooks at " in line:
                selector.close()
                return Serving(process, line.split("receiving webhooks at ", 1)[1].split()[0])
        if process.poll() is not None:
            break
    process.kill()
    process.wait(timeout=TIMEOUT.read or 60)
    raise AssertionError("flows serve did not start")


@contextmanager
def serving(config: Path, *args: str) -> Iterator[Serving]:
    """``flows serve`` for the length of the block, then stopped with SIGTERM (gracefully)."""
    live = start_serve(config, *args)
    try:
        yield live
    finally:
        live.process.terminate()
        try:
            live.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            live.process.kill()
            live.process.wait(timeout=60)

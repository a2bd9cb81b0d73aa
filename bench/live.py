"""flows serve: from a person writing in to their campaign in Dialog, and the events a second it receives.

    .venv/bin/python bench/live.py [--people 5000] [--leads 200] [--window 2s] [--events 5000] [--senders 16]

1. serves a living sandbox in another process (``leadbridge sandbox --activity busy``: people
   subscribe and write in, orders are paid, deals arrive, on the sandbox's real-time clock),
   starts ``leadbridge flows serve`` (its own process, a SQLite ledger, no catch-up polling, so
   every lead comes from a webhook) and points the sandbox's webhooks at it;
2. waits until ``--leads`` people have been put into campaigns, then reads, from the sandbox
   (its webhook delivery log and its request log, both on the sandbox clock), when each of
   them wrote in or subscribed and when the campaign holding them was created in Dialog, and
   prints the median and p95 of that latency (target: p95 <= the batching window + 1 s);
3. stops the sandbox, then posts ``--events`` webhook bodies (distinct orders, a tenth of them delivered twice) from
   ``--senders`` threads, each with its own connection, to the same ``flows serve`` and prints the events a
   second it acknowledged (each one committed to the ledger before its 200; target >= 200/s);
4. prints the peak memory (resident, VmHWM) of the ``flows serve`` process.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from flows import start_sandbox  # the bench folder's own helpers
from leadbridge.flows.config import parse_duration
from leadbridge.sandbox.wire import new_oid

TARGET_EVENTS_PER_SECOND = 200
CONFIG = """\
[ledger]
url = "sqlite:///{ledger}"

[leeloo]
token = "demo-leeloo-token"
base_url = "{url}"
rate_limit = false

[dialog]
login = "demo"
password = "demo"
base_url = "{url}"

[flows.call-leads]
tags = []
last_message_within = "3650d"
project_id = 1
start_block_id = 10
phone_id = 5
start_time = "00:00"
end_time = "23:59"
attempts = 1
batch_size = 1000
batch_window = "{window}"

[flows.call-leads.add_data]
person_id = "id"
"""




def start_serve(config: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, "-m", "leadbridge.flows.cli", "serve", "--config", str(config),
                                "--port", "0", "--no-catch-up"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if "receiving webhooks at " not in line:
        process.kill()
        raise SystemExit(f"flows serve did not start: {line!r}")
    return process, line.split("receiving webhooks at ", 1)[1].split()[0]


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def campaigns(client: httpx.Client) -> list[dict[str, Any]]:
    entries = client.get("/_sandbox/requests", params={"path": "/api/campaigns", "method": "POST",
                                                       "limit": 100_000}).json()["data"]
    return [e for e in entries if e["path"] == "/api/campaigns" and e["status"] < 400]


def latencies(client: httpx.Client, since: datetime) -> list[tuple[float, float]]:
    """For each queued person: seconds from their first event (after ``since``) to the creation of their
    campaign, and of those the part after the sandbox delivered the event (the rest is the sandbox's delivery)."""
    first_seen: dict[str, tuple[datetime, datetime]] = {}
    for delivery in client.get("/_sandbox/webhooks/deliveries", params={"limit": 10_000}).json()["data"]:
        body = delivery["body"]
        body = body if isinstance(body, dict) else json.loads(body)
        data = body.get("data", {})
        if body.get("type") in ("INCOMING_MESSAGE", "SUBSCRIPTION") and data.get("person_id") and \
                delivery.get("delivered_at"):
            at = when(data["created_at"])
            if at >= since and (data["person_id"] not in first_seen or at < first_seen[data["person_id"]][0]):
                first_seen[data["person_id"]] = (at, when(delivery["delivered_at"]))
    seconds = []
    for entry in campaigns(client):
        created = when(entry["at"])
        for phone in entry["body"]["phones"]:
            person = phone.get("add_data", {}).get("person_id")
            if person in first_seen:
                wrote, delivered = first_seen[person]
                seconds.append(((created - wrote).total_seconds(), (created - delivered).total_seconds()))
    return seconds


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def post_events(url: str, events: int, senders: int) -> tuple[float, int]:
    """Post ``events`` distinct ORDER bodies (a tenth twice) from ``senders`` threads; (seconds, 200 answers)."""
    bodies = [{"type": "ORDER", "data": {"order_id": new_oid(), "account_id": new_oid(), "offer_name": "Курс",
                                         "price": 10770, "currency": "RUB", "email": "NOT_DEFINED",
                                         "phone": "79990000000", "created_at": "2026-12-02T10:47:06.474Z"}}
              for _ in range(events)]
    plan = [json.dumps(body).encode() for body in bodies + bodies[: events // 10]]
    shares = [plan[n::senders] for n in range(senders)]

    def sender(share: list[bytes]) -> int:
        with httpx.Client(timeout=60, headers={"Content-Type": "application/json"}) as client:
            return sum(client.post(url, content=body).status_code == 200 for body in share)

    started = time.perf_counter()
    with ThreadPoolExecutor(senders) as pool:
        acknowledged = sum(pool.map(sender, shares))
    return time.perf_counter() - started, acknowledged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--leads", type=int, default=200)
    parser.add_argument("--window", default="2s")
    parser.add_argument("--activity", default="busy")
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--senders", type=int, default=16)
    args = parser.parse_args()
    window = parse_duration(args.window).total_seconds()

    sandbox, url = start_sandbox(args.people, "--activity", args.activity)
    folder = Path(tempfile.mkdtemp(prefix="leadbridge-live-"))
    config = folder / "leadbridge.toml"
    config.write_text(CONFIG.format(ledger=folder / "ledger.sqlite3", url=url, window=args.window),
                      encoding="utf-8")
    serve, serve_url = start_serve(config)
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            since = when(client.get("/_sandbox/clock").json()["now"])
            client.put("/_sandbox/webhooks", json={"enabled": True, "url": serve_url,
                                                   "events": ["SUBSCRIPTION", "INCOMING_MESSAGE"]}).raise_for_status()
            print(f"sandbox: {args.people} people, activity {args.activity}; flows serve at {serve_url}, "
                  f"batching window {args.window}")
            deadline = time.monotonic() + 600
            # Waiting reads only the campaigns (a few log entries): reading the delivery log every second
            # would load the sandbox that flows serve is reading people from.
            while True:
                if sum(len(e["body"]["phones"]) for e in campaigns(client)) >= args.leads * 1.2 and \
                        len(latencies(client, since)) >= args.leads:
                    break
                if time.monotonic() > deadline:
                    raise SystemExit(f"only {len(latencies(client, since))} leads in campaigns after 600 s")
                time.sleep(2.0)
            client.put("/_sandbox/webhooks", json={"enabled": False, "url": serve_url,
                                                   "events": []}).raise_for_status()
            pairs = latencies(client, since)
        total, after_delivery = [t for t, _ in pairs], [a for _, a in pairs]
        target = window + 1.0
        print(f"written in -> campaign in Dialog, over {len(total)} leads: median {statistics.median(total):.2f} s, "
              f"p95 {p95(total):.2f} s (target p95 <= {target:.1f} s: {'ok' if p95(total) <= target else 'MISSED'})")
        print(f"  of which after the sandbox delivered the webhook (flows serve's part): median "
              f"{statistics.median(after_delivery):.2f} s, p95 {p95(after_delivery):.2f} s")

        # The receive path alone: the sandbox (and its activity) stops, so it does not share the CPU.
        sandbox.terminate()
        sandbox.wait(timeout=60)
        elapsed, acknowledged = post_events(serve_url, args.events, args.senders)
        rate = acknowledged / elapsed
        print(f"receive path: {acknowledged} deliveries ({args.events} distinct events) acknowledged in "
              f"{elapsed:.2f} s = {rate:.0f} events/s from {args.senders} connections "
              f"(target >= {TARGET_EVENTS_PER_SECOND}/s: {'ok' if rate >= TARGET_EVENTS_PER_SECOND else 'MISSED'})")
        print(f"flows serve peak memory: {peak_memory_mb(serve.pid):.0f} MB")
    finally:
        serve.terminate()
        serve.wait(timeout=60)
        sandbox.terminate()
        sandbox.wait(timeout=60)


if __name__ == "__main__":
    main()

"""Whether the per-record calls cost the same at any size: 100,000 people against 1,000,000.

    .venv/bin/python bench/growth.py [--sizes 100000 1000000] [--requests 100] [--rounds 3]

Two sandboxes, one per size, each on a SQLite file seeded afresh (seeding prints its
progress; ``--keep DIR`` keeps the files there and reuses them on the next run), are
served at once on 127.0.0.1. Each call is timed on both in turn, request by request, so
load from other processes on the machine falls on both sizes alike:

- the phone lookup (``GET people?filter[phone]=…`` of an existing person, as deals-to-leeloo
  does for every deal);
- people create (``POST /api/v2/people``);
- the first deep page after a write: a message sent (which changes no person's place in
  the list), then ``GET people`` at a random offset deep in the list;
- the first deep page after a person added (``POST people``, which adds to the people count
  and keeps the anchors), likewise;
- the stats of all the company's tunnels together (``GET /api/v2/tunnels/stats``), kept by
  the writes rather than added up from every subscription and order.

Each figure is the median latency of ``--requests`` calls, over ``--rounds`` rounds
(min–max shown); the last column is the largest size's median over the smallest's
(target: within 1.5x).

The SDK's walk at these sizes (records a second, peak memory) is bench/growth_sdk.py.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

GROWTH_LIMIT = 1.5
TOKEN = {"X-Leeloo-AuthToken": "demo-leeloo-token"}
Call = Callable[[httpx.Client], float]


def prepare(folder: Path, people: int, keep: bool) -> Any:
    from leadbridge.sandbox.state import Sandbox

    def progress(tenant: str, done: int, total: int) -> None:
        ending = "\n" if done >= total or not sys.stdout.isatty() else ""
        print(f"\r  seeding {tenant}: {done:,}/{total:,} people", end=ending, flush=True)

    path = folder / f"growth-{people}.sqlite3"
    started = time.perf_counter()
    sandbox = Sandbox(f"sqlite:///{path}", seed=1, people=people)
    sandbox.start(reset=not keep, progress=progress)
    print(f"{people:,} people ready in {time.perf_counter() - started:.1f} s ({path})", flush=True)
    return sandbox


def calls(sandbox: Any, rng: random.Random) -> dict[str, Call]:
    from leadbridge.sandbox import schema as s
    from leadbridge.sandbox.seed import DOC_IDS, TENANTS

    company = TENANTS[0].company_id
    with sandbox.read() as session:
        phones = list(session.scalars(select(s.Person.phone).where(s.Person.company_id == company,
                                                                   s.Person.phone.is_not(None)).limit(5000)))
        account = session.scalar(select(s.Account.id).where(s.Account.company_id == company).order_by(s.Account.id))
    people = sandbox.people

    def timed(send: Callable[[], httpx.Response]) -> float:
        started = time.perf_counter()
        response = send()
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"{response.request.method} {response.request.url}: {response.status_code} "
                             f"{response.text[:200]}")
        return elapsed

    def phone_lookup(client: httpx.Client) -> float:
        phone = rng.choice(phones)
        return timed(lambda: client.get("/api/v2/people", params={"filter[phone]": phone, "limit": 1}))

    def person_body() -> dict[str, str]:
        return {"name": "Рост", "phone": f"+7998{rng.randrange(10**7):07d}",
                "leadgentool_id": DOC_IDS["person_leadgentool"]}

    def people_create(client: httpx.Client) -> float:
        body = person_body()
        return timed(lambda: client.post("/api/v2/people", json=body))

    def deep_page_after(write: Callable[[httpx.Client], httpx.Response]) -> Call:
        def call(client: httpx.Client) -> float:
            written = write(client)
            if written.status_code != 200:
                raise SystemExit(f"{written.request.url}: {written.status_code} {written.text[:200]}")
            offset = rng.randrange(people // 2, people - 20)
            return timed(lambda: client.get(f"/api/v2/people?limit=20&offset={offset}"))
        return call

    deep_page_after_write = deep_page_after(lambda client: client.post(
        "/api/v2/messages/send-message", json={"account_id": account, "text": "рост"}))
    deep_page_after_person_added = deep_page_after(lambda client: client.post("/api/v2/people", json=person_body()))

    def tunnel_stats(client: httpx.Client) -> float:
        return timed(lambda: client.get("/api/v2/tunnels/stats"))

    return {"phone lookup": phone_lookup, "people create": people_create,
            "deep page after a write": deep_page_after_write,
            "deep page after a person": deep_page_after_person_added, "all tunnels' stats": tunnel_stats}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--requests", type=int, default=100, help="calls of each kind a round, on each size")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", help="folder to keep the seeded databases in (and reuse them from)")
    args = parser.parse_args()

    from leadbridge.sandbox.app import create_app
    from leadbridge.sandbox.server import serve_app_in_thread

    sizes = sorted(args.sizes)
    with ExitStack() as stack:
        folder = Path(args.keep) if args.keep else Path(stack.enter_context(tempfile.TemporaryDirectory()))
        os.makedirs(folder, exist_ok=True)
        sandboxes = [prepare(folder, people, bool(args.keep)) for people in sizes]
        clients = []
        kinds: list[dict[str, Call]] = []
        for sandbox in sandboxes:
            stack.callback(sandbox.close)
            url = stack.enter_context(serve_app_in_thread(create_app(sandbox, start=False)))
            clients.append(stack.enter_context(httpx.Client(base_url=url, headers=TOKEN, timeout=120)))
            kinds.append(calls(sandbox, random.Random(1)))
        medians: dict[str, list[list[float]]] = {name: [[] for _ in sizes] for name in kinds[0]}
        for name in kinds[0]:
            for _ in range(3):  # warm-up: connections, caches, the first deep page's anchors
                for client, kind in zip(clients, kinds, strict=True):
                    kind[name](client)
            for _ in range(args.rounds):
                times: list[list[float]] = [[] for _ in sizes]
                for _ in range(args.requests):
                    for index, (client, kind) in enumerate(zip(clients, kinds, strict=True)):
                        times[index].append(kind[name](client))
                for index, samples in enumerate(times):
                    medians[name][index].append(statistics.median(samples))

    missed = False
    header = "".join(f"{people:>22,}" for people in sizes)
    print(f"\nmedian latency, ms (min-max over {args.rounds} rounds of {args.requests})\n{'':<26}{header}   growth")
    for name, per_size in medians.items():
        cells = "".join(f"{statistics.median(runs) * 1000:>9.2f} ({min(runs) * 1000:.2f}-{max(runs) * 1000:.2f})"
                        .rjust(22) for runs in per_size)
        growth = statistics.median(per_size[-1]) / statistics.median(per_size[0])
        verdict = "met" if growth <= GROWTH_LIMIT else "MISSED"
        missed |= growth > GROWTH_LIMIT
        print(f"{name:<26}{cells}   {growth:.2f}x (target <= {GROWTH_LIMIT}: {verdict})")
    print("The SDK's walk at these sizes: bench/growth_sdk.py.")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())

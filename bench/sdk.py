"""The SDK's cost per call and its paged walk, measured side by side against the sandbox.

    .venv/bin/python bench/sdk.py [--people 100000] [--calls 1500] [--page-size 100] [--latency-ms 50]
                                  [--runs 3] [--part abc]

The sandbox runs in a child process on 127.0.0.1 (so the client and the server do not
share one interpreter lock) with ``--people`` demo people; seeding prints its progress.

(a) Per-call cost: the same request made with a raw ``httpx.Client`` (``.json()`` on the
    answer: the whole body parsed, as the SDK must) and with the SDK (which also checks the
    envelope and builds models), in interleaved rounds so that load from other processes
    falls on both alike; the ratio is SDK time / raw time, each the best of 20 rounds.
    Target: <= 1.05x. A list page's records become models when first used, so the list
    call is also measured with every record read (``list(page)``), for comparison.
(b) ``people.iter()`` over every person with ``--latency-ms`` added to each page by the
    sandbox's fault injection, sequential and with ``concurrency=8`` (sync and async). The
    ideal of a walk is the least time any client could take, measured in the same run: the
    sandbox serves one request at a time and each page costs it time, so the latency alone
    is not a bound a client can reach. First the walk is made with no added latency by the
    least client (raw httpx, reading each answer's bytes and nothing else): one page at a
    time, which gives the time a page costs the sandbox and the loopback (``per page``), and
    8 at a time, the fastest the sandbox serves the whole walk (``served``). A request then
    holds its slot for the latency and its page's time, the first on its own (its total
    tells the pages), the others 8 at a time; and the walk cannot beat the first page's
    latency plus ``served``:
        ideal = max((latency + per page) x (1 + ceil((pages - 1) / 8)), latency + served)
    and, sequential, pages x (latency + per page). The latency alone is printed beside it.
    Target: the concurrent walks within 1.1x of the ideal. Beside each concurrent walk, the
    same walk with raw httpx (the first page, then 8 requests in flight, ``.json()`` on
    every page, read in order): what the client library alone reaches on this machine, and
    the SDK's time over it.
(a) and (b) run ``--runs`` times against one sandbox; each figure is given as the median of
    the runs with their min–max.
(a) and (b) measure the SDK's own cost, so their clients lift the default Leeloo rate limit
    (``rate_limit=None``); the sandbox enforces none unless told to.
(c) The realistic walk: the sandbox switched to realistic mode (Leeloo's 300 requests a
    minute per token, ``POST /_sandbox/realistic``), ``people.iter()`` over every person with
    the client's default rate limit, which must finish without an error. Its time is compared
    with the vendor limit's ideal, pages / 300 a minute; target: <= 1.10x. (100,000 people are
    1,000 pages: over three minutes; ``--people`` makes it shorter.)
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

from leadbridge import AsyncLeeloo, Leeloo
from leadbridge.sandbox.seed import TENANTS
from leadbridge.sandbox.server import free_port

TOKEN = TENANTS[0].leeloo_token
SDK_CALL_TARGET = 1.05  # SDK time / raw httpx time per call
WALK_TARGET = 1.1  # concurrent walk time / its ideal (ServerTime.ideal)
WALK_CONCURRENCY = 8
# The figures with a target; the others are printed for comparison.
TARGETS = {"people list": SDK_CALL_TARGET, "people get": SDK_CALL_TARGET, "users get": SDK_CALL_TARGET,
           "sync walk": WALK_TARGET, "async walk": WALK_TARGET}
SERVER = """
import sys, time, uvicorn
from leadbridge.sandbox.app import create_app
from leadbridge.sandbox.state import MEMORY_URL, Sandbox
people, port = int(sys.argv[1]), int(sys.argv[2])
database = sys.argv[3] if len(sys.argv) > 3 else MEMORY_URL
started = time.monotonic()
last = [0.0]
def progress(tenant, drawn, wanted):
    now = time.monotonic()
    if now - last[0] >= 2 or drawn == wanted:
        last[0] = now
        print(f"  seeding {tenant}: {drawn:,}/{wanted:,} people ({now - started:.0f} s)", flush=True)
sandbox = Sandbox(database, seed=1, people=people)
sandbox.start(progress=progress)
print(f"  sandbox ready in {time.monotonic() - started:.1f} s", flush=True)
uvicorn.run(create_app(sandbox, start=False), host="127.0.0.1", port=port, log_level="warning",
            access_log=False, lifespan="off")
"""


def start_sandbox(people: int, database: str | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """A sandbox in a child process: in memory, or on ``database`` (a SQLite file is seeded
    only while it is empty, so a bench can reuse one seeding across runs)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(people), str(port),
                                *([database] if database else [])])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the sandbox process exited")
        try:
            httpx.get(url + "/_sandbox/clock", timeout=1).raise_for_status()
            return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the sandbox did not start in 15 minutes")


def per_call_seconds(call: Callable[[], Any], count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        call()
    return (time.perf_counter() - started) / count


def compare(name: str, raw: Callable[[], Any], sdk: Callable[[], Any], calls: int, rounds: int = 20,
            target: float | None = SDK_CALL_TARGET) -> float:
    """Best of interleaved rounds of the raw and SDK per-call times; prints and returns the ratio.

    The best round (as ``timeit`` advises) is the one least disturbed by other processes
    on a shared machine; the median is printed alongside.
    """
    raw(), sdk()  # warm connections and caches
    raw_times: list[float] = []
    sdk_times: list[float] = []
    per_round = max(1, calls // rounds)
    for index in range(rounds):
        pair = [(raw, raw_times), (sdk, sdk_times)]
        for call, times in pair if index % 2 == 0 else reversed(pair):
            times.append(per_call_seconds(call, per_round))
    raw_s, sdk_s = min(raw_times), min(sdk_times)
    ratio = sdk_s / raw_s
    median_ratio = statistics.median(sdk_times) / statistics.median(raw_times)
    verdict = "" if target is None else f"; target <= {target}x: {'ok' if ratio <= target else 'over target'}"
    print(f"  {name:<36} raw {raw_s * 1e6:6.0f} us   SDK {sdk_s * 1e6:6.0f} us   ratio {ratio:.3f}x "
          f"(medians {median_ratio:.3f}x{verdict})")
    return ratio


def part_a(url: str, calls: int) -> dict[str, float]:
    print(f"\n(a) per-call cost, raw httpx vs SDK ({calls} calls each, interleaved)")
    headers = {"X-Leeloo-AuthToken": TOKEN, "Accept": "application/json"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as raw, \
            Leeloo(token=TOKEN, base_url=url, rate_limit=None) as lee:
        person_id = lee.people.list(limit=1)[0].id
        user_id = lee.users.list(limit=1)[0].id
        people_raw = lambda: raw.get("/api/v2/people", params={"limit": 20, "offset": 0}).json()  # noqa: E731
        return {
            "people list": compare("GET /api/v2/people?limit=20", people_raw, lambda: lee.people.list(limit=20),
                                   calls),
            "people list, records read": compare("  the same, every record read", people_raw,
                                                 lambda: list(lee.people.list(limit=20)), calls, target=None),
            "people get": compare("GET /api/v2/people/{id}", lambda: raw.get(f"/api/v2/people/{person_id}").json(),
                                  lambda: lee.people.get(person_id), calls),
            "users get": compare("GET /api/v2/users/{id}", lambda: raw.get(f"/api/v2/users/{user_id}").json(),
                                 lambda: lee.users.get(user_id), calls),
        }


def part_b(url: str, page_size: int, latency_ms: float) -> dict[str, float]:
    latency = latency_ms / 1000
    with httpx.Client(base_url=url + "/_sandbox", timeout=30) as control, \
            Leeloo(token=TOKEN, base_url=url, rate_limit=None) as lee:
        total = lee.people.list(limit=1).total
        pages = math.ceil(total / page_size)
        print(f"\n(b) people.iter() over {total:,} people, {pages} pages of {page_size}, "
              f"{latency_ms:.0f} ms added to every page")
        control.delete("/faults").raise_for_status()
        serving = ServerTime.measure(url, page_size, total)
        ideal_sequential = pages * (latency + serving.per_page)
        ideal_concurrent = serving.ideal(latency, pages, WALK_CONCURRENCY)
        latency_only = latency * (1 + math.ceil((pages - 1) / WALK_CONCURRENCY))
        print(f"  with no added latency, raw httpx reading bytes only: one page at a time "
              f"{serving.per_page * 1000:.2f} ms a page; {WALK_CONCURRENCY} at a time {serving.concurrent:.2f} s "
              f"for the walk")
        print(f"  ideal, concurrency {WALK_CONCURRENCY}: {ideal_concurrent:.2f} s "
              f"(the latency alone: {latency_only:.2f} s)")
        control.post("/faults", json={"pattern": "^/api/v2/people$", "latency_ms": latency_ms}).raise_for_status()
        try:
            def walk(concurrency: int) -> float:
                started = time.perf_counter()
                count = sum(1 for _ in lee.people.iter(page_size=page_size, concurrency=concurrency))
                assert count == total, (count, total)
                return time.perf_counter() - started

            async def walk_async() -> float:
                async with AsyncLeeloo(token=TOKEN, base_url=url, rate_limit=None) as client:
                    started = time.perf_counter()
                    count = 0
                    async for _ in client.people.iter(page_size=page_size, concurrency=WALK_CONCURRENCY):
                        count += 1
                    assert count == total, (count, total)
                    return time.perf_counter() - started

            sequential = walk(1)
            print(f"  sequential           {sequential:7.2f} s   pages x (latency + time a page) = "
                  f"{ideal_sequential:.2f} s (ratio {sequential / ideal_sequential:.2f}x)")
            runs = (("sync walk", walk(WALK_CONCURRENCY)), ("async walk", asyncio.run(walk_async())))
            raw_runs = {"sync walk": raw_walk(url, page_size, total), "async walk": asyncio.run(
                raw_walk_async(url, page_size, total))}
            for label, seconds in runs:
                ratio = seconds / ideal_concurrent
                verdict = "ok" if ratio <= WALK_TARGET else "over target"
                print(f"  {label + f', concurrency {WALK_CONCURRENCY}':<26} {seconds:7.2f} s   ideal = "
                      f"{ideal_concurrent:.2f} s (ratio {ratio:.2f}x, target <= {WALK_TARGET}x: {verdict}; "
                      f"{sequential / seconds:.1f}x faster than sequential)")
                raw_seconds = raw_runs[label]
                print(f"    raw httpx, the same walk {raw_seconds:7.2f} s   (ratio to the ideal "
                      f"{raw_seconds / ideal_concurrent:.2f}x; SDK / raw {seconds / raw_seconds:.2f}x)")
            figures = {label: seconds / ideal_concurrent for label, seconds in runs}
            return figures | {"sequential": sequential / ideal_sequential} | {
                f"{label} / raw httpx": seconds / raw_runs[label] for label, seconds in runs}
        finally:
            control.delete("/faults")


@dataclass(frozen=True)
class ServerTime:
    """What serving the walk's pages costs with no added latency, measured by the least client:
    raw httpx reading each answer's bytes and nothing more.

    ``per_page`` is the time of a page asked for on its own (the whole list, one page at a
    time, divided by the pages): the sandbox's own time for it plus the loopback. ``concurrent``
    is the whole walk with ``WALK_CONCURRENCY`` requests in flight: the sandbox serves one
    request at a time, so no client walks faster than that.
    """

    per_page: float
    concurrent: float

    @classmethod
    def measure(cls, url: str, page_size: int, total: int) -> ServerTime:
        with httpx.Client(base_url=url, headers={"X-Leeloo-AuthToken": TOKEN}, timeout=30) as raw:
            raw.get("/api/v2/people", params={"limit": page_size, "offset": 0}).raise_for_status()  # warm
            started = time.perf_counter()
            for offset in range(0, total, page_size):
                raw.get("/api/v2/people", params={"limit": page_size, "offset": offset}).raise_for_status()
            sequential = time.perf_counter() - started
        concurrent = raw_walk(url, page_size, total, read=False)
        return cls(per_page=sequential / math.ceil(total / page_size), concurrent=concurrent)

    def ideal(self, latency: float, pages: int, concurrency: int) -> float:
        """The least time of a walk with ``concurrency`` requests in flight: each request holds its
        slot for the latency and its page's serving time, the first alone (its answer tells the
        pages), then the others ``concurrency`` at a time; and never less than the latency of the
        first page plus the walk served at full speed."""
        slots = (latency + self.per_page) * (1 + math.ceil((pages - 1) / concurrency))
        return max(slots, latency + self.concurrent)


def raw_offsets(page_size: int, total: int) -> range:
    return range(page_size, total, page_size)


def raw_walk(url: str, page_size: int, total: int, *, read: bool = True) -> float:
    """The concurrent walk with raw httpx: the first page, then the others 8 at a time, read in order
    (``.json()`` on every page; with ``read=False`` only the bytes, each page's length counted
    from its ``meta``)."""
    with httpx.Client(base_url=url, headers={"X-Leeloo-AuthToken": TOKEN}, timeout=30) as raw, \
            ThreadPoolExecutor(max_workers=WALK_CONCURRENCY) as pool:
        def page(offset: int) -> int:
            answer = raw.get("/api/v2/people", params={"limit": page_size, "offset": offset})
            return len(answer.json()["data"]) if read else min(page_size, total - offset)

        started = time.perf_counter()
        count = page(0) + sum(pool.map(page, raw_offsets(page_size, total)))
        seconds = time.perf_counter() - started
    assert count == total, (count, total)
    return seconds


async def raw_walk_async(url: str, page_size: int, total: int) -> float:
    """The same with ``httpx.AsyncClient``: 8 requests in flight, pages read in order."""
    async with httpx.AsyncClient(base_url=url, headers={"X-Leeloo-AuthToken": TOKEN}, timeout=30) as raw:
        in_flight = asyncio.Semaphore(WALK_CONCURRENCY)

        async def fetch(offset: int) -> httpx.Response:
            async with in_flight:
                return await raw.get("/api/v2/people", params={"limit": page_size, "offset": offset})

        started = time.perf_counter()
        count = len((await fetch(0)).json()["data"])
        for answer in [asyncio.ensure_future(fetch(offset)) for offset in raw_offsets(page_size, total)]:
            count += len((await answer).json()["data"])
        seconds = time.perf_counter() - started
    assert count == total, (count, total)
    return seconds


def part_c(url: str) -> None:
    with httpx.Client(base_url=url + "/_sandbox", timeout=30) as control:
        switched = control.post("/realistic", json={"enabled": True})
        realistic = switched.status_code == 200
        with Leeloo(token=TOKEN, base_url=url) as lee:  # the default limit: what every user gets
            total = lee.people.list(limit=1).total
            pages = math.ceil(total / 100)
            ideal = pages * 60 / 300
            mode = "realistic mode, 300 a minute per token" if realistic else (
                f"NO realistic mode in this sandbox (POST /_sandbox/realistic -> {switched.status_code}): "
                "the client's own pace alone")
            print(f"\n(c) people.iter() over {total:,} people, {pages} pages of 100, {mode}")
            since = control.get("/requests", params={"limit": 1}).json()["last_id"]
            started = time.perf_counter()
            count = sum(1 for _ in lee.people.iter())
            seconds = time.perf_counter() - started
        assert count == total, (count, total)
        refused = [entry for entry in control.get("/requests", params={"since_id": since, "limit": 100_000,
                                                                      "path": "/api/v2/people"}).json()["data"]
                   if entry["status"] == 429]
        ratio = seconds / ideal
        verdict = "ok" if ratio <= 1.10 else "over target"
        print(f"  walked {count:,} people in {seconds:.1f} s; pages / 300 a minute = {ideal:.1f} s "
              f"(ratio {ratio:.3f}x, target <= 1.10x: {verdict}); 429 answers on the way: {len(refused)}")
        if realistic:
            control.post("/realistic", json={"enabled": False})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=1500)
    parser.add_argument("--page-size", type=int, default=100, help="people per page (the SDK's default)")
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--runs", type=int, default=3, help="runs of parts (a) and (b), for medians and min-max")
    parser.add_argument("--part", default="abc", help="the parts to run, as letters (ab: parts a and b)")
    args = parser.parse_args()
    print(f"starting a sandbox with {args.people:,} people on 127.0.0.1 …", flush=True)
    process, url = start_sandbox(args.people)
    figures: dict[str, list[float]] = {}
    try:
        for run in range(args.runs):
            if args.runs > 1 and set(args.part) & set("ab"):
                print(f"\n--- run {run + 1} of {args.runs}")
            results: dict[str, float] = {}
            if "a" in args.part:
                results |= part_a(url, args.calls)
            if "b" in args.part:
                results |= part_b(url, args.page_size, args.latency_ms)
            for name, value in results.items():
                figures.setdefault(name, []).append(value)
        if figures:
            summarise(figures)
        if "c" in args.part:
            part_c(url)
    finally:
        process.terminate()
        process.wait(timeout=10)


def summarise(figures: dict[str, list[float]]) -> None:
    """Each ratio's median over the runs, with its min–max."""
    print(f"\nover {len(next(iter(figures.values())))} run(s): median (min–max)")
    for name, values in figures.items():
        target = TARGETS.get(name)
        median = statistics.median(values)
        verdict = "" if target is None else f"   target <= {target}x: {'ok' if median <= target else 'over target'}"
        print(f"  {name:<28} {median:.3f}x ({min(values):.3f}–{max(values):.3f}){verdict}")


if __name__ == "__main__":
    main()

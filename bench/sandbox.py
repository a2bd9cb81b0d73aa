"""Requests per second of the sandbox's hot endpoints, as ratios to a bare ASGI app.

    .venv/bin/python bench/sandbox.py [--people 100000] [--seconds 5] [--connections 8]
    .venv/bin/python bench/sandbox.py --workers 2 [--db postgresql://…]   (bench/workers.py: one worker against N)

Both apps are served by one uvicorn server (uvloop + httptools, as the CLI serves the
sandbox): the bare app answers a fixed JSON body on a path the sandbox does not use.
A second process on 127.0.0.1 loads one endpoint at a time with keep-alive connections:
``wrk`` when it is installed (``apt-get install -y wrk``, ``brew install wrk``), else a
small asyncio load generator in Python, which is slower than the server it measures and
so understates the bare app (the ratios then look better than they are: install wrk).
The bare app is measured between every two endpoints and the ratios use the mean of
those runs, so load from other processes on the machine affects both sides alike.

Targets: GET people >= 0.25 and POST send-message >= 0.15 of the bare app's req/s.
"GET people, any page" asks for a random page each time, so it shows the cost of a page
read from the database (a repeated page is served from the sandbox's page cache).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from sqlalchemy import func, select
from starlette.types import ASGIApp, Receive, Scope, Send

BARE_PATH = "/_bench/bare"
BARE_BODY = orjson.dumps({"status": 1, "data": {"hello": "world"}})
TARGETS = {"GET people": 0.25, "POST send-message": 0.15}


@dataclass(frozen=True)
class Target:
    name: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    # When set, every request asks for a random page among the first `spread_offsets`
    # (appended as &offset=N), so answers come from the database, not the page cache.
    spread_offsets: int = 0


async def bare_app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(BARE_BODY)).encode())]})
    await send({"type": "http.response.body", "body": BARE_BODY})


def side_by_side(sandbox_app: ASGIApp) -> ASGIApp:
    """One ASGI app: the bare app on BARE_PATH, the sandbox everywhere else."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == BARE_PATH:
            await bare_app(scope, receive, send)
        else:
            await sandbox_app(scope, receive, send)

    return app


# --- load generators (run in a second process) -------------------------------------------


def run_wrk(url: str, target: Target, seconds: float, connections: int) -> tuple[float, int]:
    script = "\n".join(
        [f'wrk.method = "{target.method}"']
        + [f'wrk.headers["{name}"] = "{value}"' for name, value in target.headers.items()]
        + ([f"wrk.body = {lua_string(target.body)}"] if target.body else [])
        + ([f'request = function() return wrk.format(nil, "{target.path}&offset=" .. '
            f"math.random(0, {target.spread_offsets - 1})) end"] if target.spread_offsets else [])
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script + "\n")
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", handle.name,
             url + target.path],
            capture_output=True, text=True, check=True,
        ).stdout
    finally:
        os.unlink(handle.name)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rate, int(errors.group(1)) if errors else 0


def lua_string(data: bytes) -> str:
    return '"' + "".join(f"\\{byte}" for byte in data) + '"'


def run_python(url: str, target: Target, seconds: float, connections: int) -> tuple[float, int]:
    spec = orjson.dumps({"url": url, "method": target.method, "path": target.path, "headers": target.headers,
                         "body": target.body.decode(), "seconds": seconds, "connections": connections,
                         "spread_offsets": target.spread_offsets})
    out = subprocess.run([sys.executable, __file__, "--load-worker", spec.decode()],
                         capture_output=True, check=True).stdout
    result = orjson.loads(out)
    return float(result["rate"]), int(result["errors"])


def load_worker(spec: dict[str, Any]) -> None:
    """Keep-alive HTTP/1.1 clients on raw sockets; prints {"rate", "errors"} as JSON."""
    parts = urlsplit(spec["url"])
    rest = f"Host: {parts.netloc}\r\n"
    rest += "".join(f"{name}: {value}\r\n" for name, value in spec["headers"].items())
    body = spec["body"].encode()
    if body:
        rest += f"Content-Length: {len(body)}\r\n"
    tail = rest.encode() + b"\r\n" + body
    spread = spec["spread_offsets"]
    counts = {"done": 0, "errors": 0}

    def request() -> bytes:
        path = spec["path"] + (f"&offset={random.randrange(spread)}" if spread else "")
        return f"{spec['method']} {path} HTTP/1.1\r\n".encode() + tail

    async def client(deadline: float) -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        while time.monotonic() < deadline:
            writer.write(request())
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            counts["done"] += 1
            if status_line[9:10] != b"2":
                counts["errors"] += 1
        writer.close()

    async def main() -> None:
        started = time.monotonic()
        await asyncio.gather(*(client(started + spec["seconds"]) for _ in range(spec["connections"])))
        elapsed = time.monotonic() - started
        print(orjson.dumps({"rate": counts["done"] / elapsed, "errors": counts["errors"]}).decode())

    asyncio.run(main())


# --- the benchmark -------------------------------------------------------------------------


def targets(sandbox: Any) -> list[Target]:
    from leadbridge.sandbox import schema
    from leadbridge.sandbox.seed import TENANTS

    demo = TENANTS[0]
    with sandbox.read() as session:
        busiest = session.execute(
            select(schema.Message.account_id)
            .where(schema.Message.company_id == demo.company_id)
            .group_by(schema.Message.account_id)
            .order_by(func.count().desc(), schema.Message.account_id)
            .limit(1)
        ).scalar_one()
    auth = {"X-Leeloo-AuthToken": demo.leeloo_token}
    return [
        Target("GET people", "GET", "/api/v2/people?limit=20", auth),
        Target("GET people, any page", "GET", "/api/v2/people?limit=20", auth,
               spread_offsets=sandbox.people - 20),
        Target("GET chat-messages", "GET", f"/api/v2/communication-channels/{busiest}/chat-messages", auth),
        Target("POST send-message", "POST", "/api/v2/messages/send-message",
               {**auth, "Content-Type": "application/json"},
               orjson.dumps({"account_id": busiest, "text": "Спасибо, ждём вас!"})),
    ]


def main() -> int:
    if "--workers" in sys.argv:  # several processes on PostgreSQL: bench/workers.py measures that
        from workers import main as workers_main

        return workers_main(sys.argv[1:])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--db", default="sqlite://", help="database URL (default: in memory)")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each measured run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--generator", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--load-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load_worker:
        load_worker(orjson.loads(args.load_worker))
        return 0

    from leadbridge.sandbox.app import create_app
    from leadbridge.sandbox.server import serve_app_in_thread
    from leadbridge.sandbox.state import Sandbox

    generator = args.generator
    if generator == "auto":
        generator = "wrk" if shutil.which("wrk") else "python"
        if generator == "python":
            print("wrk not found (apt-get install -y wrk): using the Python load generator, "
                  "which understates the bare app")
    load = run_wrk if generator == "wrk" else run_python

    started = time.perf_counter()

    def progress(tenant: str, done: int, total: int) -> None:
        ending = "\n" if done >= total or not sys.stdout.isatty() else ""
        print(f"\rseeding {tenant}: {done:,}/{total:,} people", end=ending, flush=True)

    sandbox = Sandbox(args.db, seed=1, people=args.people)
    sandbox.start(progress=progress)
    print(f"sandbox ready in {time.perf_counter() - started:.1f} s ({args.people:,} people, {args.db})")
    app = side_by_side(create_app(sandbox, start=False))
    bare = Target("bare ASGI app", "GET", BARE_PATH, {})

    with serve_app_in_thread(app, loop="uvloop", http="httptools") as url:
        measured: dict[str, float] = {}
        bare_rates: list[float] = []

        def measure(target: Target) -> float:
            load(url, target, min(1.0, args.seconds), args.connections)  # warm-up
            rate, errors = load(url, target, args.seconds, args.connections)
            if errors:
                raise SystemExit(f"{target.name}: {errors} responses were not 2xx")
            print(f"  {target.name:<20} {rate:>9,.0f} req/s")
            return rate

        print(f"load: {generator}, {args.connections} connections, {args.seconds:g} s a run, from a second process")
        bare_rates.append(measure(bare))
        for target in targets(sandbox):
            probe = httpx.request(target.method, url + target.path, headers=target.headers, content=target.body)
            if probe.status_code >= 300:
                print(f"  {target.name:<20} skipped: answers {probe.status_code}")
                continue
            measured[target.name] = measure(target)
            bare_rates.append(measure(bare))

    bare_rate = statistics.mean(bare_rates)
    print(f"\nbare app: {bare_rate:,.0f} req/s (runs: {', '.join(f'{rate:,.0f}' for rate in bare_rates)})")
    missed = False
    for name, rate in measured.items():
        ratio = rate / bare_rate
        goal = TARGETS.get(name)
        verdict = "" if goal is None else (f"  (target >= {goal}: " + ("met)" if ratio >= goal else "MISSED)"))
        missed |= goal is not None and ratio < goal
        print(f"{name:<20} {ratio:.3f} of the bare app{verdict}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Requests per second of every documented endpoint of the sandbox, as ratios to a bare ASGI app.

    .venv/bin/python bench/sandbox.py [--people 100000] [--small 20000] [--seconds 3] [--connections 8]
                                      [--only NAME ...]
    .venv/bin/python bench/sandbox.py --workers 2 [--db postgresql://…]   (bench/workers.py: one worker against N)

Both apps are served by one uvicorn server (uvloop + httptools, as the CLI serves the
sandbox): the bare app answers a fixed JSON body on a path the sandbox does not use.
A second process on 127.0.0.1 loads one endpoint at a time with keep-alive connections:
``wrk`` when it is installed (``apt-get install -y wrk``, ``brew install wrk``), else a
small asyncio load generator in Python, which is slower than the server it measures and
so understates the bare app (the ratios then look better than they are: install wrk).
The bare app is measured between every two endpoints, and each endpoint's ratio uses the
two bare runs around it, so load from other processes, and the machine's drift over a run of
several minutes, affect both sides alike. Ratios are printed to four significant digits.

Targets, at --people (100,000): every write >= 0.1 of the bare app's req/s, send-message
>= 0.3, the cached people page >= 0.6, a people page read from the database at a random
offset >= 0.3. "GET people, any page" asks for a random page each time, so it shows the
cost of a page read from the database (a repeated page is served from the page cache).

The writes are then measured on a sandbox of --small people (20,000) and on a fresh one of
--people, both seeded anew and served at once and each write loaded on them in turn (small, large, large, small:
--growth-rounds runs of each), so that the machine's drift falls on both sizes alike; a
write whose cost grows with the data runs more than 1.2x slower at --people than at --small
(the best run of each).
"""

from __future__ import annotations

import argparse
import asyncio
import math
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
TARGETS = {"GET people": 0.6, "GET people, any page": 0.3, "POST send-message": 0.3}
WRITE_TARGET = 0.1
GROWTH_LIMIT = 1.2  # a write's rate at --small people over its rate at --people


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

    @property
    def write(self) -> bool:
        return is_write(self.name)


def is_write(name: str) -> bool:
    """Whether the endpoint of this name changes data (logins and the report do not)."""
    return not name.startswith(("GET", "POST login", "POST report", "bare"))


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


def targets(sandbox: Any, url: str) -> list[Target]:
    """Every documented endpoint, on the demo tenant's records (logging in to Neiros and Dialog)."""
    from leadbridge.sandbox import schema as s
    from leadbridge.sandbox.seed import DOC_IDS, TENANTS

    demo = TENANTS[0]
    company = demo.company_id
    with sandbox.read() as session:
        busiest = session.execute(
            select(s.Message.account_id).where(s.Message.company_id == company)
            .group_by(s.Message.account_id).order_by(func.count().desc(), s.Message.account_id).limit(1)
        ).scalar_one()
        person = session.scalar(select(s.Account.person_id).where(s.Account.id == busiest))
        user = session.scalar(select(s.User.id).where(s.User.company_id == company).order_by(s.User.id))
        tag = session.scalar(select(s.Tag.id).where(s.Tag.company_id == company).order_by(s.Tag.id))
        order = session.scalar(select(s.Order.id).where(s.Order.company_id == company).order_by(s.Order.id))
        tunnel = session.scalar(select(s.Tunnel.id).where(s.Tunnel.company_id == company).order_by(s.Tunnel.id))
        category = session.scalar(select(s.TemplateCategory.id).where(s.TemplateCategory.company_id == company)
                                  .order_by(s.TemplateCategory.id))
        block = session.scalar(select(s.TunnelBlock.id).where(s.TunnelBlock.tunnel_id == DOC_IDS["placeholder"]))
        site, deal = session.execute(select(s.Deal.site_id, s.Deal.id).where(s.Deal.company_id == company)
                                     .order_by(s.Deal.id).limit(1)).one()
    neiros_login = {"email": demo.neiros_email, "password": demo.neiros_password}
    dialog_login = {"login": demo.dialog_login, "password": demo.dialog_password}
    neiros_token = httpx.post(url + "/api/userapi/v1/auth/login", json=neiros_login, timeout=60).json()["token"]
    dialog_token = httpx.post(url + "/api/login", json=dialog_login, timeout=60).json()["token"]
    leeloo = {"X-Leeloo-AuthToken": demo.leeloo_token}
    leeloo_json = {**leeloo, "Content-Type": "application/json"}
    neiros = {"Authorization": f"Bearer {neiros_token}"}
    dialog_json = {"Authorization": f"Bearer {dialog_token}", "Content-Type": "application/json"}
    campaign = {"campaign": {"project_id": demo.dialog_project_id, "name": "Обзвон", "description": "",
                             "start_block_id": demo.dialog_start_block_id,
                             "schedule": {"date": "2026-11-01", "start_time": "09:00", "end_time": "17:00",
                                          "periods": {"id": 1, "title": "Однократно"},
                                          "attempts": {"id": 1, "title": "1"}, "interval": "5"},
                             "state": "Создано", "phone_id": demo.dialog_phone_id}}
    phones = [{"phone": f"+7999{n:07d}", "add_data": {"name": "Иван", "time": "10:00", "phone": n}}
              for n in range(100)]
    report = {"analytics_filter": {"scenario_id": demo.dialog_scenario_id,
                                   "start_block_id": demo.dialog_start_block_id,
                                   "outgoing_campaign_id": 12345, "date_start": "2026-01-01T00:00:00.000Z",
                                   "date_end": "2026-12-31T00:00:00.000Z"},
              "columns": [{"id": 1, "name": "phone_number", "display_name": "Phone", "column_type": "field",
                           "data_type": "number", "filter_type": "contains", "filter_value": "7999",
                           "sorting": "asc"}]}
    window = f"site_id={site}&date_start=2020-01-01&date_end=2026-12-31"

    def body(value: Any) -> bytes:
        return orjson.dumps(value)

    # The demo tenant's first campaign (the id the documents' examples use), made before anything
    # is measured: the reads of a campaign (GET campaign, the report) read it, and the reads are
    # measured before the writes (see measure_all).
    httpx.post(url + "/api/campaigns", headers=dialog_json, content=body({**campaign, "phones": phones[:1]}),
               timeout=60).raise_for_status()

    channel = f"/api/v2/communication-channels/{busiest}"
    return [
        # Leeloo v2: people
        Target("GET people", "GET", "/api/v2/people?limit=20", leeloo),
        Target("GET people, any page", "GET", "/api/v2/people?limit=20", leeloo, spread_offsets=sandbox.people - 20),
        Target("GET people, by phone", "GET", "/api/v2/people?filter%5Bphone%5D=%2B79001234567", leeloo),
        Target("GET person", "GET", f"/api/v2/people/{person}", leeloo),
        Target("POST people", "POST", "/api/v2/people", leeloo_json, body(
            {"name": "Нагрузка", "phone": "+79990000001", "leadgentool_id": DOC_IDS["person_leadgentool"]})),
        Target("POST people/sms", "POST", "/api/v2/people/sms", leeloo_json, body(
            {"connection_id": DOC_IDS["sms_connection"], "leadgentool_id": DOC_IDS["sms_leadgentool"],
             "tags": [DOC_IDS["sms_tag"]], "data": [{"phone": "+79990000002", "name": "СМС"}]})),
        Target("PUT person", "PUT", f"/api/v2/people/{person}", leeloo_json, body({"email": "load@example.com"})),
        Target("PUT add-comment", "PUT", f"/api/v2/people/{person}/add-comment", leeloo_json,
               body({"comment": "нагрузка"})),
        Target("PUT add-tag", "PUT", f"/api/v2/people/{person}/add-tag", leeloo_json, body({"tag_id": tag})),
        Target("PUT remove-tag", "PUT", f"/api/v2/people/{person}/remove-tag", leeloo_json, body({"tag_id": tag})),
        # Leeloo v2: channels and messages
        Target("GET channels", "GET", "/api/v2/communication-channels?limit=20", leeloo),
        Target("GET chat-messages", "GET", f"{channel}/chat-messages", leeloo),
        Target("GET channel's person", "GET", f"{channel}/person", leeloo),
        Target("POST send-message", "POST", "/api/v2/messages/send-message", leeloo_json,
               body({"account_id": busiest, "text": "Спасибо, ждём вас!"})),
        Target("POST send-template", "POST", "/api/v2/messages/send-template", leeloo_json,
               body({"account_id": busiest, "template_id": DOC_IDS["template"], "variables": {"name": "Иван"}})),
        Target("POST manual-subscribe", "POST", f"{channel}/manual-subscribe", leeloo_json,
               body({"tunnel_id": DOC_IDS["placeholder"], "tunnel_block_id": block})),
        # Leeloo v2: orders, calls, catalogue, tunnels
        Target("GET orders", "GET", "/api/v2/orders?limit=20", leeloo),
        Target("GET order", "GET", f"/api/v2/orders/{order}", leeloo),
        Target("POST orders", "POST", "/api/v2/orders", leeloo_json, body(
            {"personId": person, "offerId": DOC_IDS["offer"], "paymentCreditsId": DOC_IDS["payment_credits"]})),
        Target("POST calls", "POST", "/api/v2/calls", leeloo_json, body(
            {"user_id": user, "account_id": busiest, "from": "+79990000001", "to": "+79990000002",
             "date": "2026-11-01T10:00:00.000Z", "status": "SUCCESS", "duration": 10, "type": "OUTBOUND"})),
        Target("POST create-traffic-source", "POST",
               f"/api/v2/leadgentools/{DOC_IDS['person_leadgentool']}/create-traffic-source", leeloo_json,
               body({"name": "нагрузка", "description": ""})),
        Target("GET tags", "GET", "/api/v2/tags", leeloo),
        Target("GET users", "GET", "/api/v2/users", leeloo),
        Target("GET user", "GET", f"/api/v2/users/{user}", leeloo),
        Target("GET connections", "GET", "/api/v2/connections", leeloo),
        Target("GET template categories", "GET", "/api/v2/categories/templates", leeloo),
        Target("GET templates", "GET", f"/api/v2/categories/templates/{category}", leeloo),
        Target("GET tunnels", "GET", "/api/v2/tunnels", leeloo),
        Target("GET tunnel", "GET", f"/api/v2/tunnels/{tunnel}", leeloo),
        Target("GET tunnel stats", "GET", f"/api/v2/tunnels/{tunnel}/stats", leeloo),
        Target("GET all tunnels' stats", "GET", "/api/v2/tunnels/stats", leeloo),
        # Leeloo v1
        Target("GET v1 accounts", "GET", "/api/v1/accounts?limit=20", leeloo),
        Target("GET v1 account", "GET", f"/api/v1/accounts/{busiest}", leeloo),
        Target("GET v1 chat-messages", "GET", f"/api/v1/accounts/{busiest}/chat-messages", leeloo),
        # Neiros
        Target("POST login (Neiros)", "POST", "/api/userapi/v1/auth/login",
               {"Content-Type": "application/json"}, body(neiros_login)),
        Target("GET sites", "GET", "/api/userapi/v1/sites", neiros),
        Target("GET deals page", "GET", f"/api/userapi/v1/projects?{window}&page=2", neiros),
        Target("GET deal", "GET", f"/api/userapi/v1/project/{deal}?site_id={site}", neiros),
        Target("POST deal update", "POST", f"/api/userapi/v1/project/{deal}/update",
               {**neiros, "Content-Type": "application/json"}, body({"site_id": site, "summ": 1500})),
        # Dialog
        Target("POST login (Dialog)", "POST", "/api/login", {"Content-Type": "application/json"}, body(dialog_login)),
        Target("POST campaign, 1 phone", "POST", "/api/campaigns", dialog_json,
               body({**campaign, "phones": phones[:1]})),
        Target("POST campaign, 100 phones", "POST", "/api/campaigns", dialog_json,
               body({**campaign, "phones": phones})),
        Target("GET campaign", "GET", "/api/campaigns/12345", dialog_json),
        Target("POST report", "POST", f"/api/analytics/{demo.dialog_project_id}/report", dialog_json, body(report)),
    ]


def seeded_sandbox(db: str, people: int, reuse: bool) -> Any:
    from leadbridge.sandbox.state import Sandbox

    def progress(tenant: str, done: int, total: int) -> None:
        ending = "\n" if done >= total or not sys.stdout.isatty() else ""
        print(f"\rseeding {tenant}: {done:,}/{total:,} people", end=ending, flush=True)

    started = time.perf_counter()
    sandbox = Sandbox(db, seed=1, people=people)
    # A database on disk is seeded afresh, unless --reuse (then it is taken as it is).
    sandbox.start(reset=db != "sqlite://" and not reuse, progress=progress)
    print(f"sandbox ready in {time.perf_counter() - started:.1f} s ({people:,} people, {db})")
    return sandbox


def measure_all(sandbox: Any, load: Any, seconds: float, connections: int,
                only: list[str] | None) -> tuple[dict[str, float], list[float]]:
    """Each target's req/s and the bare app's runs (one before the first target and one after each)."""
    from leadbridge.sandbox.app import create_app
    from leadbridge.sandbox.server import serve_app_in_thread

    app = side_by_side(create_app(sandbox, start=False))
    bare = Target("bare ASGI app", "GET", BARE_PATH, {})
    measured: dict[str, float] = {}
    bare_rates: list[float] = []
    with serve_app_in_thread(app, loop="uvloop", http="httptools") as url:

        def measure(target: Target) -> float:
            load(url, target, min(1.0, seconds), connections)  # warm-up
            rate, errors = load(url, target, seconds, connections)
            if errors:
                raise SystemExit(f"{target.name}: {errors} responses were not 2xx")
            print(f"  {target.name:<28} {rate:>9,.0f} req/s", flush=True)
            return rate

        bare_rates.append(measure(bare))
        # Reads first, on the data as seeded: after the writes' runs a read would meet what they
        # added, more the faster the writes are, and its figure would fall with their progress.
        for target in sorted(targets(sandbox, url), key=lambda target: target.write):
            if only and target.name not in only:
                continue
            probe = httpx.request(target.method, url + target.path, headers=target.headers, content=target.body,
                                  timeout=60)
            if probe.status_code >= 300:
                print(f"  {target.name:<28} skipped: answers {probe.status_code} {probe.text[:200]}")
                continue
            measured[target.name] = measure(target)
            bare_rates.append(measure(bare))
    return measured, bare_rates


def measure_growth(large: Any, small: Any, load: Any, seconds: float, connections: int, names: list[str],
                   rounds: int) -> dict[str, tuple[float, float]]:
    """Each write's best req/s on the ``small`` and on the ``large`` sandbox, served at once and
    loaded in turn (small, large, large, small, …: ``rounds`` pairs), so that the machine's
    drift over the run falls on both sizes alike."""
    from leadbridge.sandbox.app import create_app
    from leadbridge.sandbox.server import serve_app_in_thread

    best: dict[str, tuple[float, float]] = {}
    with serve_app_in_thread(create_app(small, start=False), loop="uvloop", http="httptools") as small_url, \
            serve_app_in_thread(create_app(large, start=False), loop="uvloop", http="httptools") as large_url:
        by_size = {size: {target.name: target for target in targets(sandbox, url)}
                   for size, sandbox, url in (("small", small, small_url), ("large", large, large_url))}
        urls = {"small": small_url, "large": large_url}
        for name in names:
            rates: dict[str, list[float]] = {"small": [], "large": []}
            for turn in range(rounds):
                for size in ("small", "large") if turn % 2 == 0 else ("large", "small"):
                    target = by_size[size][name]
                    load(urls[size], target, min(1.0, seconds), connections)  # warm-up
                    rate, errors = load(urls[size], target, seconds, connections)
                    if errors:
                        raise SystemExit(f"{name} ({size}): {errors} responses were not 2xx")
                    rates[size].append(rate)
            best[name] = (max(rates["small"]), max(rates["large"]))
            print(f"  {name:<28} small {', '.join(f'{rate:,.0f}' for rate in rates['small'])}; "
                  f"large {', '.join(f'{rate:,.0f}' for rate in rates['large'])} req/s", flush=True)
    return best


def bare_beside(measured: dict[str, float], bare_rates: list[float]) -> dict[str, float]:
    """Each endpoint's baseline: the mean of the bare app's runs just before and just after it
    (``measure_all`` measures the bare app first and after every endpoint)."""
    return {name: (bare_rates[place] + bare_rates[place + 1]) / 2 for place, name in enumerate(measured)}


def figure(ratio: float) -> str:
    """A ratio to four significant digits, never in exponent form (0.3861, 0.001530)."""
    if ratio <= 0:
        return "0.000"
    return f"{ratio:.{max(3, 3 - math.floor(math.log10(ratio)))}f}"


def main() -> int:
    if "--workers" in sys.argv:  # several processes on PostgreSQL: bench/workers.py measures that
        from workers import main as workers_main

        return workers_main(sys.argv[1:])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=20_000, help="people of the second sandbox (0: skip it)")
    parser.add_argument("--db", default="sqlite://", help="database URL (default: in memory)")
    parser.add_argument("--small-db", default="sqlite://", help="database URL of the --small sandbox")
    parser.add_argument("--reuse", action="store_true",
                        help="take databases on disk as they are (seeded by an earlier run) instead of seeding them")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each measured run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--growth-rounds", type=int, default=2,
                        help="runs of each write on each sandbox for the growth check, taken in turn")
    parser.add_argument("--generator", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--only", nargs="*", help="measure only the endpoints of these names")
    parser.add_argument("--load-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load_worker:
        load_worker(orjson.loads(args.load_worker))
        return 0

    generator = args.generator
    if generator == "auto":
        generator = "wrk" if shutil.which("wrk") else "python"
        if generator == "python":
            print("wrk not found (apt-get install -y wrk): using the Python load generator, "
                  "which understates the bare app")
    load = run_wrk if generator == "wrk" else run_python
    print(f"load: {generator}, {args.connections} connections, {args.seconds:g} s a run, from a second process")

    sandbox = seeded_sandbox(args.db, args.people, args.reuse)
    measured, bare_rates = measure_all(sandbox, load, args.seconds, args.connections, args.only)
    bare_rate = statistics.mean(bare_rates)
    beside = bare_beside(measured, bare_rates)
    print(f"\nbare app: {bare_rate:,.0f} req/s (runs: {', '.join(f'{rate:,.0f}' for rate in bare_rates)})")
    print(f"at {args.people:,} people:")
    missed = False
    ratios: dict[str, float] = {}
    writes = [name for name in measured if is_write(name)]
    for name, rate in measured.items():
        ratio = ratios[name] = rate / beside[name]
        goal = TARGETS.get(name, WRITE_TARGET if name in writes else None)
        verdict = "" if goal is None else (f"  (target >= {goal}: " + ("met)" if ratio >= goal else "MISSED)"))
        missed |= goal is not None and ratio < goal
        print(f"  {name:<28} {rate:>9,.0f} req/s  {figure(ratio)} of the bare app{verdict}")

    sandbox.close()
    if args.small and writes:
        # Both sizes afresh: the writes above left their marks on the large sandbox (the person
        # written to has thousands of subscriptions and orders, which its card then lists).
        large = seeded_sandbox(args.db, args.people, args.reuse)
        small = seeded_sandbox(args.small_db, args.small, args.reuse)
        print(f"\nwrites at {args.small:,} and at {args.people:,} people, loaded in turn "
              f"({args.growth_rounds} runs of each):")
        growth = measure_growth(large, small, load, args.seconds, args.connections, writes, args.growth_rounds)
        small.close()
        large.close()
        print(f"\nwrites at {args.small:,} and at {args.people:,} people (the best run of each)")
        for name, (small_rate, large_rate) in growth.items():
            ratio = small_rate / large_rate
            verdict = "met" if ratio <= GROWTH_LIMIT else "MISSED"
            missed |= ratio > GROWTH_LIMIT
            print(f"  {name:<28} {small_rate:>9,.0f} -> {large_rate:>9,.0f} req/s: {ratio:.2f}x slower at "
                  f"{args.people:,} (target <= {GROWTH_LIMIT}: {verdict})")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())

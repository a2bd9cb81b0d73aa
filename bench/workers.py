"""A mixed write load on ``leadbridge sandbox --workers 2`` against one worker, on PostgreSQL.

    .venv/bin/python bench/workers.py [--db postgresql://postgres@127.0.0.1:5432/test] [--people 20000]
                                      [--seconds 10] [--connections 16] [--runs 2] [--sqlite]

(also ``bench/sandbox.py --workers 2 …``, which hands over to this script.)

The sandbox runs as users run it, ``leadbridge sandbox --db … --workers N``, on a schema of
its own (made here, dropped at the end) that the first start seeds with ``--people``. ``wrk``
(``apt-get install -y wrk``) loads it from 127.0.0.1 with keep-alive connections, each
request drawn at random among three writes of the demo tenant: a message sent
(POST send-message), a comment added (PUT add-comment) and a card updated (PUT people/{id}).
One worker and N workers are measured in turns (1, N, 1, N, …), so that load from other
processes falls on both alike; each is measured once all its processes have started (their
CPU use has settled) and after a short warm-up load. The ratio is N workers' req/s over one's,
given per run and as the median with its min–max, with the machine's cores and its load
average at each run. ``--sqlite`` adds one worker on a SQLite file (seeded alike) to each turn,
so PostgreSQL's per-request rate is seen against SQLite's. Expect about 1.6x for 2 workers
on 2 free cores; wrk and PostgreSQL need CPU too, so a busy machine shows less. Each run also
shows the cores the sandbox's processes used (their CPU time over the run's length): on a
busy Linux machine with autogroup scheduling (``/proc/sys/kernel/sched_autogroup_enabled``),
every session gets an equal share of the cores, and the workers, started in the bench's
session, share one; when the run's figure stays the same with N workers, the sandbox had no
more CPU to scale into, and the ratio says nothing about its scaling.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import orjson
import sqlalchemy

from leadbridge.sandbox.seed import TENANTS
from leadbridge.sandbox.server import free_port

TOKEN = TENANTS[0].leeloo_token
COMMAND = str(Path(sys.executable).with_name("leadbridge"))
TARGET = 1.6  # N workers' req/s over one's, for N = 2 on 2 cores
SETTLED_CPU_SECONDS = 0.1  # used by the sandbox's processes in a second: they are waiting for requests
WARM_UP_SECONDS = 2  # of load before each measured run: each worker's first requests set up its routes


def start(db_url: str, people: int, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen([COMMAND, "sandbox", "--db", db_url, "--people", str(people), "--port", str(port),
                                "--workers", str(workers)], stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 900  # the first start seeds the database
    while True:
        try:
            httpx.get(base + "/_sandbox/clock", timeout=10).raise_for_status()
            break
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise SystemExit("the sandbox did not start") from None
            time.sleep(0.5)
    # The first worker up answers while the others may still be importing the application:
    # the load starts once the sandbox's processes have settled.
    settle_deadline = time.monotonic() + 120
    while time.monotonic() < settle_deadline:
        before = tree_cpu_seconds(process.pid)
        time.sleep(1.0)
        if tree_cpu_seconds(process.pid) - before < SETTLED_CPU_SECONDS:
            break
    return process, base


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def tree_cpu_seconds(pid: int) -> float:
    """CPU time used so far by a process and all its descendants (read from Linux's /proc)."""
    children: dict[int, list[int]] = {}
    used: dict[int, float] = {}
    ticks = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after the command's name
        except OSError:
            continue  # the process has ended
        process = int(stat.parent.name)
        children.setdefault(int(fields[1]), []).append(process)  # parent's id
        used[process] = (int(fields[11]) + int(fields[12])) / ticks  # user and system time
    total, pending = 0.0, [pid]
    while pending:
        process = pending.pop()
        total += used.get(process, 0.0)
        pending.extend(children.get(process, ()))
    return total


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wrk_script(base: str) -> str:
    """A Lua script drawing each request among the three writes, on the first people and channels."""
    with httpx.Client(base_url=base, headers={"X-Leeloo-AuthToken": TOKEN}, timeout=60) as client:
        people = client.get("/api/v2/people", params={"limit": 50}).json()["data"]
    requests: list[tuple[str, str, bytes]] = []
    for index, person in enumerate(people):
        requests.append(("PUT", f"/api/v2/people/{person['id']}/add-comment",
                         orjson.dumps({"comment": f"Перезвонить, заявка {index}"})))
        requests.append(("PUT", f"/api/v2/people/{person['id']}",
                         orjson.dumps({"email": f"bench{index}@example.com"})))
        for account in person.get("accounts") or []:
            requests.append(("POST", "/api/v2/messages/send-message",
                             orjson.dumps({"account_id": account["account_id"], "text": "Спасибо, ждём вас!"})))
    lines = [f'wrk.headers["X-Leeloo-AuthToken"] = "{TOKEN}"', 'wrk.headers["Content-Type"] = "application/json"',
             "local requests = {}"]
    for method, path, body in requests:
        lines.append(f'table.insert(requests, wrk.format("{method}", "{path}", nil, {lua_string(body)}))')
    lines.append("request = function() return requests[math.random(#requests)] end")
    return "\n".join(lines) + "\n"


def lua_string(data: bytes) -> str:
    return '"' + "".join(f"\\{byte}" for byte in data) + '"'


def run_wrk(base: str, script: str, seconds: float, connections: int) -> tuple[float, int]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", handle.name,
                              base + "/"], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(handle.name)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rate, int(errors.group(1)) if errors else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="postgresql://postgres@127.0.0.1:5432/test",
                        help="a PostgreSQL database; the bench makes and drops a schema of its own in it")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each measured run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--runs", type=int, default=2, help="turns of one worker and --workers workers")
    parser.add_argument("--sqlite", action="store_true",
                        help="in each turn, one worker on a SQLite file too: PostgreSQL's rate against SQLite's")
    args = parser.parse_args(argv)
    if not args.db.startswith("postgresql"):
        raise SystemExit("--db: workers share a PostgreSQL database here")
    # Stopped by SIGTERM (a time limit), the bench still drops its schema and stops its sandbox.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    schema = f"bench_workers_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(args.db.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    db_url = f"{args.db}{'&' if '?' in args.db else '?'}options=-csearch_path%3D{schema}"
    sqlite_dir = tempfile.TemporaryDirectory(prefix="bench_workers_")
    one, many, sqlite = "one worker", f"{args.workers} workers", "one worker, SQLite"
    setups = [(one, db_url, 1), (many, db_url, args.workers)]
    if args.sqlite:  # the same demo data (one seed), so the same requests apply
        setups.insert(0, (sqlite, f"sqlite:///{Path(sqlite_dir.name) / 'sandbox.sqlite3'}", 1))
    rates: dict[str, list[float]] = {name: [] for name, _, _ in setups}
    cores: dict[str, list[float]] = {name: [] for name, _, _ in setups}  # CPU seconds a second, while measured
    try:
        script = ""
        for run in range(args.runs):
            for name, url, workers in setups:
                print(f"run {run + 1}: {name} …", flush=True)
                process, base = start(url, args.people, workers)
                try:
                    script = script or wrk_script(base)
                    run_wrk(base, script, WARM_UP_SECONDS, args.connections)
                    used, began = tree_cpu_seconds(process.pid), time.monotonic()
                    rate, failed = run_wrk(base, script, args.seconds, args.connections)
                    used_cores = (tree_cpu_seconds(process.pid) - used) / (time.monotonic() - began)
                finally:
                    stop(process)
                rates[name].append(rate)
                cores[name].append(used_cores)
                print(f"  {rate:8.0f} req/s, the sandbox's processes used {used_cores:.2f} cores  "
                      f"(load average {load_average()})" + (f"  ({failed} answers not 2xx)" if failed else ""),
                      flush=True)
    finally:
        with admin.begin() as conn:
            conn.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
        sqlite_dir.cleanup()
    ratios = [several / single for single, several in zip(rates[one], rates[many], strict=True)]
    print(f"\nmixed writes (send-message, add-comment, card update), {args.connections} connections, "
          f"{args.people:,} people, PostgreSQL; {len(os.sched_getaffinity(0))} cores, load average "
          f"{load_average()}")
    for name, measured in rates.items():
        print(f"  {name:<19} {statistics.median(measured):8.0f} req/s ({min(measured):.0f}–{max(measured):.0f}), "
              f"using {min(cores[name]):.2f}–{max(cores[name]):.2f} cores")
    median = statistics.median(ratios)
    verdict = f"; target >= {TARGET}x: {'ok' if median >= TARGET else 'under target'}" if args.workers == 2 else ""
    print(f"  {'ratio':<19} {median:8.2f}x ({min(ratios):.2f}–{max(ratios):.2f}){verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

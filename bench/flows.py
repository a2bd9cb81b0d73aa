"""call-leads + call-results over a large Leeloo account, against the sandbox in another process.

    .venv/bin/python bench/flows.py [--people 100000] [--workers 8] [--replay 3000]

1. serves a sandbox with ``--people`` demo people (``leadbridge sandbox``, in-memory
   database, its own process so it does not share this one's interpreter lock);
2. runs call-leads (every person is read, page by page; the hot leads with a phone go
   into campaigns of 5,000) and, after moving the sandbox clock 30 days, call-results
   (a call and a comment in Leeloo per dialog), timing both;
3. replays the very requests the flows made (all of them, from the sandbox's request log)
   with bare httpx on as many threads, as fast as the sandbox answers: that is the
   sandbox's capacity for the same calls;
4. prints elapsed time, the flows' requests per second as a ratio to that capacity
   (target >= 0.8) and the flows' peak memory (target <= 300 MB: records stream, they are
   not all held).
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from leadbridge.flows.config import load_config
from leadbridge.flows.runner import run_flows

TARGET_RATIO = 0.8
TARGET_MEMORY_MB = 300

CONFIG = """\
[ledger]
url = "sqlite:///{ledger}"

[leeloo]
token = "demo-leeloo-token"
base_url = "{url}"
rate_limit = false  # the sandbox enforces no limit: the bench measures the flows, not the SDK's 300 a minute

[dialog]
login = "demo"
password = "demo"
base_url = "{url}"

[flows.call-leads]
tags = ["горячий"]
last_message_within = "3650d"
project_id = 1
start_block_id = 10
phone_id = 5
start_time = "00:00"
end_time = "23:59"
attempts = 1
batch_size = 5000

[flows.call-results]
scenario_id = 951
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_sandbox(people: int, *options: str) -> tuple[subprocess.Popen[bytes], str]:
    """``leadbridge sandbox`` in memory on a free port, with ``options`` added; waits until it answers."""
    port = free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 - the sandbox writes to it for its whole life
    process = subprocess.Popen([sys.executable, "-m", "leadbridge.cli", "sandbox", "--port", str(port),
                                "--db", "sqlite://", "--people", str(people), *options],
                               stdout=subprocess.DEVNULL, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise SystemExit(f"the sandbox exited with {process.returncode}: {log.read().decode()[-2000:]}")
        try:
            httpx.get(url + "/_sandbox/clock", timeout=2)
            return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the sandbox did not start")


def request_log(url: str, since: int) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    while True:
        page = httpx.get(url + "/_sandbox/requests", params={"since_id": since, "limit": 20_000}, timeout=120).json()
        entries.extend(page["data"])
        if not page["data"]:
            return entries
        since = page["data"][-1]["id"]


def replay(url: str, entries: list[dict[str, Any]], threads: int) -> float:
    """Requests per second the sandbox answers for ``entries`` sent back to back on ``threads``."""
    dialog = httpx.post(url + "/api/login", json={"login": "demo", "password": "demo"}).json()["token"]
    headers = {"leeloo": {"X-Leeloo-AuthToken": "demo-leeloo-token"},
               "dialog": {"Authorization": f"Bearer {dialog}"}}
    queue = list(reversed(entries))
    lock = threading.Lock()
    refused: list[str] = []

    def worker() -> None:
        with httpx.Client(base_url=url, timeout=120) as client:
            while True:
                with lock:
                    if not queue:
                        return
                    entry = queue.pop()
                body = entry["body"]
                options: dict[str, Any] = {"headers": headers.get(entry["api"], {})}
                if isinstance(body, dict | list):
                    options["content"] = json.dumps(body).encode()
                    options["headers"] = {**options["headers"], "Content-Type": "application/json"}
                elif isinstance(body, str) and body:
                    options["content"] = body.encode()
                    options["headers"] = {**options["headers"], "Content-Type": content_type(body)}
                path = entry["path"] + (f"?{entry['query']}" if entry["query"] else "")
                status = client.request(entry["method"], path, **options).status_code
                if status >= 400:
                    with lock:
                        refused.append(f"{entry['method']} {entry['path']} -> {status}")

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    if refused:
        raise SystemExit(f"{len(refused)} replayed requests were refused, e.g. {refused[:3]}")
    return len(entries) / elapsed


def content_type(body: str) -> str:
    """The form encoding a logged body was sent with (multipart bodies start with their boundary)."""
    if body.startswith("--") and "Content-Disposition: form-data" in body:
        return f"multipart/form-data; boundary={body[2:body.index(chr(13))]}"
    return "application/x-www-form-urlencoded"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--replay", type=int, default=0,
                        help="requests replayed to measure capacity (default: all the flows made)")
    args = parser.parse_args()

    print(f"starting a sandbox with {args.people:,} people…", flush=True)
    seeded = time.perf_counter()
    sandbox, url = start_sandbox(args.people)
    print(f"  ready in {time.perf_counter() - seeded:.1f} s at {url}")
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "leadbridge.toml"
            path.write_text(CONFIG.format(url=url, ledger=Path(folder) / "ledger.sqlite3"), encoding="utf-8")
            config = load_config(path)
            quiet = Console(file=io.StringIO())
            first = httpx.get(url + "/_sandbox/requests", params={"limit": 1}).json()["last_id"]

            started = time.perf_counter()
            leads = run_flows(config, ["call-leads"], console=quiet, workers=args.workers)[0]
            leads_seconds = time.perf_counter() - started
            httpx.post(url + "/_sandbox/clock/advance", json={"seconds": 30 * 86_400}).raise_for_status()
            started_results = time.perf_counter()
            results = run_flows(config, ["call-results"], console=quiet, workers=args.workers)[0]
            results_seconds = time.perf_counter() - started_results
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            elapsed = leads_seconds + results_seconds

            entries = [e for e in request_log(url, first) if "/login" not in e["path"]]
            rate = len(entries) / elapsed
            step = max(1, len(entries) // args.replay) if args.replay else 1
            capacity = replay(url, entries[::step][: args.replay or None], args.workers)
    finally:
        sandbox.terminate()
        sandbox.wait()

    failures = leads.counts["failed"] + results.counts["failed"] + leads.counts["stopped by an error"] \
        + results.counts["stopped by an error"]
    ratio = rate / capacity
    print(f"people in the account:  {args.people:,}")
    print(f"leads queued:           {leads.counts['phones queued in campaigns']:,} in "
          f"{leads.counts['campaigns created']} campaigns ({leads_seconds:.1f} s)")
    print(f"dialogs written back:   {results.counts['done']:,} (calls {results.counts['calls added']:,}, "
          f"comments {results.counts['comments added']:,}) ({results_seconds:.1f} s)")
    print(f"elapsed:                {elapsed:.1f} s, {len(entries):,} requests, failures {failures}")
    print(f"flows:                  {rate:,.0f} req/s")
    print(f"sandbox capacity:       {capacity:,.0f} req/s (same calls replayed with bare httpx, "
          f"{args.workers} threads)")
    verdict = "OK" if ratio >= TARGET_RATIO else "MISS"
    print(f"ratio:                  {ratio:.2f}  (target >= {TARGET_RATIO})  {verdict}")
    print(f"peak memory:            {peak_mb:.0f} MB  (target <= {TARGET_MEMORY_MB})  "
          f"{'OK' if peak_mb <= TARGET_MEMORY_MB else 'MISS'}")


if __name__ == "__main__":
    main()

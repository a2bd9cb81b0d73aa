"""A webhook receiver for the tests: an HTTP server on 127.0.0.1 that records what it is sent.

It can answer 500 to its first N requests (an outage the sandbox must retry through).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

# A bound on waiting for a background delivery: generous for a loaded machine, never a pace.
WAIT_SECONDS = 60.0


@dataclass
class Received:
    body: dict[str, Any]
    delivery: str | None
    content_type: str | None


@dataclass
class Receiver:
    url: str = ""
    fail_first: int = 0
    requests: int = 0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self, fail_first: int = 0) -> None:
        with self.lock:
            self.fail_first, self.requests = fail_first, 0
            self.received.clear()

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [r.body for r in self.received if kind is None or r.body["type"] == kind]

    def wait_for(self, check: Callable[[Receiver], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while not check(self):
            assert time.monotonic() < deadline, f"timed out waiting for {what}; got {self.events()}"
            time.sleep(0.02)

    def wait_event(self, kind: str, match: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        found: list[dict[str, Any]] = []

        def check(receiver: Receiver) -> bool:
            found[:] = [e["data"] for e in receiver.events(kind) if match(e["data"])]
            return bool(found)

        self.wait_for(check, f"a {kind} event")
        return found[0]


@contextmanager
def receiving() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            with receiver.lock:
                receiver.requests += 1
                failing = receiver.requests <= receiver.fail_first
                if not failing:
                    receiver.received.append(Received(json.loads(raw), self.headers.get("X-Sandbox-Delivery"),
                                                      self.headers.get("Content-Type")))
            self.send_response(500 if failing else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def deliveries(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/_sandbox/webhooks/deliveries", params=params)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def wait_deliveries(client: httpx.Client, check: Callable[[list[dict[str, Any]]], bool], what: str
                    ) -> list[dict[str, Any]]:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        log = deliveries(client, limit=1000)
        if check(log):
            return log
        assert time.monotonic() < deadline, f"timed out waiting for {what}; log {log[:5]}"
        time.sleep(0.02)

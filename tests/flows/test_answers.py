"""How a call ends decides what the ledger records: refused (retried later) or unreadable (done, never again).

The real Leeloo sometimes answers success with a body the SDK cannot read, and refuses
requests the sandbox accepts; a small proxy in front of the sandbox stands in for that:
it passes the request on and garbles the answer, or refuses without passing it on.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from flow_helpers import Setup
from rich.console import Console

from leadbridge.flows.config import load_config
from leadbridge.flows.engine import FlowReport
from leadbridge.flows.ledger import Ledger
from leadbridge.flows.runner import failed, run_flows

UNREADABLE = b'{"status": 1, "data": {"comment": "saved"}}'  # a success without the record's id
REFUSAL = {"status": 0, "error": {"fields": {"comment": "INVALID"}, "code": "FORMAT_ERROR"},
           "message": "comment is invalid", "code": 400}


class Proxy:
    """Passes every request to ``upstream``; paths containing ``pattern`` get ``mode`` instead."""

    def __init__(self, upstream: str) -> None:
        self.upstream = httpx.Client(base_url=upstream, timeout=120)
        self.pattern = "/add-comment"
        self.mode = "pass"
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:
                pass

            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if proxy.pattern in self.path and proxy.mode == "refuse":
                    self._answer(400, json.dumps(REFUSAL).encode())
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                answer = proxy.upstream.request(self.command, self.path, headers=headers, content=body)
                content = answer.content
                if proxy.pattern in self.path and proxy.mode == "unreadable" and answer.is_success:
                    content = UNREADABLE
                self._answer(answer.status_code, content)

            def _answer(self, status: int, content: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.upstream.close()


@pytest.fixture
def proxy(setup: Setup) -> Iterator[Proxy]:
    value = Proxy(setup.url)
    yield value
    value.close()


def run_through(setup: Setup, proxy: Proxy, flow: str = "deals-to-leeloo", platform: str = "leeloo") -> FlowReport:
    """``flow`` with ``platform`` behind the proxy (the others straight to the sandbox)."""
    head, section, tail = setup.config_text().partition(f"[{platform}]\n")
    own, rest, after = tail.partition("\n[")
    own = own.replace(f'base_url = "{setup.url}"', f'base_url = "{proxy.url}"')
    text = head + section + own + rest + after
    assert text.count(proxy.url) == 1, "the proxy must stand in for one platform only"
    path = setup.folder / "leadbridge.toml"
    path.write_text(text, encoding="utf-8")
    return run_flows(load_config(path), [flow], console=Console(file=io.StringIO()))[0]


def comments(setup: Setup) -> int:
    return len(setup.requests("/add-comment", method="PUT"))


def test_an_unreadable_success_is_recorded_done_and_never_made_again(setup: Setup, proxy: Proxy) -> None:
    proxy.mode = "unreadable"
    report = run_through(setup, proxy)
    made = comments(setup)

    assert made > 0
    assert report.counts["comments added"] == made and report.counts["failed"] == 0
    assert report.counts["answers not readable (recorded as done)"] == made
    assert not failed([report]), "an unreadable success is not a failure"
    with Ledger(f"sqlite:///{setup.folder / 'ledger.sqlite3'}") as ledger:
        units = list(ledger.units("deals-to-leeloo", "deal", ["done"]))
        details = [ledger.effects(u.id)["comment"].detail for u in units if "comment" in ledger.effects(u.id)]
    assert len(details) == made
    assert all(d["status"] == 200 and '"saved"' in d["raw"] and "comment_id" not in d for d in details)

    proxy.mode = "pass"
    run_through(setup, proxy)
    assert comments(setup) == made, "a comment whose answer could not be read was made again"


def test_a_refused_step_fails_and_is_made_by_the_next_run(setup: Setup, proxy: Proxy) -> None:
    proxy.mode = "refuse"
    report = run_through(setup, proxy)

    assert comments(setup) == 0
    assert report.counts["failed"] > 0 and report.counts["comments added"] == 0
    assert failed([report]), "a refused step must make the run fail (exit 1)"
    assert any("comment is invalid" in text for _, text in report.messages)
    refused = report.counts["failed"]

    proxy.mode = "pass"
    again = run_through(setup, proxy)

    assert again.counts["comments added"] == refused and comments(setup) == refused
    assert again.counts["calls added"] == 0, "the calls made before the refusal were made again"
    assert not failed([again])


def test_a_campaign_created_with_an_unreadable_answer_is_uncertain_and_never_queued_again(
        setup: Setup, proxy: Proxy) -> None:
    proxy.pattern, proxy.mode = "/api/campaigns", "unreadable"
    report = run_through(setup, proxy, "call-leads", "dialog")
    created = setup.requests("/api/campaigns")

    assert created and report.counts["campaigns uncertain"] == len(created)
    assert report.counts["campaigns created"] == 0 and report.counts["campaigns refused"] == 0
    phones = [entry["phone"] for request in created for entry in request["body"]["phones"]]
    assert report.counts["uncertain"] == len(phones)
    with Ledger(f"sqlite:///{setup.folder / 'ledger.sqlite3'}") as ledger:
        batches = list(ledger.units("call-leads", "campaign", ["uncertain"]))
        assert len(batches) == len(created)
        assert all('"saved"' in ledger.effects(b.id)["create"].detail["raw"] for b in batches), \
            "the raw answer must be kept for a person to find the campaign"

    proxy.mode = "pass"
    again = run_through(setup, proxy, "call-leads", "dialog")
    assert len(setup.requests("/api/campaigns")) == len(created), "a phone whose campaign exists was queued again"
    assert again.counts["campaigns created"] == 0

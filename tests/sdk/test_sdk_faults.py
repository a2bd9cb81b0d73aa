"""The SDK under the sandbox's injected faults: 5xx, 429 with Retry-After, added latency.

A paged walk over 10,000 people must still yield each person exactly once, and a POST
must never reach the server twice (checked in the sandbox's request log): only the 429s,
which the server answers before reading the request, are sent again.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sdk_support import MODES, close, collect, control_fixture, leeloo_client, logged, resolve

from leadbridge import errors
from leadbridge.sandbox.server import RunningSandbox, serve_in_thread
from leadbridge.sandbox.state import MEMORY_URL, Sandbox
from leadbridge.sdk import RetryPolicy

PEOPLE = 10_000
PATIENT = RetryPolicy(max_retries=10, backoff=0.02, max_backoff=0.2)


@pytest.fixture(scope="module")
def big() -> Iterator[RunningSandbox]:
    with serve_in_thread(Sandbox(MEMORY_URL, seed=3, people=PEOPLE)) as running:
        yield running


control = control_fixture("big")


@pytest.mark.parametrize("mode", MODES)
async def test_people_iter_survives_errors_rate_limits_and_latency(
        big: RunningSandbox, control: httpx.Client, mode: str) -> None:
    client = leeloo_client(mode, big.credentials.leeloo_token, big.url, retry=PATIENT)
    try:
        total = (await resolve(client.people.list(limit=1))).total
        assert total >= PEOPLE  # the demo people plus the documents' example people
        expected = [p.id for p in await collect(client.people.iter(page_size=1000, concurrency=4))]
        assert len(expected) == len(set(expected)) == total
        control.delete("/requests").raise_for_status()
        control.post("/faults", json={"pattern": "^/api/v2/people$", "error_rate": 0.2, "error_status": 503,
                                      "rate_limit_rate": 0.15, "retry_after": 1, "latency_ms": 30}).raise_for_status()
        people = await collect(client.people.iter(page_size=100, concurrency=6))
    finally:
        await close(client)
    assert [p.id for p in people] == expected  # each exactly once, in order
    entries = logged(control, path="/api/v2/people")
    faults = [entry["fault"] for entry in entries]
    assert faults.count("error") > 0 and faults.count("rate_limit") > 0
    served = [entry for entry in entries if entry["fault"] is None]
    assert len(served) == -(-total // 100)  # every page reached the handler exactly once
    assert sorted(entry["query"] for entry in served) == sorted({entry["query"] for entry in served})
    assert all("limit=100&" in entry["query"] for entry in entries)


@pytest.mark.parametrize("mode", MODES)
async def test_posts_are_never_duplicated_under_faults(
        big: RunningSandbox, control: httpx.Client, mode: str) -> None:
    client = leeloo_client(mode, big.credentials.leeloo_token, big.url, retry=PATIENT)
    control.post("/faults", json={"pattern": "send-message", "error_rate": 0.2, "error_status": 502,
                                  "rate_limit_rate": 0.15, "retry_after": 1, "latency_ms": 10}).raise_for_status()
    sent: list[str] = []
    failed: list[str] = []
    try:
        account = (await resolve(client.channels.list(limit=1)))[0].id
        for index in range(60):
            text = f"fault-{mode}-{index}"
            try:
                await resolve(client.messages.send(account, text))
                sent.append(text)
            except (errors.ServerError, errors.RateLimitError):
                failed.append(text)
    finally:
        await close(client)
    entries = logged(control, method="POST", path="send-message")
    reached = [entry["body"]["text"] for entry in entries if entry["fault"] is None]
    assert sorted(reached) == sorted(sent)  # the handler saw each successful call once, and nothing else
    assert failed and sent  # both outcomes happened, so the check above means something
    faults = [entry["fault"] for entry in entries]
    # A call is sent again after each 429 (refused before the API read it), never after a 502:
    # one request per call, one more per 429, and each 502 ended its call as a failure.
    assert faults.count("rate_limit") > 0
    assert len(entries) == 60 + faults.count("rate_limit")
    assert faults.count("error") == len(failed)

"""A walk's read-ahead against the sandbox over HTTP: the pages after the one being read are
already asked for, and still every record comes once, in order; an error comes where its page
does; a walk left early sends nothing more; and the read-ahead keeps to the client's rate limit.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from sdk_support import MODES, close, collect, control_fixture, leeloo_client, logged, resolve

from leadbridge import errors
from leadbridge.sandbox.server import RunningSandbox, serve_in_thread
from leadbridge.sandbox.state import MEMORY_URL, Sandbox
from leadbridge.sdk import RateLimit

PEOPLE = 600
PEOPLE_PATH = "^/api/v2/people$"


@pytest.fixture(scope="module")
def served() -> Iterator[RunningSandbox]:
    with serve_in_thread(Sandbox(MEMORY_URL, seed=5, people=PEOPLE)) as running:
        yield running


control = control_fixture("served")


def people_requests(control: httpx.Client) -> list[dict[str, Any]]:
    return [entry for entry in logged(control, path="/api/v2/people") if entry["path"] == "/api/v2/people"]


def offsets_asked(control: httpx.Client) -> set[int]:
    return {int(httpx.QueryParams(entry["query"])["offset"]) for entry in people_requests(control)}


def wait_until(condition: Callable[[], bool], seconds: float = 10) -> bool:
    """Whether ``condition`` came true within ``seconds`` (polled; a bound, not a measure of speed)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


async def every_id(served: RunningSandbox, mode: str) -> list[str]:
    """Every person's id, in the list's order, read page by page with ``list()``."""
    client = leeloo_client(mode, served.credentials.leeloo_token, served.url)
    try:
        ids: list[str] = []
        while True:
            page = await resolve(client.people.list(limit=100, offset=len(ids)))
            ids += [person.id for person in page]
            if not page.has_more:
                return ids
    finally:
        await close(client)


class Walk:
    """A walk of the people list taken a record at a time, sync or async alike."""

    def __init__(self, client: Any, **options: Any) -> None:
        self.records = client.people.iter(**options)

    async def next(self) -> Any:
        if isinstance(self.records, AsyncIterator):
            return await anext(self.records)
        return next(self.records)

    async def close(self) -> None:
        if isinstance(self.records, AsyncIterator):
            await self.records.aclose()  # type: ignore[attr-defined]
        else:
            self.records.close()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("concurrency", [1, 3])
async def test_a_walk_yields_every_record_once_in_order(
        served: RunningSandbox, control: httpx.Client, mode: str, concurrency: int) -> None:
    expected = await every_id(served, mode)
    control.post("/faults", json={"pattern": PEOPLE_PATH, "latency_ms": 5}).raise_for_status()
    control.delete("/requests").raise_for_status()
    client = leeloo_client(mode, served.credentials.leeloo_token, served.url)
    try:
        people = await collect(client.people.iter(page_size=40, concurrency=concurrency))
    finally:
        await close(client)
    assert [person.id for person in people] == expected
    asked = sorted(int(httpx.QueryParams(entry["query"])["offset"]) for entry in people_requests(control))
    assert asked == list(range(0, len(expected), 40))  # each page once, none past the end


@pytest.mark.parametrize("mode", MODES)
async def test_a_sequential_walk_asks_for_the_next_page_while_the_caller_reads(
        served: RunningSandbox, control: httpx.Client, mode: str) -> None:
    client = leeloo_client(mode, served.credentials.leeloo_token, served.url)
    walk = Walk(client, page_size=50)
    try:
        first = await walk.next()
        # The caller holds the first record and asks for no more; the walk asks for the pages
        # after the first meanwhile, one request at a time (concurrency 1), four pages at most.
        assert await asyncio.to_thread(wait_until, lambda: offsets_asked(control) == {0, 50, 100, 150, 200})
        rest = [(await walk.next()).id for _ in range(99)]
        assert first.id not in rest and len(set(rest)) == 99
        # Reading the second page made room for one more.
        assert await asyncio.to_thread(wait_until, lambda: offsets_asked(control) == {0, 50, 100, 150, 200, 250})
    finally:
        await walk.close()
        await close(client)


@pytest.mark.parametrize("mode", MODES)
async def test_an_error_mid_walk_comes_after_every_record_before_its_page(
        served: RunningSandbox, control: httpx.Client, mode: str) -> None:
    expected = await every_id(served, mode)
    client = leeloo_client(mode, served.credentials.leeloo_token, served.url, max_retries=0)
    walk = Walk(client, page_size=10, concurrency=2)
    seen: list[str] = []
    try:
        for _ in range(15):
            seen.append((await walk.next()).id)
        # From now on every page fails; the read-ahead has fetched 2 x 4 pages at most.
        control.post("/faults", json={"pattern": PEOPLE_PATH, "error_rate": 1, "error_status": 500}).raise_for_status()
        with pytest.raises(errors.ServerError):
            while True:
                seen.append((await walk.next()).id)
    finally:
        await walk.close()
        await close(client)
    assert seen == expected[:len(seen)]  # in order, each once, up to the failed page
    assert len(seen) % 10 == 0 and 20 <= len(seen) < len(expected)  # the error is where its page begins


@pytest.mark.parametrize("mode", MODES)
async def test_a_walk_left_early_sends_nothing_more(
        served: RunningSandbox, control: httpx.Client, mode: str) -> None:
    control.post("/faults", json={"pattern": PEOPLE_PATH, "latency_ms": 200}).raise_for_status()
    client = leeloo_client(mode, served.credentials.leeloo_token, served.url)
    walk = Walk(client, page_size=20, concurrency=4)
    try:
        for _ in range(25):  # into the second page, the next ones under way
            await walk.next()
        await walk.close()
        if mode == "async":
            # Its requests are cancelled and done with: no task of the walk is left.
            assert asyncio.all_tasks() == {asyncio.current_task()}
        else:
            # Its requests under way have been answered, the queued ones dropped, its threads gone.
            assert not [thread for thread in threading.enumerate() if thread.name.startswith("leadbridge-page")]
        # A request sent before the close is logged once answered, after the latency; one sent
        # after it would be logged later still.
        await asyncio.sleep(0.5)
        asked = offsets_asked(control)
        await asyncio.sleep(0.5)
        assert offsets_asked(control) == asked
        assert len(asked) <= 2 + 4 * 4  # the pages read, and the read-ahead at most
    finally:
        await close(client)


@pytest.mark.parametrize("mode", MODES)
async def test_the_read_ahead_keeps_to_the_clients_rate_limit(
        served: RunningSandbox, control: httpx.Client, mode: str) -> None:
    # The sandbox refuses a token's 11th request within a second; the client allows itself 5 a
    # second, read-ahead included, so no request is refused. The sandbox counts a request when
    # it arrives, so the client keeps well under its limit: on a loaded machine requests sent
    # at an even pace can arrive bunched. Without the client's limit the walk sends its pages
    # hundreds a second.
    control.post("/realistic", json={"enabled": True, "limit": 10, "window_seconds": 1}).raise_for_status()
    client = leeloo_client(mode, served.credentials.leeloo_token, served.url, rate_limit=RateLimit(5, per=1.0))
    try:
        people = await collect(client.people.iter(page_size=25, concurrency=4))
    finally:
        await close(client)
    entries = people_requests(control)
    assert len({person.id for person in people}) == len(people) >= PEOPLE
    assert [entry["fault"] for entry in entries].count("realistic_rate_limit") == 0
    assert len(entries) == -(-len(people) // 25)  # one request a page: none refused and sent again

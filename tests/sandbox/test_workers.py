"""Several processes serving one database (``leadbridge sandbox --workers N``).

Two sandboxes built with ``shared=True`` on one database stand for two workers: each has its
own state in memory, as a process would, and its own port, so a test can say which one it
asks. A write made through one is read through the other, and the clock and the faults are
the same on both. The last test starts the command with ``--workers 2`` on PostgreSQL.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from http_clients import TIMEOUT
from leadbridge.sandbox.cache import Caches
from leadbridge.sandbox.seed import TENANTS
from leadbridge.sandbox.server import free_port, serve_in_thread
from leadbridge.sandbox.state import MEMORY_URL, Sandbox
from pg_support import private_pg_schema

TOKEN = TENANTS[0].leeloo_token
COMMAND = str(Path(sys.executable).with_name("leadbridge"))  # the installed command, as users run it


@pytest.fixture(params=["sqlite", "postgresql"])
def two_workers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The base URLs of two sandboxes sharing one database."""
    if request.param == "postgresql":
        with private_pg_schema() as url:
            yield from _serve_two(url)
    else:
        yield from _serve_two(f"sqlite:///{tmp_path / 'shared.sqlite3'}")


def _serve_two(db_url: str) -> Iterator[tuple[str, str]]:
    with serve_in_thread(Sandbox(db_url, seed=7, people=50, shared=True)) as first, \
            serve_in_thread(Sandbox(db_url, seed=7, people=50, shared=True)) as second:
        yield first.url, second.url


def client(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"X-Leeloo-AuthToken": TOKEN}, timeout=TIMEOUT)


def test_a_write_through_one_worker_is_read_through_the_other(two_workers: tuple[str, str]) -> None:
    with client(two_workers[0]) as first, client(two_workers[1]) as second:
        # The second worker's caches are warm: a page rendered, a filtered count counted.
        page = second.get("/api/v2/people", params={"limit": 5}).json()
        found = {"filter[email]": "moved@example.com"}
        assert second.get("/api/v2/people", params=found).json()["meta"]["totalCount"] == 0
        person = page["data"][0]["id"]
        assert first.put(f"/api/v2/people/{person}", json={"email": "moved@example.com"}).status_code == 200
        assert second.get(f"/api/v2/people/{person}").json()["data"]["email"] == "moved@example.com"
        again = second.get("/api/v2/people", params={"limit": 5}).json()
        assert again["data"][0]["email"] == "moved@example.com"  # not the page it rendered before
        filtered = second.get("/api/v2/people", params=found).json()
        assert [p["id"] for p in filtered["data"]] == [person] and filtered["meta"]["totalCount"] == 1


def test_writes_through_both_workers_at_once_all_land(two_workers: tuple[str, str]) -> None:
    """Each worker's write reads before it writes: two at once must wait for each other, not fail."""
    from concurrent.futures import ThreadPoolExecutor

    with client(two_workers[0]) as first, client(two_workers[1]) as second:
        person = first.get("/api/v2/people", params={"limit": 1}).json()["data"][0]["id"]
        before = len(first.get(f"/api/v2/people/{person}").json()["data"]["links"]["orders"])
        order = {"personId": person, "offerId": "5e3c357bf04b1f000c27b83a",
                 "paymentCreditsId": "5e3c3533f04b1f000c27b534"}

        def orders(worker: httpx.Client) -> list[int]:
            return [worker.post("/api/v2/orders", json=order).status_code for _ in range(15)]

        with ThreadPoolExecutor(2) as pool:
            answers = [status for statuses in pool.map(orders, (first, second)) for status in statuses]
        assert answers == [200] * 30
        assert len(second.get(f"/api/v2/people/{person}").json()["data"]["links"]["orders"]) == before + 30


def test_the_clock_and_the_faults_are_the_same_on_every_worker(two_workers: tuple[str, str]) -> None:
    with client(two_workers[0]) as first, client(two_workers[1]) as second:
        moved = first.post("/_sandbox/clock/advance", json={"seconds": 7200}).json()
        assert second.get("/_sandbox/clock").json()["offset_seconds"] == moved["offset_seconds"] == 7200
        second.post("/_sandbox/clock/advance", json={"seconds": 60}).raise_for_status()
        assert first.get("/_sandbox/clock").json()["offset_seconds"] == 7260  # added to the shared offset

        added = first.post("/_sandbox/faults", json={"pattern": "^/api/v2/tags$", "error_rate": 1.0,
                                                     "error_status": 502})
        assert added.status_code == 200
        assert second.get("/_sandbox/faults").json()["faults"] == added.json()["faults"]
        assert second.get("/api/v2/tags").status_code == 502
        assert second.delete("/_sandbox/faults").status_code == 200
        assert first.get("/api/v2/tags").status_code == 200


def test_realistic_mode_is_refused_when_workers_share_the_database(two_workers: tuple[str, str]) -> None:
    with client(two_workers[0]) as first:
        refused = first.post("/_sandbox/realistic", json={"enabled": True})
        assert refused.status_code == 409
        assert "one process" in refused.text
        assert first.get("/_sandbox/realistic").json()["enabled"] is False


def test_between_requests_a_worker_keeps_only_what_no_request_can_change() -> None:
    caches = Caches()
    company = caches.of(TENANTS[0].company_id)
    company.put("api-user", "owner", rows_of=("leeloo_user",))
    company.put("people-count", 50, rows_of=("leeloo_person",))
    company.put("users-and-people", 51, rows_of=("leeloo_user", "leeloo_person"))
    company.put_page("page", b"{}")
    caches.tokens["leeloo:" + TOKEN] = TENANTS[0].company_id
    caches.drop_derived()
    company = caches.of(TENANTS[0].company_id)
    assert company.get("api-user") == "owner"  # only seeding writes users
    assert company.get("people-count") is None and company.get("users-and-people") is None
    assert company.page("page") is None
    assert caches.tokens == {"leeloo:" + TOKEN: TENANTS[0].company_id}


def test_an_in_memory_database_cannot_be_shared() -> None:
    with pytest.raises(ValueError, match="one process"):
        Sandbox(MEMORY_URL, shared=True)


def test_the_command_refuses_workers_on_an_in_memory_database() -> None:
    done = subprocess.run([COMMAND, "sandbox", "--db", "sqlite://", "--workers", "2",
                           "--port", str(free_port())], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0
    assert "--workers" in done.stderr and "in-memory" in done.stderr


def test_the_command_serves_with_two_workers_on_postgresql() -> None:
    port = free_port()
    with private_pg_schema() as url:
        process = subprocess.Popen(
            [COMMAND, "sandbox", "--db", url.replace("+psycopg", ""), "--people", "20",
             "--workers", "2", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 240  # two interpreters import the application: slow on a busy machine
            while True:
                try:
                    httpx.get(base + "/_sandbox/clock", timeout=TIMEOUT).raise_for_status()
                    break
                except httpx.TransportError:
                    assert process.poll() is None and time.monotonic() < deadline, "the sandbox did not start"
                    time.sleep(0.5)
            httpx.post(base + "/_sandbox/clock/advance", json={"seconds": 3600}, timeout=TIMEOUT).raise_for_status()
            # A new connection each time: the kernel hands them to either worker.
            offsets = {httpx.get(base + "/_sandbox/clock", timeout=TIMEOUT).json()["offset_seconds"]
                       for _ in range(20)}
            assert offsets == {3600}
        finally:
            process.terminate()
            _, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr.decode(errors="replace")

"""A sync client used from many threads: its lanes of connections, env proxies, and a closed client.

Against a fresh sandbox over HTTP on 127.0.0.1; the connections are counted in the kernel's
table of this process's sockets (``/proc/net/tcp``), not asked of the client.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from leadbridge import Leeloo, errors
from leadbridge.sandbox.server import RunningSandbox

TOKEN = "demo-leeloo-token"
THREADS = 16
ESTABLISHED = "01"


def open_connections_to(port: int) -> int:
    """This machine's established IPv4 connections whose far end is 127.0.0.1:``port`` (the client's ends).

    Counted by their own ends: the kernel writes the table out in pieces, so a connection
    opened while it is read can be listed twice."""
    ends = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state = fields[1], fields[2], fields[3]
        if state == ESTABLISHED and remote == f"0100007F:{port:04X}":
            ends.add(local)
    return len(ends)


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux's /proc/net/tcp")
@pytest.mark.parametrize("max_connections", [3, 12])
def test_threads_spread_over_several_connections_never_more_than_max_connections(
        fresh: RunningSandbox, max_connections: int) -> None:
    port = int(fresh.url.rsplit(":", 1)[1])
    # Counted while the calls run, the most at once: a count taken at the end would miss a
    # connection the server has closed since, left idle.
    seen: list[int] = []
    done = threading.Event()

    def count_connections() -> None:
        while not done.is_set():
            seen.append(open_connections_to(port))
            done.wait(0.002)

    # No retries: a connection closed under a request (httpcore#1110, see Lanes) fails the test.
    with Leeloo(token=TOKEN, base_url=fresh.url, rate_limit=None, max_connections=max_connections,
                max_retries=0) as client:
        def calls(_: int) -> int:
            return sum(len(client.tags.list()) >= 0 for _ in range(5))

        counter = threading.Thread(target=count_connections)
        counter.start()
        try:
            with ThreadPoolExecutor(max_workers=THREADS) as pool:
                assert sum(pool.map(calls, range(THREADS))) == 5 * THREADS
        finally:
            done.set()
            counter.join()
        seen.append(open_connections_to(port))
    assert 2 <= max(seen) <= max_connections
    assert open_connections_to(port) == 0  # closing the client closed every lane


def test_a_proxy_set_in_the_environment_is_used(fresh: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with Leeloo(token=TOKEN, base_url=fresh.url, rate_limit=None, max_retries=0) as client:
        assert client.tags.list() is not None
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there: the proxy refuses
    with Leeloo(token=TOKEN, base_url=fresh.url, rate_limit=None, max_retries=0) as client, \
            pytest.raises(errors.APIConnectionError):
        client.tags.list()


def test_a_closed_client_sends_nothing(fresh: RunningSandbox) -> None:
    client = Leeloo(token=TOKEN, base_url=fresh.url, rate_limit=None)
    client.tags.list()
    client.close()
    with pytest.raises(RuntimeError, match="closed"):
        client.tags.list()

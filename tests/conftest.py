"""Shared fixtures: a live sandbox over real HTTP on 127.0.0.1, on SQLite and PostgreSQL.

``live`` is one sandbox per database backend for the whole session (read-mostly tests
must not assume counts others may change); ``fresh`` is a new small sandbox per test.
Under CI (``CI=true``) a missing PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from http_clients import TIMEOUT
from leadbridge.sandbox.server import RunningSandbox, serve_in_thread
from leadbridge.sandbox.state import MEMORY_URL, Sandbox
from pg_support import private_pg_schema

LIVE_PEOPLE = 300


@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL on a private schema of database ``test``, dropped afterwards."""
    with private_pg_schema() as url:
        yield url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def live(request: pytest.FixtureRequest) -> Iterator[RunningSandbox]:
    """The shared sandbox of this backend (seed 1, LIVE_PEOPLE people)."""
    url = request.getfixturevalue("pg_schema_url") if request.param == "postgresql" else MEMORY_URL
    with serve_in_thread(Sandbox(url, seed=1, people=LIVE_PEOPLE)) as running:
        yield running


@pytest.fixture
def fresh() -> Iterator[RunningSandbox]:
    """A new in-memory sandbox for a test that needs exact counts or a clean clock."""
    with serve_in_thread(Sandbox(MEMORY_URL, seed=7, people=50)) as running:
        yield running


@pytest.fixture
def leeloo(live: RunningSandbox) -> Iterator[httpx.Client]:
    """A raw HTTP client of the demo tenant's Leeloo API."""
    with httpx.Client(base_url=live.url, headers={"X-Leeloo-AuthToken": live.credentials.leeloo_token},
                      timeout=TIMEOUT) as client:
        yield client


@pytest.fixture
def other_leeloo(live: RunningSandbox) -> Iterator[httpx.Client]:
    """The second tenant's Leeloo client, for isolation tests."""
    with httpx.Client(base_url=live.url, headers={"X-Leeloo-AuthToken": live.other_tenant.leeloo_token},
                      timeout=TIMEOUT) as client:
        yield client


@pytest.fixture
def anon(live: RunningSandbox) -> Iterator[httpx.Client]:
    """A client with no credentials."""
    with httpx.Client(base_url=live.url, timeout=TIMEOUT) as client:
        yield client


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def clocked(request: pytest.FixtureRequest) -> Iterator[RunningSandbox]:
    """A sandbox of each backend for one test module, whose clock the module may move
    (``live``'s clock is shared by every module and stays put)."""
    if request.param == "postgresql":
        with private_pg_schema() as url, serve_in_thread(Sandbox(url, seed=7, people=50)) as running:
            yield running
    else:
        with serve_in_thread(Sandbox(MEMORY_URL, seed=7, people=50)) as running:
            yield running


def bearer_client(base_url: str, login_path: str, credentials: dict[str, str]) -> httpx.Client:
    """An HTTP client carrying the Bearer token that ``login_path`` issues for ``credentials``."""
    response = httpx.post(base_url + login_path, json=credentials, timeout=TIMEOUT)
    response.raise_for_status()
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {response.json()['token']}"},
                        timeout=TIMEOUT)


@pytest.fixture
def neiros(live: RunningSandbox) -> Iterator[httpx.Client]:
    """The demo tenant's Neiros client, logged in."""
    creds = live.credentials
    with bearer_client(live.url, "/api/userapi/v1/auth/login",
                       {"email": creds.neiros_email, "password": creds.neiros_password}) as client:
        yield client


@pytest.fixture
def other_neiros(live: RunningSandbox) -> Iterator[httpx.Client]:
    """The second tenant's Neiros client, for isolation tests."""
    creds = live.other_tenant
    with bearer_client(live.url, "/api/userapi/v1/auth/login",
                       {"email": creds.neiros_email, "password": creds.neiros_password}) as client:
        yield client


@pytest.fixture
def dialog(live: RunningSandbox) -> Iterator[httpx.Client]:
    """The demo tenant's Dialog client, logged in."""
    creds = live.credentials
    with bearer_client(live.url, "/api/login",
                       {"login": creds.dialog_login, "password": creds.dialog_password}) as client:
        yield client


@pytest.fixture
def other_dialog(live: RunningSandbox) -> Iterator[httpx.Client]:
    """The second tenant's Dialog client, for isolation tests."""
    creds = live.other_tenant
    with bearer_client(live.url, "/api/login",
                       {"login": creds.dialog_login, "password": creds.dialog_password}) as client:
        yield client

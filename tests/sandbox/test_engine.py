"""How the sandbox talks to PostgreSQL: commits that do not wait on the disk unless the URL asks,
and pooled connections checked only after being idle, so a dropped one is still replaced."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from leadbridge.sandbox.state import PING_AFTER_IDLE_SECONDS, Sandbox
from pg_support import private_pg_schema


@pytest.fixture
def pg_url() -> Iterator[str]:
    with private_pg_schema() as url:
        yield url


def synchronous_commit(sandbox: Sandbox) -> tuple[str, str]:
    """The setting as the kept-open connection and a session's connection see it."""
    kept = sandbox.query("SHOW synchronous_commit", {})[0][0]
    with sandbox.read() as session:
        pooled = session.scalar(text("SHOW synchronous_commit"))
    return kept, str(pooled)


def test_commits_do_not_wait_for_the_disk(pg_url: str) -> None:
    sandbox = Sandbox(pg_url)
    try:
        assert synchronous_commit(sandbox) == ("off", "off")
    finally:
        sandbox.close()


def test_a_url_naming_synchronous_commit_keeps_its_choice(pg_url: str) -> None:
    sandbox = Sandbox(pg_url + "%20-csynchronous_commit%3Don")
    try:
        assert synchronous_commit(sandbox) == ("on", "on")
    finally:
        sandbox.close()


def test_a_connection_dropped_while_idle_is_replaced_before_use(pg_url: str) -> None:
    sandbox = Sandbox(pg_url)
    admin = create_engine(pg_url)
    try:
        with sandbox.read() as session:
            dropped = session.scalar(text("SELECT pg_backend_pid()"))
        with admin.connect() as conn:
            assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped}) is True
        time.sleep(PING_AFTER_IDLE_SECONDS + 0.2)  # idle long enough to be checked
        with sandbox.read() as session:
            assert session.scalar(text("SELECT pg_backend_pid()")) != dropped
    finally:
        sandbox.close()
        admin.dispose()

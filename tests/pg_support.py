"""The PostgreSQL server the tests use: a private schema of database ``test`` per caller.

Locally an unreachable server skips the test; under CI (``CI=true``) it fails it, since CI
provides PostgreSQL on 127.0.0.1:5432.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

PG_ADMIN_URL = os.environ.get("LEADBRIDGE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def postgres_available() -> bool:
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@contextmanager
def private_pg_schema(prefix: str = "lb") -> Iterator[str]:
    """A PostgreSQL URL on a new empty schema of its own, dropped afterwards."""
    import sqlalchemy

    if not postgres_available():
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI but unreachable at {PG_ADMIN_URL}")
        pytest.skip("PostgreSQL not reachable")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = sqlalchemy.create_engine(PG_ADMIN_URL)
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{name}"'))
    try:
        yield f"{PG_ADMIN_URL}?options=-csearch_path%3D{name}"
    finally:
        with engine.begin() as conn:
            # A connection left in a transaction on this schema (a request cut off mid-way, its
            # process still up) would hold its locks, and DROP SCHEMA would wait for it forever:
            # the test is over, so such connections are ended first, and the drop waits a bounded time.
            conn.execute(sqlalchemy.text(
                "SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :name AND l.pid <> pg_backend_pid()"
            ), {"name": name})
            conn.execute(sqlalchemy.text("SET LOCAL lock_timeout = '60s'"))
            conn.execute(sqlalchemy.text(f'DROP SCHEMA "{name}" CASCADE'))
        engine.dispose()

"""The same export into PostgreSQL: a private dataset on the test database, dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from export_support import ExportSetup, query
from test_export import assert_matches_api

from leadbridge.export.pipeline import make_pipeline, run_export
from pg_support import PG_ADMIN_URL, postgres_available

PG_URL = PG_ADMIN_URL

pytestmark = pytest.mark.postgres


@pytest.fixture
def dataset() -> Iterator[str]:
    """A dataset (schema) of its own; dlt's staging schema for merges goes with it."""
    import sqlalchemy

    if not postgres_available():
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI but unreachable at {PG_URL}")
        pytest.skip("PostgreSQL not reachable")
    name = f"lb_export_{uuid.uuid4().hex[:10]}"
    yield name
    engine = sqlalchemy.create_engine(PG_URL)
    with engine.begin() as conn:
        for schema in (name, f"{name}_staging"):
            conn.execute(sqlalchemy.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def test_export_into_postgresql_equals_the_api(setup: ExportSetup, dataset: str) -> None:
    setup.start_campaign(people=6)
    setup.advance(86_400)
    destination = PG_URL
    first = run_export(setup.config(destination, dataset))
    assert first.rows["people"] == len(setup.api_people())
    pipeline = make_pipeline(destination, dataset, str(setup.folder / "pipelines"))
    assert_matches_api(setup, pipeline)
    opened = next(o for o in setup.api_orders() if o.status == "OPENED")
    setup.leeloo.orders.update(opened.id, "RESOLVED")
    second = run_export(setup.config(destination, dataset))
    # Paying the order adds a system message to its person's chat: that person is loaded again.
    assert second.rows.get("orders") == 1 and second.rows.get("people") == 1
    assert query(pipeline, f"SELECT status FROM orders WHERE id = '{opened.id}'") == [("RESOLVED",)]

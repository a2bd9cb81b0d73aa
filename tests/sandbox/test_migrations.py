"""Alembic migrations build exactly the schema the code declares, and restarts keep data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text

from leadbridge.sandbox import schema, search
from leadbridge.sandbox.migrations import alembic_config
from leadbridge.sandbox.seed import seeding_interrupted
from leadbridge.sandbox.state import Sandbox
from pg_support import private_pg_schema


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL on a new empty schema of its own, dropped afterwards."""
    with private_pg_schema("lb_mig") as url:
        yield url


@pytest.fixture(params=["sqlite-file", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        url: str = request.getfixturevalue("pg_url")
        return url
    return f"sqlite:///{tmp_path / 'sandbox.sqlite3'}"


def declared(name: str | None, kind: str, parents: dict[str, str | None]) -> bool:
    """Whether a database object is one the metadata declares: the people search's index (an
    FTS5 table with its shadow tables, or a pg_trgm GIN index) is made by hand instead."""
    return name not in search.INDEX_OBJECTS


def schema_diff(sandbox: Sandbox) -> list[object]:
    with sandbox.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": declared})
        return list(compare_metadata(context, schema.Base.metadata))


def test_migration_creates_exactly_the_declared_schema(db_url: str) -> None:
    sandbox = Sandbox(db_url, people=20)
    sandbox.start()
    assert schema_diff(sandbox) == []
    head = ScriptDirectory.from_config(alembic_config(sandbox.engine)).get_current_head()
    with sandbox.engine.connect() as conn:
        assert conn.scalar(text("SELECT version_num FROM alembic_version")) == head
        tables = set(sandbox.engine.dialect.get_table_names(conn))
        indexes = {index["name"] for index in sandbox.engine.dialect.get_indexes(conn, "leeloo_person")}
    search_tables = search.INDEX_OBJECTS - {search.PG_INDEX} if sandbox.engine.dialect.name == "sqlite" else set()
    assert tables == {table.name for table in schema.Base.metadata.sorted_tables} | {"alembic_version"} | search_tables
    if sandbox.engine.dialect.name == "postgresql":
        assert search.PG_INDEX in indexes
    sandbox.engine.dispose()


def test_restart_keeps_data_and_clock(db_url: str) -> None:
    first = Sandbox(db_url, seed=3, people=20)
    first.start()
    first.advance_clock(3600)
    with first.write() as session:
        session.add(schema.Tag(id="0" * 23 + "1", company_id="5b9f63e3d244d2000e27692f", name="kept"))
    with first.read() as session:
        people = session.scalar(select(func.count()).select_from(schema.Person))
    first.engine.dispose()

    # Another seed and size: an existing database is migrated, never re-seeded.
    second = Sandbox(db_url, seed=4, people=5)
    second.start()
    with second.read() as session:
        assert session.scalar(select(func.count()).select_from(schema.Person)) == people
        assert session.get(schema.Tag, "0" * 23 + "1") is not None
    assert second.clock_offset.total_seconds() == 3600
    assert schema_diff(second) == []
    second.engine.dispose()


def test_reset_on_a_file_database_migrates_and_seeds_again(tmp_path: Path) -> None:
    sandbox = Sandbox(f"sqlite:///{tmp_path / 'reset.sqlite3'}", people=10)
    sandbox.start()
    with sandbox.write() as session:
        session.add(schema.Tag(id="0" * 23 + "2", company_id="5b9f63e3d244d2000e27692f", name="dropped"))
    sandbox.reset()
    with sandbox.read() as session:
        assert session.get(schema.Tag, "0" * 23 + "2") is None
        assert session.scalar(select(func.count()).select_from(schema.Company)) >= 2
    assert schema_diff(sandbox) == []
    sandbox.engine.dispose()


def test_an_interrupted_seeding_is_redone_from_the_start(db_url: str) -> None:
    """Ctrl-C during seeding (here: from the progress callback) leaves a database that the next
    start recognises and seeds again, ending with exactly what an uninterrupted seeding makes."""

    def interrupt(_tenant: str, _done: int, _total: int) -> None:
        raise KeyboardInterrupt

    first = Sandbox(db_url, seed=5, people=30)
    with pytest.raises(KeyboardInterrupt):
        first.start(progress=interrupt)
    with first.engine.connect() as conn:
        assert seeding_interrupted(conn)
    first.close()

    second = Sandbox(db_url, seed=5, people=30)
    second.start()
    with second.engine.connect() as conn:
        assert not seeding_interrupted(conn)
    with second.read() as session:
        seeded = {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                  for model in (schema.Company, schema.Person, schema.Account, schema.Message, schema.Deal)}
        ids = list(session.scalars(select(schema.Person.id).order_by(schema.Person.id)))
    second.close()

    reference = Sandbox(seed=5, people=30)
    reference.start()
    with reference.read() as session:
        assert seeded == {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                          for model in (schema.Company, schema.Person, schema.Account, schema.Message, schema.Deal)}
        assert ids == list(session.scalars(select(schema.Person.id).order_by(schema.Person.id)))
    reference.close()

"""Seeding: one seed gives one data set on every database (a large SQLite file written by the
loader process too), an in-memory sandbox seeded before in the process starts from a copy of its
own, the bulk-loading settings do not outlive it, and a seeding stopped part-way is done again."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from leadbridge.sandbox import schema, search
from leadbridge.sandbox.seed import LOADER_FROM, SEEDING_MARK, TENANTS
from leadbridge.sandbox.sqlite_loader import Loader, LoaderFailed
from leadbridge.sandbox.state import MEMORY_URL, Sandbox
from pg_support import private_pg_schema

# Rows whose order is not their primary key's (autoincrement ids) are compared by content.
UNORDERED = {schema.Subscription.__tablename__}


def every_row(sandbox: Sandbox) -> dict[str, list[tuple[Any, ...]]]:
    """Every seeded table's rows as text, in primary-key order (datetimes as the database renders
    them differ between SQLite and PostgreSQL, so each value is compared as Python reads it)."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with sandbox.read() as session:
        for table in schema.Base.metadata.sorted_tables:
            columns = [column for column in table.columns
                       if not (table.name in UNORDERED and column.primary_key)]
            found = [tuple(row) for row in session.execute(select(*columns).order_by(*table.primary_key.columns))]
            rows[table.name] = sorted(found, key=repr) if table.name in UNORDERED else found
    return rows


def assert_found_by_name(sandbox: Sandbox, order: str) -> None:
    """The console's people search finds the first person of ``order`` by name."""
    with sandbox.engine.connect() as conn:
        name = conn.exec_driver_sql(f"SELECT name FROM leeloo_person {order} LIMIT 1").scalar()
    with sandbox.read() as session:
        found = session.scalars(select(schema.Person.name).where(
            search.condition(session, TENANTS[0].company_id, str(name)))).all()
    assert name in found


@pytest.fixture
def pg_url() -> Iterator[str]:
    with private_pg_schema("lb_seed") as url:
        yield url


@pytest.mark.parametrize("database", ["sqlite-file", "postgresql"])
def test_one_seed_gives_the_same_rows_in_memory_in_a_file_and_in_postgresql(
        database: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("pg_url") if database == "postgresql" else f"sqlite:///{tmp_path / 'seed.sqlite3'}"
    stored = Sandbox(url, seed=12, people=60)
    stored.start()
    in_memory = Sandbox(MEMORY_URL, seed=12, people=60)
    in_memory.start()
    other_seed = Sandbox(MEMORY_URL, seed=13, people=60)
    other_seed.start()
    try:
        rows = every_row(stored)
        assert len(rows[schema.Person.__tablename__]) > 60
        assert rows == every_row(in_memory)
        assert rows[schema.Person.__tablename__] != every_row(other_seed)[schema.Person.__tablename__]
    finally:
        for sandbox in (stored, in_memory, other_seed):
            if sandbox is stored and database == "postgresql":
                sandbox._drop_all()
            sandbox.close()


def test_an_in_memory_sandbox_seeded_before_starts_from_a_copy_of_its_own() -> None:
    first = Sandbox(MEMORY_URL, seed=14, people=40)
    first.start()
    with first.write() as session:
        session.add(schema.Tag(id="0" * 23 + "3", company_id=TENANTS[0].company_id, name="first's own"))
    second = Sandbox(MEMORY_URL, seed=14, people=40)
    second.start()  # from the image kept when the first was seeded, not from the first's database
    try:
        with second.read() as session:
            assert session.get(schema.Tag, "0" * 23 + "3") is None
        first_rows, second_rows = every_row(first), every_row(second)
        first_rows[schema.Tag.__tablename__] = [row for row in first_rows[schema.Tag.__tablename__]
                                                if row[0] != "0" * 23 + "3"]
        assert first_rows == second_rows
        with second.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert_found_by_name(second, "ORDER BY id")  # the search index came along
    finally:
        first.close()
        second.close()


def test_an_in_memory_database_keeps_no_free_pages() -> None:
    # Free pages reused by later writes made each commit scan the whole page cache (see
    # make_engine): the in-memory database gives them back at once instead.
    sandbox = Sandbox(MEMORY_URL, seed=16, people=30)
    sandbox.start()
    try:
        with sandbox.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() == 1  # FULL
        with sandbox.write() as session:  # frees pages: the people's messages go, then the whole index
            session.execute(text("DELETE FROM leeloo_message"))
            session.execute(text(f"INSERT INTO {search.FTS_TABLE}({search.FTS_TABLE}) VALUES ('delete-all')"))
        with sandbox.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA freelist_count").scalar() == 0
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    finally:
        sandbox.close()


def test_a_seeded_file_database_is_back_in_wal_mode_with_foreign_keys_checked(tmp_path: Path) -> None:
    sandbox = Sandbox(f"sqlite:///{tmp_path / 'seed.sqlite3'}", seed=15, people=30)
    sandbox.start()
    try:
        with sandbox.engine.connect() as conn:  # the connection that seeded, back in the pool
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
            trigger = conn.execute(text("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                                        "AND name = :name"), {"name": f"{search.FTS_TABLE}_insert"}).scalar()
            assert trigger == 1
        with pytest.raises(IntegrityError, match="FOREIGN KEY"), sandbox.write() as session:
            session.add(schema.Tag(id="0" * 23 + "4", company_id="0" * 24, name="no such company"))
    finally:
        sandbox.close()


def test_a_file_seeded_by_the_loader_process_and_stopped_part_way_is_seeded_again_in_full(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'seed.sqlite3'}"

    def stop(tenant: str, drawn: int, wanted: int) -> None:
        raise KeyboardInterrupt  # as Ctrl-C would, while the loader process writes

    stopped = Sandbox(url, seed=16, people=LOADER_FROM)
    with pytest.raises(KeyboardInterrupt):
        stopped.start(progress=stop)
    stopped.close()
    with Sandbox(url, seed=16, people=LOADER_FROM).engine.connect() as conn:
        assert conn.execute(select(schema.SandboxState.key).where(schema.SandboxState.key == SEEDING_MARK)).first()
    seeded = Sandbox(url, seed=16, people=LOADER_FROM)
    seeded.start()
    in_memory = Sandbox(MEMORY_URL, seed=16, people=LOADER_FROM)
    in_memory.start()
    try:
        rows = every_row(seeded)
        assert len(rows[schema.Person.__tablename__]) > LOADER_FROM
        assert rows == every_row(in_memory)
        with seeded.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert_found_by_name(seeded, "ORDER BY id DESC")  # the search index covers the people the loader wrote
    finally:
        seeded.close()
        in_memory.close()


def test_the_loader_process_commits_what_it_is_told_to_and_a_failure_names_its_cause(tmp_path: Path) -> None:
    database = tmp_path / "loaded.sqlite3"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE note (text TEXT NOT NULL)")
    loader = Loader(str(database), 1024)
    loader.insert("INSERT INTO note (text) VALUES (?)", [("kept",), ("кириллица",)])
    loader.commit()
    loader.insert("INSERT INTO note (text) VALUES (?)", [("never committed",)])
    loader.insert("INSERT INTO nowhere (text) VALUES (?)", [("lost",)])
    with pytest.raises(LoaderFailed, match="no such table: nowhere"):
        loader.finish()
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT text FROM note ORDER BY rowid").fetchall() == [("kept",), ("кириллица",)]

"""The console's people search: a normalised search column and a trigram index over it.

Each person carries ``search_text``: the name, the email and the phone's digits, case-folded
(Python's ``str.casefold``, so Cyrillic folds as Latin does; SQLite's own ``lower`` and
``LIKE`` fold only ASCII) with ``ё`` read as ``е``. A search looks for the typed text,
normalised the same way, anywhere in that column.

A substring search cannot use a B-tree index, and reading every person costs about a
second at 100k people, so the column has a trigram index:

- SQLite: an FTS5 table with the ``trigram`` tokenizer (``leeloo_person_search``), kept in
  step with ``leeloo_person`` by triggers. It is made by migration 0004 (its triggers
  replaced by 0008) on a file database and right after the tables on an in-memory one (see
  sandbox/migrations).

  Indexing one person costs FTS5 a new segment and a share of merging it into the others: at
  100k people about two thirds of a person's creation, more as the index grows. So a new or
  changed person is not indexed at once: the triggers note its rowid in
  ``leeloo_person_search_pending``, and when :data:`CATCH_UP_AT` are noted, the insert of the
  last one indexes them all in one go (a trigger on that table) and empties it. A search
  looks through the noted people with ``LIKE`` besides asking the index, so it finds the
  same people either way.
- PostgreSQL: a GIN index with ``pg_trgm``'s ``gin_trgm_ops`` (``ix_person_search_trgm``),
  made by migration 0004 when the extension is installed or can be installed; without it the
  search still works, by reading every person.

Neither can be declared in SQLAlchemy's metadata, which knows neither virtual tables nor
operator classes of extensions; :data:`INDEX_OBJECTS` names them for schema comparisons.

A trigram index needs three characters: a shorter text is looked for among the newest
:data:`SHORT_WINDOW` people of the company only, which keeps such a search bounded.
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, Connection, select, text, true
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from leadbridge.sandbox import schema as s

FTS_TABLE = "leeloo_person_search"
PENDING_TABLE = "leeloo_person_search_pending"  # people not indexed yet, by rowid
PG_INDEX = "ix_person_search_trgm"
# The search index's own objects, which the metadata does not declare: the FTS5 table, its
# shadow tables, the people not indexed yet, and the GIN index.
INDEX_OBJECTS = frozenset({FTS_TABLE, *(f"{FTS_TABLE}_{shadow}" for shadow in ("data", "idx", "docsize", "config")),
                           PENDING_TABLE, PG_INDEX})
# The people noted as not indexed yet are indexed together when this many are: a search reads
# up to this many of them with LIKE, and one write in this many pays for indexing them.
CATCH_UP_AT = 1_000
TRIGRAM = 3
# A text shorter than a trigram is looked for among this many newest people of the company.
SHORT_WINDOW = 5_000
# Up to this many index matches are fetched and sorted; a text matching more people is found by
# reading the people newest first, which then meets a page of matches within a few hundred rows.
FEW_MATCHES = 2_000
_NOT_DIGIT = re.compile(r"\D")
# FTS5 writes its pending terms out as a new segment whenever they pass its ``hashsize``
# (1 MiB by default), and merges the segments as they pile up. Rebuilding the index of a
# million people with this much room instead writes a few large segments: about a third of
# the time. The default comes back after the rebuild, for the one-person writes.
REBUILD_HASH_BYTES = 32 << 20
DEFAULT_HASH_BYTES = 1 << 20

# SQLite: the index is an external-content FTS5 table over search_text (the text is stored
# once, in leeloo_person); the triggers keep it in step, through the pending table. Only a
# change of search_text touches it, so the hot updates of last_message_time cost nothing more.
# A person leaves the index (FTS5's 'delete', which must be given the text indexed) only if it
# is in it, that is, not pending.
_INDEXED = f"NOT EXISTS (SELECT 1 FROM {PENDING_TABLE} WHERE person_rowid = old.rowid)"
SQLITE_TRIGGERS = {
    "insert": f"AFTER INSERT ON leeloo_person BEGIN INSERT INTO {PENDING_TABLE}(person_rowid) VALUES (new.rowid); END",
    "delete": f"AFTER DELETE ON leeloo_person BEGIN "
              f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text) "
              f"SELECT 'delete', old.rowid, old.search_text WHERE {_INDEXED}; "
              f"DELETE FROM {PENDING_TABLE} WHERE person_rowid = old.rowid; END",
    "update": f"AFTER UPDATE OF search_text ON leeloo_person BEGIN "
              f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text) "
              f"SELECT 'delete', old.rowid, old.search_text WHERE {_INDEXED}; "
              f"INSERT OR IGNORE INTO {PENDING_TABLE}(person_rowid) VALUES (new.rowid); END",
    "catch_up": f"AFTER INSERT ON {PENDING_TABLE} WHEN (SELECT count(*) FROM {PENDING_TABLE}) >= {CATCH_UP_AT} BEGIN "
                f"INSERT INTO {FTS_TABLE}(rowid, search_text) SELECT person.rowid, person.search_text "
                f"FROM {PENDING_TABLE} JOIN leeloo_person AS person ON person.rowid = {PENDING_TABLE}.person_rowid; "
                f"DELETE FROM {PENDING_TABLE}; END",
}
SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(search_text, content='leeloo_person', "
    "content_rowid='rowid', tokenize='trigram')",
    f"CREATE TABLE IF NOT EXISTS {PENDING_TABLE} (person_rowid INTEGER PRIMARY KEY)",
    *(f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_{name} {body}" for name, body in SQLITE_TRIGGERS.items()),
)


def normalise(value: str) -> str:
    return value.casefold().replace("ё", "е")


def person_search_text(name: str | None, email: str | None, phone: str | None) -> str:
    """What a search looks through for one person: name, email and the phone's digits."""
    digits = _NOT_DIGIT.sub("", phone or "")
    return normalise(" ".join(part for part in (name, email, digits) if part))


def needle(typed: str) -> str:
    """The text to look for: a phone typed with spaces, dashes or brackets becomes its digits."""
    plain = typed.strip()
    digits = _NOT_DIGIT.sub("", plain)
    if digits and re.fullmatch(r"[\d\s()+\-.]+", plain):
        return digits
    return normalise(" ".join(plain.split()))


def _pattern(text_: str) -> str:
    """A ``LIKE`` pattern (escape character ``\\``) matching ``text_`` anywhere."""
    escaped = text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _like(text_: str) -> ColumnElement[bool]:
    return s.Person.search_text.like(_pattern(text_), escape="\\")


def _phrase(text_: str) -> str:
    """An FTS5 phrase: the text in double quotes (a quote inside doubled), matched as a substring."""
    return '"' + text_.replace('"', '""') + '"'


def condition(session: Session, company_id: str, typed: str) -> ColumnElement[bool]:
    """The ``WHERE`` condition on ``leeloo_person`` for a search box's text, in one company.

    The caller orders by id, newest first, and takes a page.
    """
    wanted = needle(typed)
    if not wanted:
        return true()
    if len(wanted) < TRIGRAM:
        boundary = session.scalar(select(s.Person.id).where(s.Person.company_id == company_id)
                                  .order_by(s.Person.id.desc()).offset(SHORT_WINDOW - 1).limit(1))
        return _like(wanted) if boundary is None else (_like(wanted) & (s.Person.id >= boundary))
    if session.get_bind().dialect.name != "sqlite":
        # PostgreSQL's planner weighs the trigram index against reading newest first by itself.
        return _like(wanted)
    if not session.scalar(text("SELECT 1 FROM sqlite_master WHERE name = :name"), {"name": FTS_TABLE}):
        return _like(wanted)
    phrase = _phrase(wanted)
    found = session.scalar(text(f"SELECT count(*) FROM (SELECT 1 FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :phrase "
                                "LIMIT :few)").bindparams(phrase=phrase, few=FEW_MATCHES)) or 0
    if found >= FEW_MATCHES:
        return _like(wanted)
    ids = session.scalars(text(
        f"SELECT leeloo_person.id FROM {FTS_TABLE} CROSS JOIN leeloo_person ON leeloo_person.rowid = {FTS_TABLE}.rowid "
        f"WHERE {FTS_TABLE} MATCH :phrase AND leeloo_person.company_id = :company_id"),
        {"phrase": phrase, "company_id": company_id}).all()
    not_indexed = session.scalars(text(
        f"SELECT person.id FROM {PENDING_TABLE} CROSS JOIN leeloo_person AS person "
        f"ON person.rowid = {PENDING_TABLE}.person_rowid "
        "WHERE person.company_id = :company_id AND person.search_text LIKE :pattern ESCAPE '\\'"),
        {"company_id": company_id, "pattern": _pattern(wanted)}).all()
    return s.Person.id.in_([*ids, *not_indexed])


# --- making and dropping the index ---------------------------------------------------------------


def create_sqlite_index(connection: Connection) -> bool:
    """The FTS5 trigram table and its triggers; False where this SQLite lacks them (FTS5, or the
    trigram tokenizer of SQLite 3.34 and later), and the search then reads every person."""
    try:
        connection.exec_driver_sql(SQLITE_DDL[0])
    except OperationalError:
        return False
    for statement in SQLITE_DDL[1:]:
        connection.exec_driver_sql(statement)
    return True


def drop_index(connection: Connection) -> None:
    """Drop the SQLite FTS5 table, which is outside the metadata, before the tables are dropped
    (PostgreSQL's index goes with its table)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {FTS_TABLE}")
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {PENDING_TABLE}")


def create_postgresql_index(connection: Connection) -> bool:
    """The GIN trigram index, if pg_trgm is installed or this role may install it (False if not).

    The extension goes to ``public``, not to the sandbox's own schema: dropping that schema
    would otherwise take the extension, and every other schema's index, with it.
    """
    find = text("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'")
    where = connection.scalar(find)
    if where is None:
        try:
            with connection.begin_nested():
                connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
        except DBAPIError:
            pass  # no right to install it here, or another connection installed it just now
        where = connection.scalar(find)
        if where is None:
            return False
    connection.exec_driver_sql(f"CREATE INDEX {PG_INDEX} ON leeloo_person USING gin (search_text {where}.gin_trgm_ops)")
    return True


def backfill(connection: Connection) -> list[dict[str, str]]:
    """Every person's (id, search_text), for the migration that adds the column."""
    rows = connection.execute(text("SELECT id, name, email, phone FROM leeloo_person")).all()
    return [{"person_id": person_id, "search_text": person_search_text(name, email, phone)}
            for person_id, name, email, phone in rows]


def suspend_index(connection: Connection) -> bool:
    """Stop indexing each new person, before people are loaded in bulk (see :func:`resume_index`):
    SQLite's insert trigger goes, PostgreSQL's GIN index too. False where there is no index."""
    if connection.dialect.name == "sqlite":
        trigger = f"{FTS_TABLE}_insert"
        found = connection.scalar(text("SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = :name"),
                                  {"name": trigger})
        if found:
            connection.exec_driver_sql(f"DROP TRIGGER {trigger}")
        return bool(found)
    found = connection.scalar(text("SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() "
                                   "AND indexname = :name"), {"name": PG_INDEX})
    if found:
        connection.exec_driver_sql(f"DROP INDEX {PG_INDEX}")
    return bool(found)


def resume_index(connection: Connection) -> None:
    """Index every person at once (far cheaper than one at a time) and index each new one again."""
    if connection.dialect.name == "sqlite":
        configure = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('hashsize', ?)"
        connection.exec_driver_sql(configure, (REBUILD_HASH_BYTES,))
        connection.exec_driver_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
        connection.exec_driver_sql(configure, (DEFAULT_HASH_BYTES,))
        connection.exec_driver_sql(f"DELETE FROM {PENDING_TABLE}")  # the rebuild indexed them
        connection.exec_driver_sql(f"CREATE TRIGGER {FTS_TABLE}_insert {SQLITE_TRIGGERS['insert']}")
    else:
        create_postgresql_index(connection)

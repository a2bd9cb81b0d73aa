"""People search on SQLite: new and changed people wait in a table and are indexed a thousand at a time.

The triggers of 0004 indexed each person as it was written, which cost more than the rest of
creating that person; see leadbridge/sandbox/search.py. PostgreSQL's index is unchanged.
"""

from alembic import op

from leadbridge.sandbox import search

revision = '0008'
down_revision = '0007'

# 0004's triggers, for the way back.
INDEXING_AT_ONCE = {
    "insert": f"AFTER INSERT ON leeloo_person BEGIN INSERT INTO {search.FTS_TABLE}(rowid, search_text) "
              "VALUES (new.rowid, new.search_text); END",
    "delete": f"AFTER DELETE ON leeloo_person BEGIN INSERT INTO {search.FTS_TABLE}({search.FTS_TABLE}, rowid, "
              "search_text) VALUES ('delete', old.rowid, old.search_text); END",
    "update": f"AFTER UPDATE OF search_text ON leeloo_person BEGIN INSERT INTO {search.FTS_TABLE}({search.FTS_TABLE}, "
              "rowid, search_text) VALUES ('delete', old.rowid, old.search_text); INSERT INTO "
              f"{search.FTS_TABLE}(rowid, search_text) VALUES (new.rowid, new.search_text); END",
}


def _has_index() -> bool:
    connection = op.get_bind()
    return connection.dialect.name == 'sqlite' and connection.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE name = ?", (search.FTS_TABLE,)).first() is not None


def upgrade() -> None:
    if not _has_index():
        return
    connection = op.get_bind()
    for name in INDEXING_AT_ONCE:
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {search.FTS_TABLE}_{name}")
    search.create_sqlite_index(connection)


def downgrade() -> None:
    if not _has_index():
        return
    connection = op.get_bind()
    connection.exec_driver_sql(f"INSERT INTO {search.FTS_TABLE}(rowid, search_text) SELECT person.rowid, "
                               f"person.search_text FROM {search.PENDING_TABLE} JOIN leeloo_person AS person "
                               f"ON person.rowid = {search.PENDING_TABLE}.person_rowid")
    for name in search.SQLITE_TRIGGERS:
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {search.FTS_TABLE}_{name}")
    connection.exec_driver_sql(f"DROP TABLE {search.PENDING_TABLE}")
    for name, body in INDEXING_AT_ONCE.items():
        connection.exec_driver_sql(f"CREATE TRIGGER {search.FTS_TABLE}_{name} {body}")

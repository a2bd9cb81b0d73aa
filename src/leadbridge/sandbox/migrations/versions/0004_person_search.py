"""People search: leeloo_person.search_text and its trigram index.

The column holds each person's name, email and phone digits, case-folded in Python (the
databases' own case folding differs: SQLite's covers ASCII only), so it is filled here from
the rows already there. The index is SQLite's FTS5 trigram table with its triggers, or
PostgreSQL's pg_trgm GIN index when that extension is installed or may be installed; see
leadbridge/sandbox/search.py.
"""

import sqlalchemy as sa
from alembic import op

from leadbridge.sandbox import search

revision = '0004'
down_revision = '0003'


def upgrade() -> None:
    op.add_column('leeloo_person', sa.Column('search_text', sa.Text(), server_default='', nullable=False))
    connection = op.get_bind()
    rows = search.backfill(connection)
    for start in range(0, len(rows), 5000):
        connection.execute(sa.text("UPDATE leeloo_person SET search_text = :search_text WHERE id = :person_id"),
                           rows[start:start + 5000])
    if connection.dialect.name == 'sqlite':
        if search.create_sqlite_index(connection):
            connection.exec_driver_sql(f"INSERT INTO {search.FTS_TABLE}({search.FTS_TABLE}) VALUES ('rebuild')")
    elif connection.dialect.name == 'postgresql':
        search.create_postgresql_index(connection)


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == 'sqlite':
        for trigger in ('insert', 'delete', 'update'):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {search.FTS_TABLE}_{trigger}")
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {search.FTS_TABLE}")
    elif connection.dialect.name == 'postgresql':
        connection.exec_driver_sql(f"DROP INDEX IF EXISTS {search.PG_INDEX}")
    with op.batch_alter_table('leeloo_person', schema=None) as batch_op:
        batch_op.drop_column('search_text')

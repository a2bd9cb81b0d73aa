from __future__ import annotations

from alembic import context

from leadbridge.flows.migrations import VERSION_TABLE

# The ledger hands over its connection, already in a transaction (and, on PostgreSQL,
# holding the advisory lock that keeps runners starting together from racing).
connection = context.config.attributes["connection"]
target = context.config.attributes.get("target_metadata")
context.configure(connection=connection, target_metadata=target, render_as_batch=True,
                  version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()

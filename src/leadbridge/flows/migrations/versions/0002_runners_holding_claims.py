"""Runners holding claims: lb_runner, a row per runner, so the claims of one gone are seen."""

import sqlalchemy as sa
from alembic import op

from leadbridge._migration_ops import column, create_table, integer, key, string, timestamp

revision = '0002'
down_revision = '0001'


def upgrade() -> None:
    create_table('lb_runner',
                 key(sa.String(length=64)), string('host', 255), integer('pid'),
                 column('process_start', sa.BigInteger(), nullable=True), timestamp('started_at'),
                 timestamp('seen_at'))


def downgrade() -> None:
    op.drop_table('lb_runner')

"""The history of runs (the flows dashboard): lb_run."""

from alembic import op

from leadbridge._migration_ops import big_id, boolean, create_table, json, key, string, timestamp

revision = '0003'
down_revision = '0002'


def upgrade() -> None:
    create_table('lb_run',
                 key(big_id(), autoincrement=True), string('runner', 64), string('flows', 200), boolean('dry_run'),
                 timestamp('started_at'), timestamp('finished_at', nullable=True), json('counts'),
                 string('exit', 40, nullable=True))


def downgrade() -> None:
    op.drop_table('lb_run')

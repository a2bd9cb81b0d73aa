"""Webhook events received by `flows serve`: lb_event, each kept until processed."""

from alembic import op

from leadbridge._migration_ops import big_id, create_table, json, key, string, text, timestamp

revision = '0004'
down_revision = '0003'


def upgrade() -> None:
    create_table('lb_event',
                 key(big_id(), autoincrement=True), string('dedupe', 200), string('type', 40), json('body'),
                 string('state', 20), timestamp('received_at'), timestamp('processed_at', nullable=True),
                 text('outcome', nullable=True), unique=['dedupe'])
    op.create_index('ix_lb_event_state', 'lb_event', ['state', 'id'], unique=False)


def downgrade() -> None:
    op.drop_table('lb_event')

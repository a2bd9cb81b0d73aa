"""The ledger as first released: units of work, their effects, and the index of Neiros deals."""

import sqlalchemy as sa
from alembic import op

from leadbridge._migration_ops import big_id, column, create_table, integer, json, key, ref, string, text, timestamp

revision = '0001'
down_revision = None


def upgrade() -> None:
    create_table('lb_deal_index',
                 key(sa.Integer(), 'site_id', autoincrement=False), key(big_id(), 'deal_id', autoincrement=False),
                 string('phone', 40, nullable=True), timestamp('created_at'), indexed=['phone'])
    create_table('lb_unit',
                 key(big_id(), autoincrement=True), string('flow', 40), string('kind', 40), string('key', 200),
                 string('dedupe', 200, nullable=True), column('parent_id', big_id(), nullable=True),
                 string('state', 20), string('owner', 64, nullable=True), integer('attempts'), json('payload'),
                 json('result', nullable=True), text('error', nullable=True), timestamp('created_at'),
                 timestamp('updated_at'), indexed=['parent_id'],
                 named_unique={'uq_lb_unit_dedupe': ('flow', 'kind', 'dedupe'),
                               'uq_lb_unit_key': ('flow', 'kind', 'key')})
    op.create_index('ix_lb_unit_claim', 'lb_unit', ['flow', 'kind', 'state', 'id'], unique=False)
    create_table('lb_effect',
                 key(big_id(), autoincrement=True), ref('unit_id', 'lb_unit.id', big_id()), string('name', 80),
                 string('state', 20), json('detail'), text('error', nullable=True), timestamp('updated_at'),
                 named_unique={'uq_lb_effect': ('unit_id', 'name')})


def downgrade() -> None:
    for table in ('lb_effect', 'lb_unit', 'lb_deal_index'):
        op.drop_table(table)

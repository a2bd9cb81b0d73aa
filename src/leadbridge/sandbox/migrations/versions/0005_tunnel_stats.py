"""Tunnel stats kept by the writes: leeloo_tunnel_stats, a row a tunnel and one a company,
filled from the rows already there (see leadbridge/sandbox/tunnel_stats.py)."""

import sqlalchemy as sa
from alembic import op

from leadbridge._migration_ops import OID_LENGTH, create_table, integer, key, number, ref
from leadbridge.sandbox import tunnel_stats

revision = '0005'
down_revision = '0004'


def upgrade() -> None:
    create_table('leeloo_tunnel_stats',
                 ref('company_id', 'company.id', primary_key=True), key(sa.String(length=OID_LENGTH), 'tunnel_id'),
                 integer('subscribers'), integer('uniq_subscribers'), integer('orders'), integer('sales'),
                 integer('uniq_sales'), number('total_sale'), integer('visits'), integer('uniq_visits'),
                 integer('shows'), integer('uniq_shows'), number('expenses'))
    tunnel_stats.recount(op.get_bind())


def downgrade() -> None:
    op.drop_table('leeloo_tunnel_stats')

"""A subscription's index on the person extended by the tunnel.

Each new subscription asks whether the person had one in that tunnel before; with an index on
the person alone, SQLite's planner chose the tunnel's index and read all of its subscriptions.
"""

from alembic import op

revision = '0009'
down_revision = '0008'


def upgrade() -> None:
    with op.batch_alter_table('leeloo_subscription', schema=None) as batch_op:
        batch_op.create_index('ix_subscription_person_tunnel', ['person_id', 'tunnel_id'], unique=False)
        batch_op.drop_index('ix_leeloo_subscription_person_id')


def downgrade() -> None:
    with op.batch_alter_table('leeloo_subscription', schema=None) as batch_op:
        batch_op.create_index('ix_leeloo_subscription_person_id', ['person_id'], unique=False)
        batch_op.drop_index('ix_subscription_person_tunnel')

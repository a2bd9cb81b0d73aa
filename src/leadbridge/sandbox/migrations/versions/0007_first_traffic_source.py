"""The first traffic source of a tunnel or a leadgentool, read in order from an index.

A subscription goes through the first source (by created_at, id) of its tunnel or
leadgentool; with an index on the id alone, every source of it was read and sorted.
"""

from alembic import op

revision = '0007'
down_revision = '0006'


def upgrade() -> None:
    with op.batch_alter_table('leeloo_traffic_source', schema=None) as batch_op:
        batch_op.create_index('ix_traffic_source_tunnel_created_id', ['tunnel_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_traffic_source_leadgentool_created_id', ['leadgentool_id', 'created_at', 'id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('leeloo_traffic_source', schema=None) as batch_op:
        batch_op.drop_index('ix_traffic_source_leadgentool_created_id')
        batch_op.drop_index('ix_traffic_source_tunnel_created_id')

"""A people page's accounts in one range of one index.

leeloo_account (company_id, person_id, created_at, id, connection_id, connection_status,
messenger): a page of people is one run of the company's ids, so the accounts it shows are
one range of this index, in the page's order, read without touching the table.
"""

from alembic import op

revision = '0006'
down_revision = '0005'


def upgrade() -> None:
    with op.batch_alter_table('leeloo_account', schema=None) as batch_op:
        batch_op.create_index('ix_account_company_person_page',
                              ['company_id', 'person_id', 'created_at', 'id', 'connection_id', 'connection_status',
                               'messenger'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('leeloo_account', schema=None) as batch_op:
        batch_op.drop_index('ix_account_company_person_page')

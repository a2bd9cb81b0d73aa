"""Indexes for every per-record query.

- leeloo_subscription.account_id: a person's creation and an account's card read the
  account's subscribe history (a scan of every subscription without it).
- people by phone and by email: (company_id, phone|email, id), so the first match in id
  order comes from the index instead of a walk over the company's people in id order.
- chat messages: (account_id, created_at, id), the page's whole order.
- Neiros deals: (site_id, id, created_at), a page of a site's deals in id order with its
  date window checked on the index.
- channels: (company_id, last_message_time, id), and orders: (company_id, created_at, id),
  the lists' orders (each page sorted every account, or order, of the company).
"""

from alembic import op

revision = '0002'
down_revision = '0001'


def upgrade() -> None:
    with op.batch_alter_table('leeloo_subscription', schema=None) as batch_op:
        batch_op.create_index('ix_leeloo_subscription_account_id', ['account_id'], unique=False)
    with op.batch_alter_table('leeloo_person', schema=None) as batch_op:
        batch_op.drop_index('ix_person_company_phone')
        batch_op.drop_index('ix_person_company_email')
        batch_op.create_index('ix_person_company_phone_id', ['company_id', 'phone', 'id'], unique=False)
        batch_op.create_index('ix_person_company_email_id', ['company_id', 'email', 'id'], unique=False)
    with op.batch_alter_table('leeloo_message', schema=None) as batch_op:
        batch_op.drop_index('ix_message_account_created')
        batch_op.create_index('ix_message_account_created_id', ['account_id', 'created_at', 'id'], unique=False)
    with op.batch_alter_table('neiros_deal', schema=None) as batch_op:
        batch_op.create_index('ix_deal_site_id_created', ['site_id', 'id', 'created_at'], unique=False)
    with op.batch_alter_table('leeloo_account', schema=None) as batch_op:
        batch_op.create_index('ix_account_company_last_message', ['company_id', 'last_message_time', 'id'],
                              unique=False)
    with op.batch_alter_table('leeloo_order', schema=None) as batch_op:
        batch_op.create_index('ix_order_company_created', ['company_id', 'created_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('leeloo_order', schema=None) as batch_op:
        batch_op.drop_index('ix_order_company_created')
    with op.batch_alter_table('leeloo_account', schema=None) as batch_op:
        batch_op.drop_index('ix_account_company_last_message')
    with op.batch_alter_table('neiros_deal', schema=None) as batch_op:
        batch_op.drop_index('ix_deal_site_id_created')
    with op.batch_alter_table('leeloo_message', schema=None) as batch_op:
        batch_op.drop_index('ix_message_account_created_id')
        batch_op.create_index('ix_message_account_created', ['account_id', 'created_at'], unique=False)
    with op.batch_alter_table('leeloo_person', schema=None) as batch_op:
        batch_op.drop_index('ix_person_company_email_id')
        batch_op.drop_index('ix_person_company_phone_id')
        batch_op.create_index('ix_person_company_email', ['company_id', 'email'], unique=False)
        batch_op.create_index('ix_person_company_phone', ['company_id', 'phone'], unique=False)
    with op.batch_alter_table('leeloo_subscription', schema=None) as batch_op:
        batch_op.drop_index('ix_leeloo_subscription_account_id')

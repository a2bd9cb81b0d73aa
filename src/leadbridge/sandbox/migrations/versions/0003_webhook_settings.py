"""Webhook settings per company: webhook_setting, one row a company."""

from alembic import op

from leadbridge._migration_ops import boolean, create_table, ref, string

revision = '0003'
down_revision = '0002'


def upgrade() -> None:
    create_table('webhook_setting',
                 ref('company_id', 'company.id', primary_key=True), boolean('enabled'), string('url', 2048),
                 string('events', 200))


def downgrade() -> None:
    op.drop_table('webhook_setting')

"""The sandbox's tables as first released (migration 0002 and later reshape some indexes)."""

import sqlalchemy as sa
from alembic import op

from leadbridge._migration_ops import (
    big_id,
    boolean,
    create_table,
    integer,
    json,
    key,
    number,
    oid,
    oid_key,
    ref,
    string,
    tenant,
    text,
    timestamp,
    timestamps,
)

revision = '0001'
down_revision = None


def upgrade() -> None:
    create_table('company',
                 oid_key(), string('name', 200), string('leeloo_token', 200), string('neiros_email', 200),
                 string('neiros_password', 200), integer('neiros_user_id'), string('neiros_user_name', 200),
                 string('dialog_login', 200), string('dialog_password', 200),
                 unique=['dialog_login', 'leeloo_token', 'neiros_email'])
    create_table('sandbox_state', key(sa.String(length=64), 'key'), text('value'))
    create_table('dialog_project', key(sa.Integer(), autoincrement=False), tenant(), string('name', 200),
                 indexed=['company_id'])
    create_table('dialog_token', key(sa.Integer(), autoincrement=True), tenant(), string('token_hash', 64),
                 timestamp('created_at'), unique=['token_hash'], indexed=['company_id'])
    create_table('leeloo_connection',
                 oid_key(), tenant(), string('type', 40), string('name', 200), string('messenger', 40),
                 indexed=['company_id'])
    create_table('leeloo_payment_credits', oid_key(), tenant(), string('name', 200), string('payment_method', 20),
                 indexed=['company_id'])
    create_table('leeloo_person',
                 oid_key(), tenant(), string('name', 200), string('phone', 40, nullable=True),
                 string('email', 200, nullable=True), string('gender', 20), string('locale', 20),
                 string('profile_image', 300), json('custom_fields'), timestamp('last_message_time', nullable=True),
                 *timestamps())
    op.create_index('ix_person_company_email', 'leeloo_person', ['company_id', 'email'], unique=False)
    op.create_index('ix_person_company_id_id', 'leeloo_person', ['company_id', 'id'], unique=False)
    op.create_index('ix_person_company_phone', 'leeloo_person', ['company_id', 'phone'], unique=False)
    create_table('leeloo_tag', oid_key(), tenant(), string('name', 200), indexed=['company_id'])
    create_table('leeloo_template_category', oid_key(), tenant(), string('name', 200), indexed=['company_id'])
    create_table('leeloo_tunnel', oid_key(), tenant(), string('name', 200), *timestamps(), indexed=['company_id'])
    create_table('leeloo_user', oid_key(), tenant(), string('name', 200), *timestamps(), indexed=['company_id'])
    create_table('neiros_site', key(sa.Integer(), autoincrement=False), tenant(), string('name', 200),
                 indexed=['company_id'])
    create_table('neiros_token', key(sa.Integer(), autoincrement=True), tenant(), string('token_hash', 64),
                 timestamp('created_at'), unique=['token_hash'], indexed=['company_id'])
    create_table('dialog_caller_phone',
                 key(sa.Integer(), autoincrement=False), ref('project_id', 'dialog_project.id', sa.Integer()),
                 string('number', 20), indexed=['project_id'])
    create_table('dialog_scenario',
                 key(sa.Integer(), autoincrement=False), ref('project_id', 'dialog_project.id', sa.Integer()),
                 string('name', 200), string('goal', 200), indexed=['project_id'])
    create_table('leeloo_account',
                 oid_key(), tenant(), ref('person_id', 'leeloo_person.id'),
                 ref('connection_id', 'leeloo_connection.id'), string('messenger', 40), string('name', 200),
                 string('bot_status', 20), string('connection_status', 20), json('utm_marks'),
                 timestamp('last_message_time', nullable=True), *timestamps(), indexed=['person_id'])
    op.create_index('ix_account_company_id_id', 'leeloo_account', ['company_id', 'id'], unique=False)
    create_table('leeloo_comment',
                 oid_key(), tenant(), ref('person_id', 'leeloo_person.id'), oid('created_by'), text('text'),
                 *timestamps(), indexed=['person_id'])
    create_table('leeloo_contacted_user',
                 ref('person_id', 'leeloo_person.id', primary_key=True),
                 ref('user_id', 'leeloo_user.id', primary_key=True))
    create_table('leeloo_leadgentool',
                 oid_key(), tenant(), ref('tunnel_id', 'leeloo_tunnel.id'), string('name', 200), string('type', 20),
                 indexed=['company_id', 'tunnel_id'])
    create_table('leeloo_offer',
                 oid_key(), tenant(), ref('tunnel_id', 'leeloo_tunnel.id', nullable=True), string('title', 200),
                 text('description'), number('price'), string('currency', 3), indexed=['company_id'])
    create_table('leeloo_order',
                 oid_key(), tenant(), ref('person_id', 'leeloo_person.id', nullable=True),
                 oid('offer_id', nullable=True), oid('tunnel_id', nullable=True), string('title', 200),
                 text('description'), number('price'), string('currency', 3), string('status', 20),
                 string('payment_method', 20), oid('payment_credits_id', nullable=True),
                 oid('manager_id', nullable=True), string('email', 200, nullable=True),
                 string('phone', 40, nullable=True), boolean('is_notify_account'),
                 timestamp('transaction_date', nullable=True), timestamp('payment_date', nullable=True),
                 text('user_comments', nullable=True), *timestamps(), indexed=['person_id'])
    op.create_index('ix_order_company_id_id', 'leeloo_order', ['company_id', 'id'], unique=False)
    create_table('leeloo_person_tag',
                 ref('person_id', 'leeloo_person.id', primary_key=True),
                 ref('tag_id', 'leeloo_tag.id', primary_key=True), indexed=['tag_id'])
    create_table('leeloo_template',
                 oid_key(), tenant(), ref('category_id', 'leeloo_template_category.id'),
                 string('message_name', 200), text('text'), indexed=['category_id', 'company_id'])
    create_table('leeloo_tunnel_block',
                 oid_key(), tenant(), ref('tunnel_id', 'leeloo_tunnel.id'), string('name', 200), text('text'),
                 indexed=['company_id', 'tunnel_id'])
    create_table('neiros_deal',
                 key(big_id()), tenant(), ref('site_id', 'neiros_site.id', sa.Integer()),
                 string('neiros_visit', 24), string('neiros_id', 20), timestamp('created_at'),
                 string('phone', 20, nullable=True), integer('duration'), string('record', 300, nullable=True),
                 string('canal', 100), string('traffic', 100), number('summ'), string('status', 100))
    op.create_index('ix_deal_site_created', 'neiros_deal', ['site_id', 'created_at'], unique=False)
    create_table('dialog_start_block',
                 key(sa.Integer(), autoincrement=False), ref('scenario_id', 'dialog_scenario.id', sa.Integer()),
                 string('name', 200), json('params'), indexed=['scenario_id'])
    create_table('leeloo_call',
                 oid_key(), tenant(), ref('account_id', 'leeloo_account.id'), oid('user_id'),
                 string('from_number', 40), string('to_number', 40), timestamp('date'), string('record_link', 500),
                 string('status', 20), integer('duration'), string('type', 10), string('call_id', 40),
                 oid('telephone_connection_id'), *timestamps(), indexed=['account_id', 'company_id'])
    create_table('leeloo_message',
                 oid_key(), tenant(), ref('account_id', 'leeloo_account.id'), text('text'), string('type', 20),
                 boolean('read'), oid('created_by', nullable=True), oid('template_id', nullable=True),
                 *timestamps())
    op.create_index('ix_message_account_created', 'leeloo_message', ['account_id', 'created_at'], unique=False)
    create_table('leeloo_traffic_source',
                 oid_key(), tenant(), ref('leadgentool_id', 'leeloo_leadgentool.id'),
                 ref('tunnel_id', 'leeloo_tunnel.id'), string('name', 200), text('description', nullable=True),
                 string('type', 20), string('hash', 16), oid('resubscribe_button_id'), oid('created_by'),
                 integer('visits'), integer('uniq_visits'), integer('shows'), integer('uniq_shows'),
                 number('expenses'), *timestamps(), indexed=['company_id', 'leadgentool_id', 'tunnel_id'])
    create_table('dialog_campaign',
                 key(sa.Integer(), autoincrement=False), tenant(),
                 ref('project_id', 'dialog_project.id', sa.Integer()), string('name', 200, nullable=True),
                 text('description', nullable=True), ref('start_block_id', 'dialog_start_block.id', sa.Integer()),
                 ref('phone_id', 'dialog_caller_phone.id', sa.Integer()), string('date', 10),
                 string('start_time', 5), string('end_time', 5), integer('attempts'), integer('interval_minutes'),
                 string('state', 40), timestamp('created_at'), timestamp('simulated_until', nullable=True),
                 indexed=['company_id'])
    create_table('leeloo_subscription',
                 key(sa.Integer(), autoincrement=True), tenant(), ref('person_id', 'leeloo_person.id'),
                 ref('account_id', 'leeloo_account.id'), ref('tunnel_id', 'leeloo_tunnel.id'),
                 ref('leadgentool_id', 'leeloo_leadgentool.id'),
                 ref('traffic_source_id', 'leeloo_traffic_source.id'), oid('tunnel_block_id', nullable=True),
                 timestamp('created_at'), indexed=['company_id', 'person_id', 'tunnel_id'])
    create_table('dialog_campaign_phone',
                 key(sa.Integer(), autoincrement=True), ref('campaign_id', 'dialog_campaign.id', sa.Integer()),
                 integer('position'), string('phone', 40), json('add_data'), indexed=['campaign_id'])
    create_table('dialog_call',
                 key(sa.Integer(), autoincrement=True), tenant(),
                 ref('campaign_id', 'dialog_campaign.id', sa.Integer()),
                 ref('campaign_phone_id', 'dialog_campaign_phone.id', sa.Integer()), integer('attempt'),
                 timestamp('started_at'), string('outcome', 20), integer('duration'), boolean('goal_reached'),
                 text('transcript'), indexed=['campaign_id', 'company_id'])


def downgrade() -> None:
    # Dropping a table drops its indexes; dependents go first.
    for table in ('dialog_call', 'dialog_campaign_phone', 'leeloo_subscription', 'dialog_campaign',
                  'leeloo_traffic_source', 'leeloo_message', 'leeloo_call', 'dialog_start_block', 'neiros_deal',
                  'leeloo_tunnel_block', 'leeloo_template', 'leeloo_person_tag', 'leeloo_order', 'leeloo_offer',
                  'leeloo_leadgentool', 'leeloo_contacted_user', 'leeloo_comment', 'leeloo_account',
                  'dialog_scenario', 'dialog_caller_phone', 'neiros_token', 'neiros_site', 'leeloo_user',
                  'leeloo_tunnel', 'leeloo_template_category', 'leeloo_tag', 'leeloo_person',
                  'leeloo_payment_credits', 'leeloo_connection', 'dialog_token', 'dialog_project', 'sandbox_state',
                  'company'):
        op.drop_table(table)

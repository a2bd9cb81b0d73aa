"""Every hand-written SQL statement of the sandbox, in one place.

The hottest reads (the people page, a chat page) and every write of the vendor APIs skip
SQLAlchemy's statement layer: its per-statement work (building, caching and compiling a
statement, the session's unit of work) costs more than the database's own. Their SQL lives here,
written for both SQLite and PostgreSQL (``:name`` parameters, rewritten for psycopg by
``state.run_sql``), so tests/sandbox/test_query_plans.py can check the plan of each one and
tests/sandbox/test_hotpath.py that each answers as the general path does.
"""

from __future__ import annotations

# The company's first user (its owner): the user acting for API calls.
API_USER = "SELECT id FROM leeloo_user WHERE company_id = :company ORDER BY created_at, id LIMIT 1"

# The unfiltered people page, in three small indexed queries (same order as the general path's).
PEOPLE_PAGE = (
    "SELECT id, name, email, phone, last_message_time FROM leeloo_person"
    " WHERE company_id = :company ORDER BY id LIMIT :limit OFFSET :offset"
)
# The people with one phone (email), as flows look a person up before adding one: a range of the
# (company_id, phone, id) index ((company_id, email, id)), already in id order.
PEOPLE_OF_PHONE = (
    "SELECT id, name, email, phone, last_message_time FROM leeloo_person"
    " WHERE company_id = :company AND phone = :value ORDER BY id LIMIT :limit OFFSET :offset"
)
PEOPLE_OF_PHONE_COUNT = "SELECT count(*) FROM leeloo_person WHERE company_id = :company AND phone = :value"
PEOPLE_OF_EMAIL = PEOPLE_OF_PHONE.replace("phone = :value", "email = :value")
PEOPLE_OF_EMAIL_COUNT = PEOPLE_OF_PHONE_COUNT.replace("phone = :value", "email = :value")
# A deep OFFSET makes the database walk every index entry before it; an anchor (the id at every
# :step-th place) lets a page start near its place instead.
PEOPLE_ANCHORS = (
    "SELECT id FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS place FROM leeloo_person"
    " WHERE company_id = :company) AS ranked WHERE (place - 1) / :step * :step = place - 1 ORDER BY id"
)
# The anchor :step places after a known one: the anchors of people added after the last, as a
# deep page first asks for them.
PEOPLE_NEXT_ANCHOR = (
    "SELECT id FROM leeloo_person WHERE company_id = :company AND id >= :anchor ORDER BY id LIMIT 1 OFFSET :step"
)
PEOPLE_FROM_ANCHOR = (
    "SELECT id, name, email, phone, last_message_time FROM leeloo_person"
    " WHERE company_id = :company AND id >= :anchor ORDER BY id LIMIT :limit OFFSET :offset"
)
# A page's people are the company's people from its :first id to its :last: their accounts and
# tags are one range of an index each (one seek, not one per person), already in the page's order.
PAGE_ACCOUNTS = (
    "SELECT person_id, id, connection_id, connection_status, messenger FROM leeloo_account"
    " WHERE company_id = :company AND person_id BETWEEN :first AND :last ORDER BY person_id, created_at, id"
)
# Tagged people have no company column: the range holds other companies' people too, whom the
# caller leaves out. (A condition on the tag's company would have the planner walk every person
# tagged with each of the company's tags instead.)
PAGE_TAGS = (
    "SELECT pt.person_id, t.name FROM leeloo_person_tag pt JOIN leeloo_tag t ON t.id = pt.tag_id"
    " WHERE pt.person_id BETWEEN :first AND :last ORDER BY pt.person_id, t.name"
)
# The accounts and tags of people by id (a card, a filtered page): one seek a person.
ACCOUNTS_OF_PEOPLE = (
    "SELECT person_id, id, connection_id, connection_status, messenger FROM leeloo_account"
    " WHERE person_id IN ({marks}) ORDER BY created_at, id"
)
TAGS_OF_PEOPLE = (
    "SELECT pt.person_id, t.name FROM leeloo_person_tag pt JOIN leeloo_tag t ON t.id = pt.tag_id"
    " WHERE pt.person_id IN ({marks}) ORDER BY t.name"
)

# A chat page and send-message.
ACCOUNT_EXISTS = "SELECT 1 FROM leeloo_account WHERE id = :account AND company_id = :company"
CHAT_PAGE = (
    "SELECT id, text, type, read, created_by, created_at, updated_at FROM leeloo_message"
    " WHERE account_id = :account ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :offset"
)
TOUCH_ACCOUNT = (
    "UPDATE leeloo_account SET last_message_time = :now, updated_at = :now"
    " WHERE id = :account AND company_id = :company RETURNING person_id"
)
INSERT_MESSAGE = (
    "INSERT INTO leeloo_message (id, company_id, account_id, text, type, read, created_by, template_id,"
    " created_at, updated_at) VALUES (:id, :company, :account, :text, :type, :read, :created_by, :template_id,"
    " :now, :now)"
)
# Two messages sent together (a subscription's system message and its block's text): one statement.
INSERT_TWO_MESSAGES = (
    INSERT_MESSAGE + ", (:id2, :company, :account, :text2, :type2, :read, :created_by, :template_id, :now, :now)"
)
TOUCH_PERSON = "UPDATE leeloo_person SET last_message_time = :now WHERE id = :person"

# A person's card (GET /api/v2/people/{id}, and the answer of PUT): the person, the users and
# orders linked, the subscriptions (PAGE_TAGS and PAGE_ACCOUNTS give the tags and accounts).
_CARD_COLUMNS = "id, name, profile_image, gender, phone, email, locale, custom_fields, created_at, updated_at"
PERSON_CARD = f"SELECT {_CARD_COLUMNS} FROM leeloo_person WHERE id = :id AND company_id = :company"
CONTACTED_USERS = "SELECT user_id FROM leeloo_contacted_user WHERE person_id = :person ORDER BY user_id"
PERSON_ORDERS = (
    "SELECT id, title, price, currency, status, payment_method, updated_at FROM leeloo_order"
    " WHERE person_id = :person ORDER BY created_at DESC, id DESC"
)
USERS_BY_ID = "SELECT id, name, created_at, updated_at FROM leeloo_user WHERE id IN ({marks}) ORDER BY id"
_SUBSCRIPTIONS = (
    "SELECT t.name, l.name, ts.name, sub.tunnel_id, sub.leadgentool_id, sub.traffic_source_id, sub.account_id"
    " FROM leeloo_subscription sub JOIN leeloo_tunnel t ON t.id = sub.tunnel_id"
    " JOIN leeloo_leadgentool l ON l.id = sub.leadgentool_id"
    " JOIN leeloo_traffic_source ts ON ts.id = sub.traffic_source_id"
)
PERSON_SUBSCRIPTIONS = _SUBSCRIPTIONS + " WHERE sub.person_id = :person ORDER BY sub.created_at, sub.id"
ACCOUNT_SUBSCRIPTIONS = _SUBSCRIPTIONS + " WHERE sub.account_id = :account ORDER BY sub.created_at, sub.id"

# The write path (``Sandbox.raw_write``): each write's lookups and changes.
# One record of the company by its id (a 404 when missing).
USER_OF_COMPANY = "SELECT id FROM leeloo_user WHERE id = :id AND company_id = :company"
ACCOUNT_OF_COMPANY = "SELECT id, person_id FROM leeloo_account WHERE id = :id AND company_id = :company"
PERSON_OF_COMPANY = "SELECT id, email, phone FROM leeloo_person WHERE id = :id AND company_id = :company"
# An order's person, looked up and touched at once: its last message moves to now when it has an
# account, where the order's notice goes (sales._notify), as TOUCH_PERSON would after the notice.
PERSON_OF_ORDER = (
    "UPDATE leeloo_person SET last_message_time = CASE WHEN EXISTS (SELECT 1 FROM leeloo_account"
    " WHERE person_id = leeloo_person.id) THEN :now ELSE last_message_time END"
    " WHERE id = :id AND company_id = :company RETURNING id, email, phone"
)
PERSON_TO_UPDATE = (
    "SELECT id, name, email, phone, custom_fields, search_text FROM leeloo_person"
    " WHERE id = :id AND company_id = :company"
)
TAG_OF_COMPANY = "SELECT id FROM leeloo_tag WHERE id = :id AND company_id = :company"
TUNNEL_OF_COMPANY = "SELECT id FROM leeloo_tunnel WHERE id = :id AND company_id = :company"
LEADGENTOOL_OF_COMPANY = "SELECT id, tunnel_id FROM leeloo_leadgentool WHERE id = :id AND company_id = :company"
CONNECTION_OF_COMPANY = "SELECT id, messenger FROM leeloo_connection WHERE id = :id AND company_id = :company"
OFFER_OF_COMPANY = (
    "SELECT id, title, description, price, currency, tunnel_id FROM leeloo_offer"
    " WHERE id = :id AND company_id = :company"
)
PAYMENT_CREDITS_OF_COMPANY = (
    "SELECT id, payment_method FROM leeloo_payment_credits WHERE id = :id AND company_id = :company"
)
ORDER_OF_COMPANY = (
    "SELECT id, status, payment_method, person_id, title, price, currency, email, phone, payment_credits_id,"
    " tunnel_id FROM leeloo_order WHERE id = :id AND company_id = :company"
)
TEMPLATE_OF_COMPANY = "SELECT text FROM leeloo_template WHERE id = :id AND company_id = :company"
BLOCK_OF_TUNNEL = (
    "SELECT text FROM leeloo_tunnel_block WHERE id = :id AND tunnel_id = :tunnel AND company_id = :company"
)
# Several records of the company by their ids: those found.
USERS_OF_COMPANY = "SELECT id FROM leeloo_user WHERE id IN ({marks}) AND company_id = :company"
TAGS_OF_COMPANY = "SELECT id FROM leeloo_tag WHERE id IN ({marks}) AND company_id = :company"

# The traffic source a new subscription comes through: the first of the tunnel or leadgentool.
FIRST_SOURCE_OF_TUNNEL = (
    "SELECT id, leadgentool_id, tunnel_id FROM leeloo_traffic_source WHERE tunnel_id = :tunnel"
    " ORDER BY created_at, id LIMIT 1"
)
# ... and the names a subscription through it shows in a subscribeHistory (whether it is shown
# there at all: _SUBSCRIPTIONS joins the tunnel and the leadgentool).
FIRST_SOURCE_OF_LEADGENTOOL = (
    "SELECT ts.id, ts.leadgentool_id, ts.tunnel_id, t.id IS NOT NULL AND l.id IS NOT NULL, t.name, l.name, ts.name"
    " FROM leeloo_traffic_source ts LEFT JOIN leeloo_tunnel t ON t.id = ts.tunnel_id"
    " LEFT JOIN leeloo_leadgentool l ON l.id = ts.leadgentool_id"
    " WHERE ts.leadgentool_id = :leadgentool ORDER BY ts.created_at, ts.id LIMIT 1"
)
SOURCE_NAME = "SELECT name FROM leeloo_traffic_source WHERE id = :id"
PERSON_CONTACT = "SELECT email, phone FROM leeloo_person WHERE id = :person"
# The person's account with the latest conversation: where notices of their orders go.
# The person's account with the latest conversation, touched as a message is put there.
TOUCH_LATEST_ACCOUNT = (
    "UPDATE leeloo_account SET last_message_time = :now, updated_at = :now WHERE id = ("
    "SELECT id FROM leeloo_account WHERE person_id = :person"
    " ORDER BY last_message_time DESC NULLS LAST, id LIMIT 1) RETURNING id"
)
CONNECTION_OF_MESSENGER = (
    "SELECT id FROM leeloo_connection WHERE company_id = :company AND messenger = :messenger ORDER BY id LIMIT 1"
)
PERSON_OF_PHONE = (
    "SELECT id FROM leeloo_person WHERE company_id = :company AND phone = :phone ORDER BY created_at LIMIT 1"
)
ACCOUNT_ON_CONNECTION = "SELECT id FROM leeloo_account WHERE person_id = :person AND connection_id = :connection"
TAGS_OF_PERSON = "SELECT tag_id FROM leeloo_person_tag WHERE person_id = :person"

# A new person and a new account have their last message at once: the new account's system
# message (people._new_account), sent as they are added.
INSERT_PERSON = (
    "INSERT INTO leeloo_person (id, company_id, name, phone, email, gender, locale, profile_image, custom_fields,"
    " last_message_time, created_at, updated_at, search_text) VALUES (:id, :company, :name, :phone, :email,"
    " 'NOT_DEFINED', '', 'NOT_DEFINED', :custom_fields, :now, :now, :now, :search_text)"
)
INSERT_CONNECTION = (
    "INSERT INTO leeloo_connection (id, company_id, type, name, messenger)"
    " VALUES (:id, :company, :type, :name, :messenger)"
)
INSERT_ACCOUNT = (
    "INSERT INTO leeloo_account (id, company_id, person_id, connection_id, messenger, name, bot_status,"
    " connection_status, utm_marks, last_message_time, created_at, updated_at) VALUES (:id, :company, :person,"
    " :connection, :messenger, :name, 'BOT', 'OK', :utm_marks, :now, :now, :now)"
)
INSERT_SUBSCRIPTION = (
    "INSERT INTO leeloo_subscription (company_id, person_id, account_id, tunnel_id, leadgentool_id,"
    " traffic_source_id, tunnel_block_id, created_at) VALUES (:company, :person, :account, :tunnel, :leadgentool,"
    " :source, :block, :now)"
)
INSERT_CONTACTED_USER = "INSERT INTO leeloo_contacted_user (person_id, user_id) VALUES (:person, :user)"
INSERT_PERSON_TAG = "INSERT INTO leeloo_person_tag (person_id, tag_id) VALUES (:person, :tag)"
DELETE_PERSON_TAG = "DELETE FROM leeloo_person_tag WHERE person_id = :person AND tag_id = :tag"
TOUCH_PERSON_UPDATED = "UPDATE leeloo_person SET updated_at = :now WHERE id = :person"
# The search index (search.py) follows search_text: it is set only when it changes.
# ... answering the person's row as PERSON_CARD reads it (the answer is the updated card).
UPDATE_PERSON = (
    "UPDATE leeloo_person SET phone = :phone, email = :email, custom_fields = :custom_fields, updated_at = :now"
    f" WHERE id = :person RETURNING {_CARD_COLUMNS}"
)
UPDATE_PERSON_AND_SEARCH_TEXT = (
    "UPDATE leeloo_person SET phone = :phone, email = :email, search_text = :search_text,"
    f" custom_fields = :custom_fields, updated_at = :now WHERE id = :person RETURNING {_CARD_COLUMNS}"
)
INSERT_COMMENT = (
    "INSERT INTO leeloo_comment (id, company_id, person_id, created_by, text, created_at, updated_at)"
    " VALUES (:id, :company, :person, :created_by, :text, :now, :now)"
)
INSERT_CALL = (
    "INSERT INTO leeloo_call (id, company_id, account_id, user_id, from_number, to_number, date, record_link,"
    " status, duration, type, call_id, telephone_connection_id, created_at, updated_at) VALUES (:id, :company,"
    " :account, :user, :from_number, :to_number, :date, :record_link, :status, :duration, :type, :call_id,"
    " :telephone_connection_id, :now, :now)"
)
INSERT_ORDER = (
    "INSERT INTO leeloo_order (id, company_id, person_id, offer_id, tunnel_id, title, description, price,"
    " currency, status, payment_method, payment_credits_id, manager_id, email, phone, is_notify_account,"
    " transaction_date, payment_date, user_comments, created_at, updated_at) VALUES (:id, :company, :person,"
    " :offer, :tunnel, :title, :description, :price, :currency, 'OPENED', :payment_method, :payment_credits,"
    " :manager, :email, :phone, :notify, :transaction_date, NULL, NULL, :now, :now)"
)
# A manual order resolved or rejected: price, currency and payment date change only when given.
SETTLE_ORDER = (
    "UPDATE leeloo_order SET status = :status, updated_at = :now, user_comments = :comments,"
    " payment_date = COALESCE(:payment_date, payment_date), currency = COALESCE(:currency, currency),"
    " price = COALESCE(:price, price) WHERE id = :id"
)
INSERT_TRAFFIC_SOURCE = (
    "INSERT INTO leeloo_traffic_source (id, company_id, leadgentool_id, tunnel_id, name, description, type, hash,"
    " resubscribe_button_id, created_by, visits, uniq_visits, shows, uniq_shows, expenses, created_at, updated_at)"
    " VALUES (:id, :company, :leadgentool, :tunnel, :name, :description, 'normal', :hash, :resubscribe_button,"
    " :created_by, 0, 0, 0, 0, 0, :now, :now)"
)

# Tunnel stats (sandbox/tunnel_stats.py): figures added to the company's row and its tunnel's
# (:row and :other_row, the same value when one row), and what a person had before a write.
_STATS_ADD = (
    "UPDATE leeloo_tunnel_stats SET {figures} WHERE company_id = :company AND tunnel_id IN (:row, :other_row)"
)
STATS_ADD_SUBSCRIBER = _STATS_ADD.format(figures="subscribers = subscribers + 1")
STATS_ADD_UNIQ_SUBSCRIBER = _STATS_ADD.format(figures="uniq_subscribers = uniq_subscribers + 1")
# A subscriber, counted among the distinct ones in the rows :first and :other_first (NULL: none).
STATS_ADD_SUBSCRIBER_COUNTED = _STATS_ADD.format(
    figures="subscribers = subscribers + 1,"
            " uniq_subscribers = uniq_subscribers + CASE WHEN tunnel_id IN (:first, :other_first) THEN 1 ELSE 0 END")
STATS_ADD_ORDER = _STATS_ADD.format(figures="orders = orders + 1")
STATS_ADD_SALE = _STATS_ADD.format(figures="sales = sales + 1, total_sale = total_sale + :amount")
STATS_ADD_UNIQ_SALE = _STATS_ADD.format(figures="uniq_sales = uniq_sales + 1")
# Whether the person had any subscription (paid order) before, and whether one in the tunnel: two
# EXISTS, which stop at the first row, since a person subscribed again and again has a row each time.
SUBSCRIBED_BEFORE = (
    "SELECT EXISTS (SELECT 1 FROM leeloo_subscription WHERE person_id = :person),"
    " EXISTS (SELECT 1 FROM leeloo_subscription WHERE person_id = :person AND tunnel_id = :tunnel)"
)
_PAID_OF_PERSON = "FROM leeloo_order WHERE person_id = :person AND status IN ('RESOLVED', 'SUCCESS')"
PAID_BEFORE = f"SELECT EXISTS (SELECT 1 {_PAID_OF_PERSON}), EXISTS (SELECT 1 {_PAID_OF_PERSON} AND tunnel_id = :tunnel)"

# Neiros: a deal's sum, on the deal of that company and site only.
SET_DEAL_SUM = (
    "UPDATE neiros_deal SET summ = :summ WHERE id = :deal AND company_id = :company AND site_id = :site RETURNING id"
)

# Dialog: a campaign created, after its project, start block and caller phone are found together.
DIALOG_PROJECT_COMPANY = "SELECT company_id FROM dialog_project WHERE id = :dialog_project"
DIALOG_START_BLOCK_PARAMS = (
    "SELECT b.params FROM dialog_start_block b JOIN dialog_scenario sc ON sc.id = b.scenario_id"
    " WHERE b.id = :start_block AND sc.project_id = :dialog_project"
)
DIALOG_CALLER_PHONE_PROJECT = "SELECT project_id FROM dialog_caller_phone WHERE id = :caller_phone"
SANDBOX_STATE_VALUE = "SELECT value FROM sandbox_state WHERE key = :key"
TOP_CAMPAIGN = "SELECT MAX(id) FROM dialog_campaign"
TOP_CAMPAIGN_OF_COMPANY = "SELECT MAX(id) FROM dialog_campaign WHERE company_id = :company AND id >= :base"
CAMPAIGN_EXISTS = "SELECT 1 FROM dialog_campaign WHERE id = :campaign"
INSERT_CAMPAIGN = (
    "INSERT INTO dialog_campaign (id, company_id, project_id, name, description, start_block_id, phone_id, date,"
    " start_time, end_time, attempts, interval_minutes, state, created_at, simulated_until) VALUES (:campaign,"
    " :company, :dialog_project, :name, :description, :start_block, :caller_phone, :date, :start_time, :end_time,"
    " :attempts, :interval_minutes, :state, :now, NULL)"
)
INSERT_CAMPAIGN_PHONE = (
    "INSERT INTO dialog_campaign_phone (campaign_id, position, phone, add_data)"
    " VALUES (:campaign, :position, :phone, :add_data)"
)

STATEMENTS = {
    name: value for name, value in dict(globals()).items()
    if name.isupper() and not name.startswith("_") and isinstance(value, str)
}



def in_list(sql: str, ids: list[str]) -> tuple[str, dict[str, str]]:
    """``sql`` with ``{marks}`` as ``:p0, :p1, …``, and their values."""
    marks = ", ".join(f":p{i}" for i in range(len(ids)))
    return sql.format(marks=marks), {f"p{i}": value for i, value in enumerate(ids)}

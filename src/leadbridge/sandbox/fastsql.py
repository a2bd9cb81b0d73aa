"""Every hand-written SQL statement of the sandbox's fast lane, in one place.

The hottest calls (the people page, a chat page, send-message) skip SQLAlchemy's statement
layer: its per-statement work costs more than SQLite's own there. Their SQL lives here,
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
# A deep OFFSET makes the database walk every index entry before it; an anchor (the id at every
# :step-th place) lets a page start near its place instead.
PEOPLE_ANCHORS = (
    "SELECT id FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS place FROM leeloo_person"
    " WHERE company_id = :company) AS ranked WHERE (place - 1) / :step * :step = place - 1 ORDER BY id"
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
TOUCH_PERSON = "UPDATE leeloo_person SET last_message_time = :now WHERE id = :person"

STATEMENTS = {
    name: value for name, value in dict(globals()).items() if name.isupper() and isinstance(value, str)
}


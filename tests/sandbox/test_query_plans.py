"""Every query that a request (or a flow, once per record) runs reads through an index.

Each per-record call is made over HTTP while the engine's statements are recorded; each
statement that reads or changes rows is then explained (``EXPLAIN QUERY PLAN`` on SQLite,
``EXPLAIN`` on PostgreSQL with sequential scans priced out, so a scan shows only where no
index can serve) and must not scan a table. The fast lane's hand-written statements
(fastsql.py) are explained the same way, each one of them. A query whose cost grows with
the data cannot come back unseen.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from leeloo_support import DEMO_COMPANY, PLACEHOLDER, create_person
from sqlalchemy import event, select

from leadbridge.sandbox import fastsql
from leadbridge.sandbox import schema as s
from leadbridge.sandbox.server import RunningSandbox
from leadbridge.sandbox.state import _NAMED_PARAMETER, statement_watchers

TABLES = frozenset(s.Base.metadata.tables)
# Tables that grow with the data: on these, an index search on the company alone walks every
# row of the tenant, a scan all the same (on the small per-company catalogues it is not).
GROWING = frozenset({"leeloo_person", "leeloo_account", "leeloo_message", "leeloo_subscription", "leeloo_order",
                     "leeloo_comment", "leeloo_call", "leeloo_person_tag", "leeloo_contacted_user", "neiros_deal",
                     "dialog_campaign_phone", "dialog_call"})
# A table scan in each dialect's plan: "SCAN leeloo_person" (also "... USING INDEX", a walk of
# a whole index) on SQLite, "Seq Scan on leeloo_person" on PostgreSQL; and a search of a
# growing table on its company alone, or on its tunnel alone (a company has a few tunnels, so
# each holds a large share of its subscriptions and orders).
SQLITE_SCAN = re.compile(r"^SCAN (\w+)")
SQLITE_TENANT_WALK = re.compile(r"^SEARCH (\w+) USING (?:COVERING )?INDEX \w+ \((?:company_id|tunnel_id)=\?\)$")
PG_SCAN = re.compile(r"Seq Scan on (\w+)")
PG_INDEX_NODE = re.compile(r"Index (?:Only )?Scan(?: Backward)? using \w+ on (\w+)|Bitmap Index Scan on \w+")
PG_TENANT_WALK = re.compile(r"^\s*Index Cond: \(\(?(?:company_id|tunnel_id)\)?(?:::text)? = [^)]*\)$")
Recorded = list[tuple[str, Any]]


@contextmanager
def recording(live: RunningSandbox) -> Iterator[Recorded]:
    statements: Recorded = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().split(None, 1)[0].upper() in ("SELECT", "UPDATE", "DELETE", "WITH"):
            statements.append((statement, parameters))

    def record_hand_written(statement: str, parameters: dict[str, Any]) -> None:
        record(None, None, statement, dict(parameters), None, False)

    event.listen(live.sandbox.engine, "before_cursor_execute", record)
    statement_watchers.append(record_hand_written)
    try:
        yield statements
    finally:
        event.remove(live.sandbox.engine, "before_cursor_execute", record)
        statement_watchers.remove(record_hand_written)


@pytest.fixture(autouse=True, scope="module")
def statistics(live: RunningSandbox) -> None:
    """PostgreSQL plans by its statistics: without them it may pick any index of the table."""
    if live.sandbox.engine.dialect.name == "postgresql":
        with live.sandbox.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def scans(live: RunningSandbox, statement: str, parameters: Any, *, tenant_walk: bool = False) -> list[str]:
    """The tables the statement's plan scans whole (``tenant_walk``: a walk of one company's
    rows on its index is allowed)."""
    engine = live.sandbox.engine
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            plan = [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
            found = [m[1] for line in plan if (m := SQLITE_SCAN.match(line))]
            found += [m[1] for line in plan
                      if (m := SQLITE_TENANT_WALK.match(line)) and m[1] in GROWING and not tenant_walk]
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = [row[0] for row in conn.exec_driver_sql("EXPLAIN " + statement, parameters)]
            conn.exec_driver_sql("RESET enable_seqscan")
            found = [m[1] for line in plan if (m := PG_SCAN.search(line))]
            table = None
            for line in plan:
                if node := PG_INDEX_NODE.search(line):
                    table = node[1]
                elif table in GROWING and PG_TENANT_WALK.match(line) and not tenant_walk:
                    found.append(table)
        conn.rollback()
    return [table for table in found if table in TABLES]


def assert_indexed(live: RunningSandbox, statements: Recorded, *, tenant_walk: bool = False) -> None:
    assert statements, "no statement was recorded"
    for statement, parameters in statements:
        scanned = scans(live, statement, parameters, tenant_walk=tenant_walk)
        assert not scanned, f"{statement!r} scans {scanned}"


def driver_form(live: RunningSandbox, sql: str, params: dict[str, Any]) -> tuple[str, Any]:
    if live.sandbox.engine.dialect.name == "sqlite":
        return sql, params
    return _NAMED_PARAMETER.sub(r"%(\1)s", sql), params


def demo_ids(live: RunningSandbox) -> dict[str, Any]:
    with live.sandbox.read() as session:
        person, account = session.execute(
            select(s.Account.person_id, s.Account.id).where(s.Account.company_id == DEMO_COMPANY)
            .order_by(s.Account.id).limit(1)).one()
        deal, site = session.execute(select(s.Deal.id, s.Deal.site_id).where(s.Deal.company_id == DEMO_COMPANY)
                                     .order_by(s.Deal.id).limit(1)).one()
        user = session.scalar(select(s.User.id).where(s.User.company_id == DEMO_COMPANY).order_by(s.User.id))
        tag = session.scalar(select(s.Tag.id).where(s.Tag.company_id == DEMO_COMPANY).order_by(s.Tag.id))
    return {"person": person, "account": account, "deal": deal, "site": site, "user": user, "tag": tag}


ORDER = {"personId": PLACEHOLDER, "offerId": "5e3c357bf04b1f000c27b83a", "paymentCreditsId": "5e3c3533f04b1f000c27b534"}


def leeloo_calls(ids: dict[str, Any]) -> dict[str, Callable[[httpx.Client], httpx.Response]]:
    person, account = ids["person"], ids["account"]
    return {
        "phone lookup": lambda c: c.get("/api/v2/people", params={"filter[phone]": "+79001234567"}),
        "email lookup": lambda c: c.get("/api/v2/people", params={"filter[email]": "someone@example.com"}),
        "people create": lambda c: c.post("/api/v2/people", json={
            "name": "План", "phone": "+79990000001", "leadgentool_id": "609290d3e060416cdea6823e"}),
        "person card": lambda c: c.get(f"/api/v2/people/{person}", params={"include": "orders,contactedUsers"}),
        "person update": lambda c: c.put(f"/api/v2/people/{person}", json={"email": "plan@example.com"}),
        "add-comment": lambda c: c.put(f"/api/v2/people/{person}/add-comment", json={"comment": "план"}),
        "add-tag": lambda c: c.put(f"/api/v2/people/{person}/add-tag", json={"tag_id": ids["tag"]}),
        "account card (v1)": lambda c: c.get(f"/api/v1/accounts/{account}"),
        "person of a channel": lambda c: c.get(f"/api/v2/communication-channels/{account}/person"),
        "call": lambda c: c.post("/api/v2/calls", json={
            "user_id": ids["user"], "account_id": account, "from": "+79990000001", "to": "+79990000002",
            "date": "2026-11-01T10:00:00.000Z", "record_link": "https://example.com/r.mp3", "status": "SUCCESS",
            "duration": 10, "type": "OUTBOUND"}),
        "order create": lambda c: c.post("/api/v2/orders", json=ORDER),
    }


@pytest.mark.parametrize("name", list(leeloo_calls({k: "" for k in ("person", "account", "user", "tag")})))
def test_leeloo_per_record_calls_use_indexes(live: RunningSandbox, leeloo: httpx.Client, name: str) -> None:
    call = leeloo_calls(demo_ids(live))[name]
    with recording(live) as statements:
        response = call(leeloo)
    assert response.status_code < 300, response.text
    assert_indexed(live, statements)


@pytest.mark.parametrize("path", [f"/api/v2/tunnels/{PLACEHOLDER}/stats", "/api/v2/tunnels/stats"])
def test_tunnel_stats_read_their_kept_row(live: RunningSandbox, leeloo: httpx.Client, path: str) -> None:
    """Kept by the writes: the stats read a row by its key, and none of the subscriptions and
    orders they count (an index search on the tunnel would still read every one of its rows)."""
    with recording(live) as statements:
        response = leeloo.get(path)
    assert response.status_code == 200, response.text
    assert_indexed(live, statements)
    read = {table for sql, _ in statements for table in re.findall(r"\b(?:FROM|JOIN) (\w+)", sql)}
    assert "leeloo_tunnel_stats" in read and not read & GROWING, read


def test_an_order_paid_counts_its_sale_through_indexes(live: RunningSandbox, leeloo: httpx.Client) -> None:
    order = leeloo.post("/api/v2/orders", json=ORDER).json()["data"]
    with recording(live) as statements:
        response = leeloo.post(f"/api/v2/orders/{order['id']}", json={"status": "RESOLVED"})
    assert response.status_code == 200, response.text
    assert any("leeloo_tunnel_stats" in sql for sql, _ in statements)
    assert_indexed(live, statements)


def test_phone_lookup_of_an_existing_person_uses_the_phone_index(live: RunningSandbox,
                                                                 leeloo: httpx.Client) -> None:
    person = create_person(leeloo)
    with recording(live) as statements:
        found = leeloo.get("/api/v2/people", params={"filter[phone]": person["phone"], "limit": 1}).json()
    assert [p["id"] for p in found["data"]] == [person["person_id"]]
    assert_indexed(live, statements)


def test_neiros_deal_pages_and_deal_calls_use_indexes(live: RunningSandbox, neiros: httpx.Client) -> None:
    ids = demo_ids(live)
    base = "/api/userapi/v1"
    window = {"site_id": ids["site"], "date_start": "2020-01-01", "date_end": "2026-12-31"}
    with recording(live) as statements:
        first = neiros.get(f"{base}/projects", params={**window, "page": 1})
        with recording(live) as second_page:
            second = neiros.get(f"{base}/projects", params={**window, "page": 2})
        deal = neiros.get(f"{base}/project/{ids['deal']}", params={"site_id": ids["site"]})
        update = neiros.post(f"{base}/project/{ids['deal']}/update", data={"site_id": ids["site"], "summ": 10})
    assert first.status_code == second.status_code == deal.status_code == update.status_code == 200
    assert_indexed(live, statements)
    # The walk's second page seeks past the first page's last deal: no COUNT again, no OFFSET to walk.
    deals_read = [sql.lower() for sql, _ in second_page if "neiros_deal" in sql]
    assert len(deals_read) == 1 and "count(" not in deals_read[0] and "neiros_deal.id >" in deals_read[0]
    assert first.json()["total"] == second.json()["total"] > 15
    assert {d["id"] for d in first.json()["data"]["projects"]}.isdisjoint(
        d["id"] for d in second.json()["data"]["projects"])


def test_every_fast_lane_statement_uses_indexes(live: RunningSandbox) -> None:
    ids = demo_ids(live)
    params = {"company": DEMO_COMPANY, "limit": 20, "offset": 5, "step": 1000, "anchor": ids["person"],
              "account": ids["account"], "person": ids["person"], "now": "2026-11-01 00:00:00.000000",
              "id": "f" * 24, "text": "", "type": "BOT_MESSAGE", "read": True, "created_by": None,
              "template_id": None, "tunnel": PLACEHOLDER, "leadgentool": "f" * 24, "messenger": "SMS",
              "phone": "+79001234567", "connection": "f" * 24, "tag": ids["tag"], "custom_fields": "[]",
              "search_text": "", "email": None, "status": "RESOLVED", "comments": None, "payment_date": None,
              "currency": None, "price": None, "summ": 10, "deal": ids["deal"], "site": ids["site"],
              "dialog_project": 1, "start_block": 10, "caller_phone": 5, "key": "clock_offset_seconds", "base": 12345,
              "campaign": 12345, "row": "*", "other_row": PLACEHOLDER, "amount": 1.5,
              "first": PLACEHOLDER, "other_first": "*", "last": ids["person"], "value": "+79001234567"}
    assert set(fastsql.STATEMENTS) >= {"PEOPLE_PAGE", "CHAT_PAGE", "TOUCH_ACCOUNT", "INSERT_MESSAGE"}
    for name, sql in fastsql.STATEMENTS.items():
        if "{marks}" in sql:
            sql, extra = fastsql.in_list(sql, [ids["person"], PLACEHOLDER])
            params = {**params, **extra}
        if sql.startswith("INSERT"):
            continue  # inserts a row by its values: nothing to read
        statement, bound = driver_form(live, sql, params)
        # Walks of the company's people in id order, on the (company_id, id) index: the first pages
        # (an offset below models.ANCHOR_STEP), and the anchors, read once and kept until people are
        # added or removed.
        scanned = scans(live, statement, bound, tenant_walk=name in ("PEOPLE_PAGE", "PEOPLE_ANCHORS"))
        assert not scanned, f"fastsql.{name} scans {scanned}"


@pytest.mark.parametrize("path", ["/api/v2/communication-channels?limit=20&offset=20",
                                  "/api/v2/orders?limit=20&offset=20", "/api/v1/accounts?limit=20&offset=20"])
def test_list_pages_read_in_index_order(live: RunningSandbox, leeloo: httpx.Client, path: str) -> None:
    """A list's page is read from an index in the list's order (a walk of the company's rows on
    it, stopped by LIMIT): no table scan, and no sort of every row of the company for each page."""
    with recording(live) as statements:
        response = leeloo.get(path)
    assert response.status_code == 200, response.text
    pages = [(sql, params) for sql, params in statements if "count(" not in sql.lower()]
    assert_indexed(live, pages, tenant_walk=True)
    if live.sandbox.engine.dialect.name == "sqlite":  # the page itself (then its records' tags, a page's worth)
        sql, params = pages[0]
        with live.sandbox.engine.connect() as conn:
            plan = [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)]
        assert not any("TEMP B-TREE" in line for line in plan), (sql, plan)




def test_people_page_reads_its_accounts_and_tags_as_index_ranges(live: RunningSandbox) -> None:
    """A page's accounts and tags each come from one range of person ids, read first: one seek
    for the page, not one per person nor a walk of every person carrying one of the company's
    tags; the accounts from their index alone, already in the page's order. (PostgreSQL picks
    among its indexes by its statistics; the test of every fast-lane statement holds it to
    reading through one.)"""
    if live.sandbox.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's plan: PostgreSQL's depends on its statistics")
    ids = demo_ids(live)
    bound = {"company": DEMO_COMPANY, "first": ids["person"], "last": PLACEHOLDER}
    with live.sandbox.engine.connect() as conn:
        accounts, tags = ([row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, bound)]
                          for sql in (fastsql.PAGE_ACCOUNTS, fastsql.PAGE_TAGS))
    assert accounts == ["SEARCH leeloo_account USING COVERING INDEX ix_account_company_person_page "
                        "(company_id=? AND person_id>? AND person_id<?)"]
    assert tags[0].startswith("SEARCH pt USING COVERING INDEX") and tags[0].endswith("(person_id>? AND person_id<?)")

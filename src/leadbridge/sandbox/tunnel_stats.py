"""Leeloo's tunnel stats, kept by the writes: one row a tunnel and one a company (``schema.TunnelStats``).

A stats call reads one row by its primary key, however many subscriptions and orders the
company has. Each write that changes a figure moves the rows in its own transaction: a
subscription added (:func:`count_new_subscription`), an order added (:func:`count_new_order`),
an order paid (:func:`count_sale`). Traffic sources' counters change only when seeded, and a
source added through the API starts at zero. :func:`recount` computes every row from the
tables: once when a seeding ends (the rows went in without these functions) and when the
migration that made the table fills it.

Distinct people (uniqSubscribers, uniqSales): a write first adds to the counts, which on
PostgreSQL locks the rows until it commits, and only then asks whether the person already had a
subscription (a paid order) there. A concurrent write of the same tunnel waits on that lock and
asks after this one committed, seeing its row (READ COMMITTED reads afresh each statement), so
no person is counted twice. SQLite serializes writes anyway.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, case, delete, distinct, func, insert, select
from sqlalchemy.orm import Session

from leadbridge.sandbox import fastsql
from leadbridge.sandbox import schema as s
from leadbridge.sandbox.state import RawTransaction, run_sql

Writer = Session | RawTransaction  # a write's transaction, either kind

# Tunnel stats report totalSale in USD; orders in other currencies are converted with
# this fixed table (USD per unit), so the figures are reproducible.
USD_RATES = {"USD": 1.0, "EUR": 1.08, "UAH": 0.024, "RUB": 0.011}
PAID_STATUSES = ("RESOLVED", "SUCCESS")  # a sale (also spelled in fastsql.PAID_BEFORE)

FIGURES = ("subscribers", "uniq_subscribers", "orders", "sales", "uniq_sales", "total_sale",
           "visits", "uniq_visits", "shows", "uniq_shows", "expenses")
TRAFFIC = ("visits", "uniq_visits", "shows", "uniq_shows", "expenses")


def usd(price: float, currency: str) -> float:
    return price * USD_RATES.get(currency, 1.0)


def _rows_of(tunnel_id: str | None) -> list[str]:
    """The rows an object of this tunnel counts in: the company's, and its tunnel's if it has one."""
    return [s.ALL_TUNNELS] if tunnel_id is None else [s.ALL_TUNNELS, tunnel_id]


def _add(target: Writer, sql: str, company_id: str, rows: list[str], amount: float = 0) -> None:
    if rows:
        run_sql(target, sql, {"company": company_id, "row": rows[0], "other_row": rows[-1], "amount": amount})


def _firsts(target: Writer, sql: str, person_id: str, tunnel_id: str | None) -> list[str]:
    """Of the rows an object of ``tunnel_id`` counts in, those where the person had none before
    (``sql``: whether the person had any such object, and whether one in the tunnel)."""
    had_any, had_in_tunnel = run_sql(target, sql, {"person": person_id, "tunnel": tunnel_id})[0]
    if not had_any:
        return _rows_of(tunnel_id)
    return [] if tunnel_id is None or had_in_tunnel else [tunnel_id]


def count_new_subscription(target: Writer, company_id: str, person_id: str, tunnel_id: str, *,
                           new_person: bool = False) -> None:
    """A subscription of the person to the tunnel is about to be inserted. ``new_person``: the
    person was added by this very write, so no other can have subscribed them anywhere before.

    In one statement where no concurrent write can count the person too: a new person, or
    SQLite, which runs one write at a time (asked first, counted after). On PostgreSQL an
    existing person is counted in two steps, as this module's docstring explains."""
    rows = _rows_of(tunnel_id)
    if not new_person and _dialect(target) != "sqlite":
        _add(target, fastsql.STATS_ADD_SUBSCRIBER, company_id, rows)
        _add(target, fastsql.STATS_ADD_UNIQ_SUBSCRIBER, company_id,
             _firsts(target, fastsql.SUBSCRIBED_BEFORE, person_id, tunnel_id))
        return
    firsts = rows if new_person else _firsts(target, fastsql.SUBSCRIBED_BEFORE, person_id, tunnel_id)
    run_sql(target, fastsql.STATS_ADD_SUBSCRIBER_COUNTED, {
        "company": company_id, "row": rows[0], "other_row": rows[-1],
        "first": firsts[0] if firsts else None, "other_first": firsts[-1] if firsts else None})


def _dialect(target: Writer) -> str:
    return target.dialect if isinstance(target, RawTransaction) else target.connection().dialect.name


def count_new_order(target: Writer, company_id: str, tunnel_id: str | None) -> None:
    _add(target, fastsql.STATS_ADD_ORDER, company_id, _rows_of(tunnel_id))


def count_sale(target: Writer, company_id: str, person_id: str | None, tunnel_id: str | None,
               price: float, currency: str) -> None:
    """An order of the person is about to become paid, at this price."""
    _add(target, fastsql.STATS_ADD_SALE, company_id, _rows_of(tunnel_id), usd(price, currency))
    if person_id is None:
        return  # counted among the sales, but no one's
    _add(target, fastsql.STATS_ADD_UNIQ_SALE, company_id, _firsts(target, fastsql.PAID_BEFORE, person_id, tunnel_id))


def read(session: Session, company_id: str, tunnel_id: str) -> dict[str, Any]:
    """The figures of the tunnel (or of :data:`schema.ALL_TUNNELS`), by the table's names."""
    stats = s.TunnelStats
    row = session.execute(select(*(getattr(stats, name) for name in FIGURES))
                          .where(stats.company_id == company_id, stats.tunnel_id == tunnel_id)).one()
    return dict(zip(FIGURES, row, strict=True))


def recount(conn: Connection) -> None:
    """Every company's rows, computed afresh from the tables: a row for each tunnel and the
    company's, zero where nothing is counted. Sums of amounts are taken exactly (``math.fsum``),
    so one seed gives the same rows on SQLite and PostgreSQL, whatever order each adds in."""
    figures: dict[tuple[str, str], dict[str, float]] = {
        (company_id, s.ALL_TUNNELS): dict.fromkeys(FIGURES, 0) for company_id in conn.scalars(select(s.Company.id))}
    for company_id, tunnel_id in conn.execute(select(s.Tunnel.company_id, s.Tunnel.id)):
        figures[company_id, tunnel_id] = dict.fromkeys(FIGURES, 0)

    def rows_of(company_id: str, tunnel_id: str | None) -> list[tuple[str, str]]:
        # An object of no tunnel (or of one no longer there) counts in its company's row only.
        return [key for row in _rows_of(tunnel_id) if (key := (company_id, row)) in figures]

    paid = s.Order.status.in_(PAID_STATUSES)
    # Each table's figures in one pass of it by tunnel and one by company (a sale: a paid order).
    counts: list[tuple[Any, dict[str, Any]]] = [
        (s.Subscription, {"subscribers": func.count(),
                          "uniq_subscribers": func.count(distinct(s.Subscription.person_id))}),
        (s.Order, {"orders": func.count(), "sales": func.count(case((paid, 1))),
                   "uniq_sales": func.count(distinct(case((paid, s.Order.person_id))))}),
    ]
    for model, named in counts:
        by_tunnel = select(model.company_id, model.tunnel_id, *named.values()) \
            .group_by(model.company_id, model.tunnel_id)
        for company_id, tunnel_id, *numbers in conn.execute(by_tunnel):
            if (company_id, tunnel_id) in figures:
                figures[company_id, tunnel_id].update(zip(named, numbers, strict=True))
        by_company = select(model.company_id, *named.values()).group_by(model.company_id)
        for company_id, *numbers in conn.execute(by_company):
            figures[company_id, s.ALL_TUNNELS].update(zip(named, numbers, strict=True))
    amounts: dict[tuple[str, str], list[float]] = defaultdict(list)
    for company_id, order_tunnel, price, currency in conn.execute(
            select(s.Order.company_id, s.Order.tunnel_id, s.Order.price, s.Order.currency).where(paid)):
        for key in rows_of(company_id, order_tunnel):
            amounts[key].append(usd(price, currency))
    expenses: dict[tuple[str, str], list[float]] = defaultdict(list)
    traffic = select(s.TrafficSource.company_id, s.TrafficSource.tunnel_id,
                     *(getattr(s.TrafficSource, name) for name in TRAFFIC))
    for company_id, source_tunnel, *values in conn.execute(traffic):
        for key in rows_of(company_id, source_tunnel):
            for name, value in zip(TRAFFIC[:-1], values[:-1], strict=True):
                figures[key][name] += value
            expenses[key].append(values[-1])
    for key, row in figures.items():
        row["total_sale"] = math.fsum(amounts[key])
        row["expenses"] = math.fsum(expenses[key])
    conn.execute(delete(s.TunnelStats))
    if figures:  # none in a database not seeded yet
        conn.execute(insert(s.TunnelStats), [{"company_id": company_id, "tunnel_id": tunnel_id, **values}
                                              for (company_id, tunnel_id), values in figures.items()])

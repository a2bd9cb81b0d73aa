"""revenue-to-neiros: paid Leeloo orders → the sum of the person's Neiros deal.

Units: one ``order`` per paid order seen (a log: an order without a person is skipped
with a message) and one ``person`` per person with paid orders, carrying the total. When
a total changes, the person's unit is reopened with the new total. Setting a deal's sum
is repeatable and the current sum is read first, so the sum is written only when it
changes and an interrupted write is simply made again.

Neiros cannot search deals by phone, so the phones of deals (which never change) are
kept in the deal index (``deal_index.py``), filled from ``deals.get`` once per deal.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from leadbridge.errors import ResponseValidationError
from leadbridge.flows import deal_index
from leadbridge.flows.config import RevenueToNeirosConfig, parse_duration
from leadbridge.flows.context import FlowContext
from leadbridge.flows.engine import (
    READ_CONCURRENCY,
    READ_PAGE,
    RECORD_CHUNK,
    FlowReport,
    Skip,
    Step,
    StepFailed,
    chunked,
    parallel,
    perform_steps,
)
from leadbridge.flows.ledger import NewUnit, Unit
from leadbridge.flows.phones import normalise

FLOW = "revenue-to-neiros"


def _config(ctx: FlowContext) -> RevenueToNeirosConfig:
    section = ctx.config.flows.revenue_to_neiros
    assert section is not None
    return section


def _status(order: Any) -> str:
    status = order.status
    return str(getattr(status, "value", status))


def _no_orders() -> dict[str, Any]:
    return {"total": 0.0, "orders": 0, "last_order_at": None}


def _add_order(entry: dict[str, Any], order: Any) -> None:
    entry["total"] = round(entry["total"] + float(order.price or 0), 2)
    entry["orders"] += 1
    created = order.created_at.replace(tzinfo=None).isoformat() if order.created_at else None
    if created and (entry["last_order_at"] is None or created > entry["last_order_at"]):
        entry["last_order_at"] = created


def paid_orders(cfg: RevenueToNeirosConfig, orders: Iterable[Any]) -> list[Any]:
    """The orders in one of ``paid_statuses``."""
    paid = set(cfg.paid_statuses)
    return [order for order in orders if order.id is not None and _status(order) in paid]


def person_total(orders: Iterable[Any]) -> dict[str, Any]:
    """A person's revenue unit payload from their paid orders, exactly as :func:`collect_totals` builds it."""
    entry = _no_orders()
    for order in orders:
        _add_order(entry, order)
    return entry


def collect_totals(ctx: FlowContext, cfg: RevenueToNeirosConfig,
                   report: FlowReport) -> dict[str, dict[str, Any]]:
    """Person id → total of paid orders and the time of the latest; orders are logged as units."""
    paid = set(cfg.paid_statuses)
    totals: dict[str, dict[str, Any]] = {}
    bar = ctx.bar("revenue-to-neiros: reading Leeloo orders")
    orders = ctx.leeloo.orders.iter(page_size=READ_PAGE, concurrency=READ_CONCURRENCY)
    for chunk in chunked(bar.track(orders), RECORD_CHUNK):
        units = []
        for order in chunk:
            if _status(order) not in paid or order.id is None:
                continue
            if not order.person_id:
                units.append(NewUnit(order.id, {"price": order.price}, state="skipped",
                                     error="paid order without a person: its sum cannot reach Neiros"))
                continue
            _add_order(totals.setdefault(order.person_id, _no_orders()), order)
            units.append(NewUnit(order.id, {"person_id": order.person_id, "price": order.price}, state="done"))
        if ctx.dry_run:
            continue
        added = ctx.ledger.add_units(FLOW, "order", units)
        report.count("new paid orders", sum(1 for u in added.added if u.state == "done"))
        for unit in added.added:
            if unit.state == "skipped":
                report.count("orders without a person")
                report.note("warning", f"order {unit.key}: {unit.error}")
    bar.done()
    return totals


def index_deals(ctx: FlowContext, cfg: RevenueToNeirosConfig, report: FlowReport) -> list[int]:
    """Fill the deal index with the window's deals not indexed yet; returns the sites searched."""
    now = ctx.now()
    start = (now - parse_duration(cfg.window)).date()
    sites = cfg.sites or [site.id for site in ctx.neiros.sites.list()]
    region = ctx.config.phones.default_region
    bar = ctx.bar("revenue-to-neiros: indexing Neiros deals")
    for site_id in sites:
        for chunk in chunked(ctx.neiros.deals.iter(site_id, start, now.date()), 200):
            known = deal_index.indexed(ctx.ledger, site_id, [deal.id for deal in chunk])
            missing = [deal.id for deal in chunk if deal.id not in known]

            def fetch(deal_id: int, site_id: int = site_id) -> deal_index.IndexedDeal:
                deal = ctx.neiros.deals.get(deal_id, site_id)
                created = deal.created_at.replace(tzinfo=None) if deal.created_at else datetime.min
                return site_id, deal_id, normalise(deal.phone, region).e164, created

            rows = list(parallel(missing, fetch, ctx.parallelism))  # reads only: nothing deferred
            deal_index.add(ctx.ledger, rows)
            report.count("deals indexed", len(rows))
            bar.advance(len(chunk))
    bar.done()
    return sites


def attribute(cfg: RevenueToNeirosConfig, deals: list[tuple[int, int, datetime]],
              last_order_at: str | None) -> tuple[int, int] | None:
    """The deal an order's revenue belongs to, by the configured rule (deals oldest first)."""
    if not deals:
        return None
    if cfg.attribution == "first":
        site, deal, _ = deals[0]
        return site, deal
    if cfg.attribution == "last" or last_order_at is None:
        site, deal, _ = deals[-1]
        return site, deal
    moment = datetime.fromisoformat(last_order_at)
    before = [d for d in deals if d[2] <= moment]
    if not before:
        return None
    site, deal, _ = before[-1]
    return site, deal


def process(ctx: FlowContext, cfg: RevenueToNeirosConfig, unit: Unit, sites: list[int],
            report: FlowReport) -> dict[str, Any]:
    person = ctx.leeloo.people.get(unit.key)
    phone = normalise(person.phone, ctx.config.phones.default_region)
    if phone.e164 is None:
        raise Skip(phone.problem or "no phone number")
    deals = deal_index.by_phone(ctx.ledger, phone.e164, sites)
    target = attribute(cfg, deals, unit.payload.get("last_order_at"))
    if target is None:
        raise Skip(f"{phone.e164}: no Neiros deal "
                   f"{'before the order' if deals else 'with this phone'} in the window")
    site_id, deal_id = target
    total = float(unit.payload["total"])
    outcome: dict[str, Any] = {"site_id": site_id, "deal_id": deal_id, "summ": total}

    def set_sum() -> dict[str, Any]:
        try:
            current = ctx.neiros.deals.get(deal_id, site_id).summ
        except ResponseValidationError as exc:
            # The read, not the write, was unreadable: the sum is not set, so the step must not pass for done.
            raise StepFailed(f"reading deal {deal_id} before setting its sum: {exc}") from exc
        if current is not None and abs(float(current) - total) < 0.005:
            report.count("deal sums already right")
            return {"unchanged": True}
        ctx.neiros.deals.update_sum(deal_id, site_id, total)
        report.count("deal sums updated")
        return {"previous": current}

    perform_steps(ctx.ledger, unit, [Step(f"sum:{site_id}:{deal_id}:{total}", set_sum, repeatable=True,
                                          label="deal sums checked")], report)
    return outcome


def run(ctx: FlowContext) -> FlowReport:
    cfg = _config(ctx)
    report = ctx.report(FLOW)
    if not ctx.dry_run:
        report.count("claims of stopped runners recovered", ctx.ledger.reclaim_stale(FLOW))
        ctx.ledger.retry_failed(FLOW, "person")
    totals = collect_totals(ctx, cfg, report)
    units = [NewUnit(person, entry) for person, entry in totals.items()]
    if ctx.dry_run:
        known = ctx.ledger.known_keys(FLOW, "person", list(totals))
        report.count("people whose revenue would be sent", sum(1 for u in units if u.key not in known))
        return report
    for chunk in chunked(units, RECORD_CHUNK):
        added = ctx.ledger.add_units(FLOW, "person", chunk)
        report.count("people with new revenue", len(added.added))
        new = {u.key for u in added.added}
        for unit in chunk:
            if unit.key not in new and ctx.ledger.reopen(FLOW, "person", unit.key, unit.payload):
                report.count("people whose revenue changed")
    sites = index_deals(ctx, cfg, report)
    ctx.settle_claims(FLOW, "person", "revenue-to-neiros: setting deal sums", report,
                      lambda unit: process(ctx, cfg, unit, sites, report), lambda unit: f"person {unit.key}", 100)
    return report

"""Leeloo's sales: leadgentool traffic sources, manual orders, tunnels and their computed stats."""

from __future__ import annotations

import secrets
import string
from datetime import datetime
from typing import Any

from sqlalchemy import select

from leadbridge.sandbox import fastsql, tunnel_stats
from leadbridge.sandbox import schema as s
from leadbridge.sandbox.leeloo import bodies
from leadbridge.sandbox.leeloo.backend.core import (
    SYSTEM_MESSAGE,
    Backend,
    api_user,
    append_messages,
    company_page,
    defined,
    find,
    lookup,
    money,
)
from leadbridge.sandbox.state import RawTransaction, db_optional_time, db_time, run_sql
from leadbridge.sandbox.webhooks import emit
from leadbridge.sandbox.wire import ApiError, iso, new_oid

MANUAL = "MANUAL"


def _order_brief(row: Any) -> dict[str, Any]:
    return {"id": row.id, "title": row.title, "price": money(row.price), "currency": row.currency,
            "status": row.status, "createdAt": iso(row.created_at), "updatedAt": iso(row.updated_at)}


def _notify(transaction: RawTransaction, company_id: str, person_id: str | None, messages: list[tuple[str, str]],
            now: datetime, *, person_touched: bool = False) -> str | None:
    """The messages put in the person's account with the latest conversation, where notices of
    their orders go (found and touched in one statement); that account, if the person has one.
    ``person_touched``: the person's last message moved already (``fastsql.PERSON_OF_ORDER``)."""
    rows = run_sql(transaction, fastsql.TOUCH_LATEST_ACCOUNT,
                   {"person": person_id, "now": db_time(transaction, now)}) if person_id else []
    if not rows:
        return None
    account_id: str = rows[0][0]
    append_messages(transaction, company_id, account_id, messages, now, touched_person=person_id,
                    person_touched=person_touched)
    return account_id


ORDER_LIST_COLUMNS = (s.Order.id, s.Order.person_id, s.Order.title, s.Order.price, s.Order.currency,
                      s.Order.status, s.Order.created_at, s.Order.updated_at)


TUNNEL_INCLUDES = frozenset({"leadgentools", "blocks"})


def _tunnel_dict(r: Any) -> dict[str, Any]:
    return {"id": r.id, "name": r.name, "createdAt": iso(r.created_at), "updatedAt": iso(r.updated_at)}


TUNNEL_COLUMNS = (s.Tunnel.id, s.Tunnel.name, s.Tunnel.created_at, s.Tunnel.updated_at)


class SalesBackend(Backend):
    """Traffic sources, orders and tunnels."""

    def create_traffic_source(self, company_id: str, leadgentool_id: str,
                              body: bodies.CreateTrafficSource) -> dict[str, Any]:
        now = self.now()
        with self._write(company_id) as transaction:
            created_by = api_user(self.sandbox, transaction, company_id)
            leadgentool_id, tunnel_id = lookup(transaction, fastsql.LEADGENTOOL_OF_COMPANY, company_id,
                                               leadgentool_id, what="Leadgentool")
            source_id = new_oid(now)
            source_hash = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(6))
            resubscribe_button_id = new_oid(now)
            run_sql(transaction, fastsql.INSERT_TRAFFIC_SOURCE, {
                "id": source_id, "company": company_id, "leadgentool": leadgentool_id, "tunnel": tunnel_id,
                "name": body.name, "description": body.description, "hash": source_hash,
                "resubscribe_button": resubscribe_button_id, "created_by": created_by,
                "now": db_time(transaction, now),
            })
            return {
                "type": "normal", "fb_adset_id": None, "name": body.name, "description": body.description,
                "synchronized_with_fb": False, "synchronization_error": False, "disabled": False,
                "company_id": company_id, "leadgentool_id": leadgentool_id, "tunnel_id": tunnel_id,
                "created_by": created_by, "hash": source_hash, "resubscribe_button_id": resubscribe_button_id,
                "createdAt": iso(now), "updatedAt": iso(now), "id": source_id,
            }

    def create_order(self, company_id: str, body: bodies.CreateOrder) -> dict[str, Any]:
        """POST /api/v2/orders: an OPENED manual order for the person, priced by the offer."""
        now = self.now()
        with self._write(company_id) as transaction:
            # The person checked by touching it (one statement; a later refusal rolls it back).
            person = run_sql(transaction, fastsql.PERSON_OF_ORDER,
                             {"id": body.personId, "company": company_id, "now": db_time(transaction, now)})
            if not person:
                raise ApiError(404, "Person not found", field="personId")
            person_id, person_email, person_phone = person[0]
            offer_id, title, description, price, currency, tunnel_id = self._seeded(
                transaction, "leeloo_offer", fastsql.OFFER_OF_COMPANY, company_id, body.offerId, what="Offer",
                field="offerId")
            credits_id, payment_method = self._seeded(
                transaction, "leeloo_payment_credits", fastsql.PAYMENT_CREDITS_OF_COMPANY, company_id,
                body.paymentCreditsId, what="Payment system", field="paymentCreditsId")
            if payment_method != MANUAL:
                raise ApiError(422, "paymentCreditsId is not a manual payment system", field="paymentCreditsId")
            if body.managerId is not None:
                lookup(transaction, fastsql.USER_OF_COMPANY, company_id, body.managerId, what="User",
                       field="managerId")
            order_id = new_oid(now)
            email, phone = body.email or person_email, body.phone or person_phone
            tunnel_stats.count_new_order(transaction, company_id, tunnel_id)
            run_sql(transaction, fastsql.INSERT_ORDER, {
                "id": order_id, "company": company_id, "person": person_id, "offer": offer_id, "tunnel": tunnel_id,
                "title": title, "description": description, "price": price, "currency": currency,
                "payment_method": MANUAL, "payment_credits": credits_id, "manager": body.managerId,
                "email": email, "phone": phone, "notify": body.isNotifyAccount,
                "transaction_date": db_time(transaction, body.transactionDate or now),
                "now": db_time(transaction, now),
            })
            messages = [("", SYSTEM_MESSAGE)]
            if body.isNotifyAccount:
                messages.append((f"Ваш заказ «{title}» на сумму {money(price)} {currency} создан.", "BOT_MESSAGE"))
            account_id = _notify(transaction, company_id, person_id, messages, now, person_touched=True)
            emit(transaction, company_id, "ORDER", lambda: {
                "order_id": order_id, "account_id": account_id, "offer_name": title, "price": money(price),
                "currency": currency, "email": defined(email), "phone": defined(phone), "created_at": iso(now)})
            return {"id": order_id, "title": title, "price": money(price), "currency": currency,
                    "status": "OPENED", "createdAt": iso(now), "updatedAt": iso(now)}

    def list_orders(self, company_id: str, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        with self.sandbox.read() as session:
            rows, total = company_page(self.sandbox, session, company_id, s.Order, ORDER_LIST_COLUMNS,
                                       (s.Order.created_at.desc(), s.Order.id.desc()), limit, offset)
            return [{"person_id": r.person_id, **_order_brief(r)} for r in rows], total

    def get_order(self, company_id: str, order_id: str) -> dict[str, Any]:
        with self.sandbox.read() as session:
            r = find(session, s.Order, company_id, order_id, *ORDER_LIST_COLUMNS, s.Order.description,
                     s.Order.payment_method, what="Order")
            return {"id": r.id, "createdAt": iso(r.created_at), "updatedAt": iso(r.updated_at), "title": r.title,
                    "description": r.description, "price": money(r.price), "currency": r.currency, "status": r.status,
                    "paymentMethod": r.payment_method}

    def update_manual_order(self, company_id: str, order_id: str, body: bodies.UpdateManualOrder) -> None:
        """Resolve or reject an OPENED manual order (payment-system orders change only by payment)."""
        now = self.now()
        with self._write(company_id) as transaction:
            (order_id, status, payment_method, person_id, title, price, currency, email, phone,
             payment_credits_id, tunnel_id) = lookup(transaction, fastsql.ORDER_OF_COMPANY, company_id, order_id,
                                                     what="Order")
            if payment_method != MANUAL:
                raise ApiError(409, f"Order is not a manual order (paymentMethod {payment_method})")
            if status != "OPENED":
                raise ApiError(409, f"Order is already {status}; only an OPENED manual order can be updated")
            payment_date = (body.paymentDate or now) if body.status == "RESOLVED" else None
            if body.status == "RESOLVED":
                tunnel_stats.count_sale(transaction, company_id, person_id, tunnel_id,
                                        price if body.price is None else body.price,
                                        currency if body.currency is None else body.currency)
            run_sql(transaction, fastsql.SETTLE_ORDER, {
                "id": order_id, "status": body.status, "now": db_time(transaction, now),
                "comments": body.userComments, "payment_date": db_optional_time(transaction, payment_date),
                "currency": body.currency, "price": body.price,
            })
            account_id = _notify(transaction, company_id, person_id, [("", SYSTEM_MESSAGE)], now)
            if body.status == "RESOLVED":
                emit(transaction, company_id, "SALE", lambda: {
                    "order_id": order_id, "account_id": account_id, "offer_name": title,
                    "price": money(price if body.price is None else body.price),
                    "currency": currency if body.currency is None else body.currency,
                    "email": defined(email), "phone": defined(phone),
                    "created_at": iso(payment_date),
                    "payment_method": payment_credits_id})

    def list_tunnels(self, company_id: str, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        with self.sandbox.read() as session:
            rows, total = company_page(self.sandbox, session, company_id, s.Tunnel, TUNNEL_COLUMNS,
                                       (s.Tunnel.created_at, s.Tunnel.id), limit, offset)
            return [_tunnel_dict(r) for r in rows], total

    def tunnel_view(self, company_id: str, tunnel_id: str,
                    include: frozenset[str]) -> tuple[dict[str, Any], dict[str, Any]]:
        """A tunnel with links to its leadgentools (and, as an extension, blocks) and the side-loads asked for."""
        with self.sandbox.read() as session:
            tunnel = find(session, s.Tunnel, company_id, tunnel_id, *TUNNEL_COLUMNS, what="Tunnel")
            lgts = session.execute(select(s.Leadgentool.id, s.Leadgentool.name, s.Leadgentool.type)
                                   .where(s.Leadgentool.tunnel_id == tunnel.id).order_by(s.Leadgentool.id)).all()
            data = _tunnel_dict(tunnel)
            data["links"] = {"leadgentools": [{"type": "leadgentools", "id": r.id} for r in lgts]}
            linked: dict[str, Any] = {}
            if "leadgentools" in include:
                linked["leadgentools"] = [{"id": r.id, "name": r.name, "type": r.type} for r in lgts]
            if "blocks" in include:
                blocks = session.execute(select(s.TunnelBlock.id, s.TunnelBlock.name, s.TunnelBlock.text)
                                         .where(s.TunnelBlock.tunnel_id == tunnel.id).order_by(s.TunnelBlock.id)).all()
                data["links"]["blocks"] = [{"type": "blocks", "id": r.id} for r in blocks]
                linked["blocks"] = [{"id": r.id, "name": r.name, "text": r.text} for r in blocks]
            return data, linked

    def tunnel_stats(self, company_id: str, tunnel_id: str | None) -> dict[str, Any]:
        """Funnel figures of one tunnel, or of all the company's tunnels together: one row, kept
        by the writes (see sandbox/tunnel_stats.py)."""
        with self.sandbox.read() as session:
            if tunnel_id is not None:
                find(session, s.Tunnel, company_id, tunnel_id, what="Tunnel")
            figures = tunnel_stats.read(session, company_id, s.ALL_TUNNELS if tunnel_id is None else tunnel_id)
            return {
                "subscribers": figures["subscribers"],
                "uniqSubscribers": figures["uniq_subscribers"],
                "orders": figures["orders"],
                "sales": figures["sales"],
                "uniqSales": figures["uniq_sales"],
                "visits": int(figures["visits"]),
                "uniqVisits": int(figures["uniq_visits"]),
                "shows": int(figures["shows"]),
                "uniqShows": int(figures["uniq_shows"]),
                "totalSale": money(round(figures["total_sale"], 2)),
                "totalExpenses": money(float(figures["expenses"])),
            }

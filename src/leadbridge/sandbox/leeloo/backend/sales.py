"""Leeloo's sales: leadgentool traffic sources, manual orders, tunnels and their computed stats."""

from __future__ import annotations

import secrets
import string
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from leadbridge.sandbox import schema as s
from leadbridge.sandbox import tunnel_stats
from leadbridge.sandbox.leeloo import bodies
from leadbridge.sandbox.leeloo.backend.core import (
    SYSTEM_MESSAGE,
    Backend,
    api_user,
    append_message,
    company_page,
    defined,
    find,
    money,
)
from leadbridge.sandbox.webhooks import emit
from leadbridge.sandbox.wire import ApiError, iso, new_oid

MANUAL = "MANUAL"


def _order_brief(row: Any) -> dict[str, Any]:
    return {"id": row.id, "title": row.title, "price": money(row.price), "currency": row.currency,
            "status": row.status, "createdAt": iso(row.created_at), "updatedAt": iso(row.updated_at)}


def _latest_account(session: Session, person_id: str) -> str | None:
    """The person's account with the latest conversation: where notices of their orders go."""
    account_id: str | None = session.scalar(
        select(s.Account.id).where(s.Account.person_id == person_id)
        .order_by(s.Account.last_message_time.desc().nulls_last(), s.Account.id).limit(1)
    )
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
        with self._write(company_id) as session:
            created_by = api_user(self.sandbox, session, company_id)
            lgt = find(session, s.Leadgentool, company_id, leadgentool_id, s.Leadgentool.id, s.Leadgentool.tunnel_id,
                       what="Leadgentool")
            source_id = new_oid(now)
            row = {
                "id": source_id, "company_id": company_id, "leadgentool_id": lgt.id, "tunnel_id": lgt.tunnel_id,
                "name": body.name, "description": body.description, "type": "normal",
                "hash": "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(6)),
                "resubscribe_button_id": new_oid(now), "created_by": created_by, "created_at": now, "updated_at": now,
            }
            session.execute(insert(s.TrafficSource).values(**row))
            return {
                "type": "normal", "fb_adset_id": None, "name": body.name, "description": body.description,
                "synchronized_with_fb": False, "synchronization_error": False, "disabled": False,
                "company_id": company_id, "leadgentool_id": lgt.id, "tunnel_id": lgt.tunnel_id,
                "created_by": created_by,
                "hash": row["hash"], "resubscribe_button_id": row["resubscribe_button_id"],
                "createdAt": iso(now), "updatedAt": iso(now), "id": source_id,
            }

    def create_order(self, company_id: str, body: bodies.CreateOrder) -> dict[str, Any]:
        """POST /api/v2/orders: an OPENED manual order for the person, priced by the offer."""
        now = self.now()
        with self._write(company_id) as session:
            person = find(session, s.Person, company_id, body.personId, s.Person.id, s.Person.email, s.Person.phone,
                          what="Person", field="personId")
            offer = find(session, s.Offer, company_id, body.offerId, s.Offer.id, s.Offer.title, s.Offer.description,
                         s.Offer.price, s.Offer.currency, s.Offer.tunnel_id, what="Offer", field="offerId")
            credits = find(session, s.PaymentCredits, company_id, body.paymentCreditsId, s.PaymentCredits.id,
                           s.PaymentCredits.payment_method, what="Payment system", field="paymentCreditsId")
            if credits.payment_method != MANUAL:
                raise ApiError(422, "paymentCreditsId is not a manual payment system", field="paymentCreditsId")
            if body.managerId is not None:
                find(session, s.User, company_id, body.managerId, what="User", field="managerId")
            order_id = new_oid(now)
            tunnel_stats.count_new_order(session, company_id, offer.tunnel_id)
            session.execute(insert(s.Order).values(
                id=order_id, company_id=company_id, person_id=person.id, offer_id=offer.id, tunnel_id=offer.tunnel_id,
                title=offer.title, description=offer.description, price=offer.price, currency=offer.currency,
                status="OPENED", payment_method=MANUAL, payment_credits_id=credits.id, manager_id=body.managerId,
                email=body.email or person.email, phone=body.phone or person.phone,
                is_notify_account=body.isNotifyAccount,
                transaction_date=body.transactionDate or now, payment_date=None, user_comments=None,
                created_at=now, updated_at=now,
            ))
            account_id = _latest_account(session, person.id)
            if account_id is not None:
                append_message(session, company_id, account_id, "", SYSTEM_MESSAGE, now)
            if body.isNotifyAccount and account_id is not None:
                text = f"Ваш заказ «{offer.title}» на сумму {money(offer.price)} {offer.currency} создан."
                append_message(session, company_id, account_id, text, "BOT_MESSAGE", now)
            emit(session, company_id, "ORDER", lambda: {
                "order_id": order_id, "account_id": account_id, "offer_name": offer.title, "price": money(offer.price),
                "currency": offer.currency, "email": defined(body.email or person.email),
                "phone": defined(body.phone or person.phone), "created_at": iso(now)})
            return {"id": order_id, "title": offer.title, "price": money(offer.price), "currency": offer.currency,
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
        with self._write(company_id) as session:
            order = find(session, s.Order, company_id, order_id, s.Order.id, s.Order.status, s.Order.payment_method,
                         s.Order.person_id, s.Order.title, s.Order.price, s.Order.currency, s.Order.email,
                         s.Order.phone, s.Order.payment_credits_id, s.Order.tunnel_id, what="Order")
            if order.payment_method != MANUAL:
                raise ApiError(409, f"Order is not a manual order (paymentMethod {order.payment_method})")
            if order.status != "OPENED":
                raise ApiError(409, f"Order is already {order.status}; only an OPENED manual order can be updated")
            values: dict[str, Any] = {"status": body.status, "updated_at": now, "user_comments": body.userComments}
            if body.status == "RESOLVED":
                values["payment_date"] = body.paymentDate or now
            if body.currency is not None:
                values["currency"] = body.currency
            if body.price is not None:
                values["price"] = body.price
            if body.status == "RESOLVED":
                tunnel_stats.count_sale(session, company_id, order.person_id, order.tunnel_id,
                                        values.get("price", order.price), values.get("currency", order.currency))
            session.execute(update(s.Order).where(s.Order.id == order.id).values(**values)
                            .execution_options(synchronize_session=False))
            account_id = _latest_account(session, order.person_id)
            if account_id is not None:
                append_message(session, company_id, account_id, "", SYSTEM_MESSAGE, now)
            if body.status == "RESOLVED":
                emit(session, company_id, "SALE", lambda: {
                    "order_id": order.id, "account_id": account_id, "offer_name": order.title,
                    "price": money(values.get("price", order.price)),
                    "currency": values.get("currency", order.currency),
                    "email": defined(order.email), "phone": defined(order.phone),
                    "created_at": iso(values["payment_date"]),
                    "payment_method": order.payment_credits_id})

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

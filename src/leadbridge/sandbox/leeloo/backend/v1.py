"""Leeloo API v1: accounts (communication channels) with their person's tags."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from leadbridge.sandbox import fastsql
from leadbridge.sandbox import schema as s
from leadbridge.sandbox.leeloo.backend.core import (
    Backend,
    count,
    defined,
    find,
    money,
)
from leadbridge.sandbox.leeloo.backend.people import (
    person_relations,
    subscribe_history,
    tag_names,
    tagged_people,
)
from leadbridge.sandbox.wire import iso, iso_stored


class V1Backend(Backend):
    """API v1's accounts (/api/v1/accounts…); their chat history is ``MessagingBackend.chat_messages``."""

    def list_accounts_v1(self, company_id: str, tags: tuple[str, ...], limit: int,
                         offset: int) -> tuple[list[dict[str, Any]], int]:
        """GET /api/v1/accounts: accounts with their person's tags; filter[tags] matches any tag."""
        with self.sandbox.read() as session:
            query = select(s.Account.id).where(s.Account.company_id == company_id)
            if tags:
                query = query.where(s.Account.person_id.in_(tagged_people(company_id, tags)))
            total = count(self.sandbox, company_id, ("v1accounts", tags), query, rows_of=("leeloo_account",),
                          values_of=("leeloo_person_tag", "leeloo_tag") if tags else ())
            rows = session.execute(
                select(s.Account.id, s.Account.person_id, s.Account.name, s.Account.messenger, s.Account.bot_status,
                       s.Account.last_message_time, s.Account.created_at)
                .where(s.Account.id.in_(query.order_by(s.Account.id).limit(limit).offset(offset).scalar_subquery()))
                .order_by(s.Account.id)
            ).all()
            names = tag_names(self.sandbox.query, list({r.person_id for r in rows}))
            return [
                {"id": r.id, "name": r.name, "tags": names.get(r.person_id, []), "from": r.messenger,
                 "botStatus": r.bot_status, "lastMessageTime": iso(r.last_message_time), "createdAt": iso(r.created_at)}
                for r in rows
            ], total

    def account_v1(self, company_id: str, account_id: str,
                   include: frozenset[str]) -> tuple[dict[str, Any], dict[str, Any]]:
        """GET /api/v1/accounts/{id}: the account, its person's tags, links and side-loads."""
        with self.sandbox.read() as session:
            a = find(session, s.Account, company_id, account_id, s.Account.id, s.Account.person_id, s.Account.name,
                     s.Account.messenger, s.Account.bot_status, s.Account.created_at, s.Account.updated_at,
                     what="Account")
            person = session.execute(select(s.Person.gender, s.Person.locale).where(s.Person.id == a.person_id)).one()
        read = self.sandbox.query
        links, included, orders = person_relations(read, a.person_id, include)
        if "orders" in include:
            included["orders"] = [
                {"price": money(o.price), "currency": o.currency, "paymentMethod": o.payment_method,
                 "status": o.status, "updatedAt": iso_stored(o.updated_at)}
                for o in orders
            ]
        history = [
            {key: item[key] for key in ("tunnelName", "leadgentoolName", "trafficSource")}
            for item in subscribe_history(read, fastsql.ACCOUNT_SUBSCRIPTIONS, {"account": a.id})
        ]
        data = {
            "id": a.id, "name": a.name, "tags": tag_names(read, [a.person_id]).get(a.person_id, []),
            "from": a.messenger, "botStatus": a.bot_status, "gender": defined(person.gender),
            "locale": person.locale, "subscribeHistory": history, "links": links,
            "createdAt": iso(a.created_at), "updatedAt": iso(a.updated_at),
        }
        return data, included

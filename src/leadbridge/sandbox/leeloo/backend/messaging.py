"""Leeloo's conversations: message templates, sending, communication channels, their chats
and the person behind one, manual subscriptions."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select

from leadbridge.sandbox import fastsql, tunnel_stats
from leadbridge.sandbox import schema as s
from leadbridge.sandbox.leeloo import bodies
from leadbridge.sandbox.leeloo.backend.core import (
    SYSTEM_MESSAGE,
    Backend,
    api_user,
    append_message,
    append_messages,
    count,
    find,
    first_source,
    lookup,
    subscription_event,
    touch_account,
)
from leadbridge.sandbox.leeloo.backend.people import person_card
from leadbridge.sandbox.state import RawTransaction, db_time, run_sql
from leadbridge.sandbox.webhooks import emit
from leadbridge.sandbox.wire import ApiError, is_oid, iso, iso_stored

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def render_template(transaction: RawTransaction, company_id: str, template_id: str,
                    variables: dict[str, Any]) -> str:
    (text,) = lookup(transaction, fastsql.TEMPLATE_OF_COMPANY, company_id, template_id, what="Template",
                     field="template_id")
    return _PLACEHOLDER.sub(lambda m: str(variables[m[1]]) if m[1] in variables else m[0], text)


class MessagingBackend(Backend):
    """Templates, messages and communication channels (/api/v2/messages, …)."""

    def list_template_categories(self, company_id: str) -> list[dict[str, Any]]:
        with self.sandbox.read() as session:
            rows = session.execute(select(s.TemplateCategory.id, s.TemplateCategory.name)
                                   .where(s.TemplateCategory.company_id == company_id)
                                   .order_by(s.TemplateCategory.id))
            return [{"id": r.id, "name": r.name} for r in rows]

    def list_templates(self, company_id: str, category_id: str) -> list[dict[str, Any]]:
        with self.sandbox.read() as session:
            find(session, s.TemplateCategory, company_id, category_id, what="Template category")
            rows = session.execute(select(s.Template.id, s.Template.message_name)
                                   .where(s.Template.category_id == category_id).order_by(s.Template.id.desc()))
            return [{"id": r.id, "message_name": r.message_name} for r in rows]

    def send_template(self, company_id: str, body: bodies.SendTemplate) -> None:
        """The template's text, {name} placeholders filled from ``variables``, as the API user's message."""
        now = self.now()
        with self._write(company_id) as transaction:
            text = render_template(transaction, company_id, body.template_id, body.variables)
            append_message(transaction, company_id, body.account_id, text, "YOUR_MESSAGE", now,
                           created_by=api_user(self.sandbox, transaction, company_id), template_id=body.template_id,
                           field="account_id")

    def send_message(self, company_id: str, body: bodies.SendMessage) -> None:
        """The API user's text message (the hottest write)."""
        now = self.now()
        with self._write(company_id) as transaction:
            append_message(transaction, company_id, body.account_id, body.text, "YOUR_MESSAGE", now,
                           created_by=api_user(self.sandbox, transaction, company_id), field="account_id")

    def list_channels(self, company_id: str, last_from: datetime | None, last_to: datetime | None, limit: int,
                      offset: int) -> tuple[list[dict[str, Any]], int]:
        """GET /api/v2/communication-channels, most recent conversation first."""
        with self.sandbox.read() as session:
            where: list[ColumnElement[bool]] = [s.Account.company_id == company_id]
            if last_from:
                where.append(s.Account.last_message_time >= last_from)
            if last_to:
                where.append(s.Account.last_message_time <= last_to)
            total = count(self.sandbox, company_id, ("channels", last_from, last_to),
                          select(s.Account.id).where(*where), rows_of=("leeloo_account",),
                          values_of=("leeloo_account",) if last_from or last_to else ())
            # Read in the (company_id, last_message_time, id) index's order, from its end.
            rows = session.execute(
                select(s.Account.id, s.Account.person_id, s.Account.name, s.Account.messenger, s.Account.bot_status,
                       s.Account.last_message_time, s.Account.created_at, s.Account.utm_marks)
                .where(*where)
                .order_by(s.Account.last_message_time.desc().nulls_last(), s.Account.id.desc())
                .limit(limit).offset(offset)
            )
            return [
                {"id": r.id, "person_id": r.person_id, "name": r.name, "from": r.messenger, "botStatus": r.bot_status,
                 "lastMessageTime": iso(r.last_message_time), "createdAt": iso(r.created_at),
                 "utmMarks": r.utm_marks or {}}
                for r in rows
            ], total

    def chat_messages(self, company_id: str, account_id: str, limit: int, offset: int, *,
                      with_author: bool) -> tuple[list[dict[str, Any]], int]:
        """An account's chat history, newest first; v1 links each manual message to its author."""
        # A hot read: hand-written SQL, same checks and order as find() and the ORM query had.
        if not (is_oid(account_id) and self.sandbox.query(fastsql.ACCOUNT_EXISTS,
                                                          {"account": account_id, "company": company_id})):
            raise ApiError(404, "Communication channel not found")
        key = ("messages", account_id)
        total: int | None = self.sandbox.cache(company_id).get(key)
        if total is None:
            total = count(self.sandbox, company_id, key,
                          select(s.Message.id).where(s.Message.account_id == account_id), rows_of=("leeloo_message",))
        items = []
        for message_id, text, kind, read, created_by, created_at, updated_at in self.sandbox.query(
                fastsql.CHAT_PAGE, {"account": account_id, "limit": limit, "offset": offset}):
            item: dict[str, Any] = {"id": message_id, "text": text, "type": kind, "read": bool(read),
                                    "createdAt": iso_stored(created_at), "updatedAt": iso_stored(updated_at)}
            if with_author and created_by:
                item["links"] = {"createdBy": {"type": "users", "id": created_by}}
            items.append(item)
        return items, total

    def person_of_account(self, company_id: str, account_id: str,
                          include: frozenset[str] = frozenset()) -> tuple[dict[str, Any], dict[str, Any]]:
        """The card of the person behind a communication channel."""
        with self.sandbox.read() as session:
            account = find(session, s.Account, company_id, account_id, s.Account.person_id,
                           what="Communication channel")
        return person_card(self.sandbox.query, company_id, account.person_id, include)

    def manual_subscribe(self, company_id: str, account_id: str, body: bodies.ManualSubscribe) -> None:
        """Subscribe the account to a tunnel at a block; the block's text is sent as the bot's message."""
        now = self.now()
        with self._write(company_id) as transaction:
            # The account checked by touching it, and the tunnel only when the block is not found in
            # it (to say which is missing): two statements fewer than a lookup of each.
            person_id = touch_account(transaction, company_id, account_id, now)
            block = self._kept_rows(transaction, ("leeloo_tunnel_block",), fastsql.BLOCK_OF_TUNNEL, company_id,
                                    {"id": body.tunnel_block_id, "tunnel": body.tunnel_id, "company": company_id})
            if not block:
                lookup(transaction, fastsql.TUNNEL_OF_COMPANY, company_id, body.tunnel_id, what="Tunnel",
                       field="tunnel_id")
                raise ApiError(404, "Tunnel block not found in this tunnel", field="tunnel_block_id")
            source_id, leadgentool_id, _ = first_source(
                self._kept_rows(transaction, ("leeloo_traffic_source",), fastsql.FIRST_SOURCE_OF_TUNNEL, company_id,
                                {"tunnel": body.tunnel_id}), "The tunnel")
            stored_now = db_time(transaction, now)
            tunnel_stats.count_new_subscription(transaction, company_id, person_id, body.tunnel_id)
            run_sql(transaction, fastsql.INSERT_SUBSCRIPTION, {
                "company": company_id, "person": person_id, "account": account_id, "tunnel": body.tunnel_id,
                "leadgentool": leadgentool_id, "source": source_id, "block": body.tunnel_block_id, "now": stored_now,
            })
            block_text: str = block[0][0]
            append_messages(transaction, company_id, account_id,
                            [("", SYSTEM_MESSAGE), *([(block_text, "BOT_MESSAGE")] if block_text else [])], now,
                            touched_person=person_id)
            emit(transaction, company_id, "SUBSCRIPTION",
                 lambda: subscription_event(transaction, account_id, person_id, body.tunnel_id, leadgentool_id,
                                            source_id, now))

"""Leeloo's platform catalogue (tags, users, connections) and calls."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from leadbridge.sandbox import fastsql
from leadbridge.sandbox import schema as s
from leadbridge.sandbox.leeloo import bodies
from leadbridge.sandbox.leeloo.backend.core import (
    USER_COLUMNS,
    Backend,
    company_page,
    find,
    lookup,
    user_dict,
)
from leadbridge.sandbox.state import db_time, run_sql
from leadbridge.sandbox.wire import iso, new_oid


class PlatformBackend(Backend):
    """Calls, tags, users and connections."""

    def create_call(self, company_id: str, body: bodies.CreateCall) -> dict[str, Any]:
        now = self.now()
        with self._write(company_id) as transaction:
            lookup(transaction, fastsql.USER_OF_COMPANY, company_id, body.user_id, what="User", field="user_id")
            lookup(transaction, fastsql.ACCOUNT_OF_COMPANY, company_id, body.account_id, what="Communication channel",
                   field="account_id")
            row = {
                "id": new_oid(now), "company": company_id, "account": body.account_id, "user": body.user_id,
                "from_number": body.from_, "to_number": body.to, "date": db_time(transaction, body.date),
                "record_link": body.record_link, "status": body.status, "duration": body.duration, "type": body.type,
                "call_id": str(uuid.uuid1()), "telephone_connection_id": new_oid(now), "now": db_time(transaction, now),
            }
            run_sql(transaction, fastsql.INSERT_CALL, row)
            return {
                "raw_response": {}, "record_link": body.record_link, "company_id": company_id, "user_id": body.user_id,
                "account_id": body.account_id, "provider_type": "MANUAL", "to": body.to, "from": body.from_,
                "type": body.type, "status": body.status, "telephone_connection_id": row["telephone_connection_id"],
                "call_id": row["call_id"], "billsec": body.duration, "created_at": iso(now), "updated_at": iso(now),
                # When the telephony provider is next asked for the recording.
                "next_check": iso(now + timedelta(minutes=20)), "id": row["id"],
            }

    def list_tags(self, company_id: str) -> list[dict[str, Any]]:
        with self.sandbox.read() as session:
            rows = session.execute(select(s.Tag.id, s.Tag.name).where(s.Tag.company_id == company_id)
                                   .order_by(s.Tag.id))
            return [{"id": r.id, "name": r.name} for r in rows]

    def list_users(self, company_id: str, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        with self.sandbox.read() as session:
            rows, total = company_page(self.sandbox, session, company_id, s.User, USER_COLUMNS,
                                       (s.User.created_at, s.User.id), limit, offset)
            return [user_dict(r) for r in rows], total

    def get_user(self, company_id: str, user_id: str) -> dict[str, Any]:
        with self.sandbox.read() as session:
            return user_dict(find(session, s.User, company_id, user_id, *USER_COLUMNS, what="User"))

    def list_connections(self, company_id: str) -> list[dict[str, Any]]:
        with self.sandbox.read() as session:
            rows = session.execute(select(s.Connection.id, s.Connection.type, s.Connection.name)
                                   .where(s.Connection.company_id == company_id).order_by(s.Connection.id))
            return [{"id": r.id, "type": r.type, "name": r.name} for r in rows]

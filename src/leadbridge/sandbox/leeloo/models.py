"""Leeloo's state: queries and changes on the tables, returning the documented shapes.

Kept apart from the HTTP layer (routes.py), as moto keeps a fake service's models apart
from its responses: these functions take a session and a company id and know nothing
of requests.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadbridge.sandbox import schema as s
from leadbridge.sandbox.common import iso
from leadbridge.sandbox.state import Sandbox


@dataclass(frozen=True)
class PeopleFilter:
    tags: tuple[str, ...] = ()
    last_message_from: datetime | None = None
    last_message_to: datetime | None = None
    phone: str | None = None
    email: str | None = None


def _people_query(company_id: str, flt: PeopleFilter) -> Any:
    query = select(s.Person.id).where(s.Person.company_id == company_id)
    if flt.phone:
        query = query.where(s.Person.phone == flt.phone)
    if flt.email:
        query = query.where(s.Person.email == flt.email)
    if flt.last_message_from:
        query = query.where(s.Person.last_message_time >= flt.last_message_from)
    if flt.last_message_to:
        query = query.where(s.Person.last_message_time <= flt.last_message_to)
    for tag in flt.tags:
        # A tag is matched by name or by id: the documents filter by name ("vip").
        tagged = (
            select(s.PersonTag.person_id)
            .join(s.Tag, s.Tag.id == s.PersonTag.tag_id)
            .where(s.Tag.company_id == company_id, (s.Tag.name == tag) | (s.Tag.id == tag))
        )
        query = query.where(s.Person.id.in_(tagged))
    return query


def count(sandbox: Sandbox, session: Session, key: tuple[Any, ...], query: Any) -> int:
    """COUNT(*) of ``query``, memoised until the company's next write (keeps paging cheap)."""
    cached = sandbox.count_cache.get(key)
    if cached is None:
        cached = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        sandbox.count_cache[key] = cached
    return cached


def tag_names(session: Session, person_ids: list[str]) -> dict[str, list[str]]:
    names: dict[str, list[str]] = defaultdict(list)
    rows = session.execute(
        select(s.PersonTag.person_id, s.Tag.name)
        .join(s.Tag, s.Tag.id == s.PersonTag.tag_id)
        .where(s.PersonTag.person_id.in_(person_ids))
    )
    for person_id, name in rows:
        names[person_id].append(name)
    return names


def account_links(session: Session, person_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    links: dict[str, list[dict[str, Any]]] = defaultdict(list)
    rows = session.execute(
        select(s.Account.person_id, s.Account.id, s.Account.connection_id, s.Account.connection_status,
               s.Account.messenger)
        .where(s.Account.person_id.in_(person_ids))
        .order_by(s.Account.created_at)
    )
    for person_id, account_id, connection_id, connection_status, messenger in rows:
        links[person_id].append({"account_id": account_id, "connection_id": connection_id,
                                 "connection_status": connection_status, "from": messenger})
    return links


def list_people(
    sandbox: Sandbox, session: Session, company_id: str, flt: PeopleFilter, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of people (GET /api/v2/people) and the number matching the filter."""
    ids_query = _people_query(company_id, flt)
    total = count(sandbox, session, (company_id, "people", flt), ids_query)
    rows = session.execute(
        select(s.Person.id, s.Person.name, s.Person.email, s.Person.phone, s.Person.last_message_time)
        .where(s.Person.id.in_(ids_query.order_by(s.Person.id).limit(limit).offset(offset).scalar_subquery()))
        .order_by(s.Person.id)
    ).all()
    ids = [row.id for row in rows]
    tags = tag_names(session, ids)
    accounts = account_links(session, ids)
    return [
        {
            "id": row.id,
            "name": row.name,
            "email": row.email,
            "phone": row.phone,
            "tags": tags.get(row.id, []),
            "accounts": accounts.get(row.id, []),
            "lastMessageTime": iso(row.last_message_time),
        }
        for row in rows
    ], total

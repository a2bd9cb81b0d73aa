"""Leeloo's state: queries and changes on the tables, returning the documented shapes.

Kept apart from the HTTP layer (routes/), as moto keeps a fake service's models apart
from its responses: these functions take a session and a company id and know nothing
of requests. Reads select columns (no ORM objects) and fetch related rows in one query
per relation, never one per record.

Every lookup filters on the company: another tenant's id is simply "not found".
"""

from __future__ import annotations

import re
import secrets
import string
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, distinct, func, insert, select, update
from sqlalchemy.orm import Session

from leadbridge.contract.leeloo import NOT_DEFINED
from leadbridge.sandbox import fastsql
from leadbridge.sandbox import schema as s
from leadbridge.sandbox.common import ApiError, is_oid, iso, iso_stored, new_oid
from leadbridge.sandbox.leeloo import bodies
from leadbridge.sandbox.search import person_search_text
from leadbridge.sandbox.state import RawTransaction, Sandbox, db_time, run_sql
from leadbridge.sandbox.webhooks import emit

# Tunnel stats report totalSale in USD; orders in other currencies are converted with
# this fixed table (USD per unit), so the figures are reproducible.
USD_RATES = {"USD": 1.0, "EUR": 1.08, "UAH": 0.024, "RUB": 0.011}
PAID_STATUSES = ("RESOLVED", "SUCCESS")  # a sale: a resolved manual order or a successful payment
MANUAL = "MANUAL"
MESSENGER_MANUAL = "MANUAL"  # people added by hand (POST /people) hang on this connection
MESSENGER_SMS = "SMS"
# Leeloo answers an empty email, phone, profile image or gender with this string, never null.
# The notice of an account's action (a subscription, an order created or changed): the v1
# document's example shows it with empty text.
SYSTEM_MESSAGE = "SYSTEM_MESSAGE"


def defined(value: str | None) -> str:
    """A stored value as Leeloo shows it: an empty one is ``"NOT_DEFINED"``."""
    return value if value else NOT_DEFINED


# --- lookups -----------------------------------------------------------------------------


def find(session: Session, model: Any, company_id: str, oid: str, *columns: Any, what: str,
         field: str | None = None) -> Any:
    """The row of ``model`` with this id in this company, or a 404 (naming ``field`` if a body field)."""
    if is_oid(oid):
        row = session.execute(
            select(*(columns or (model.id,))).where(model.id == oid, model.company_id == company_id)
        ).first()
        if row is not None:
            return row
    raise ApiError(404, f"{what} not found", field=field)


def count(sandbox: Sandbox, company_id: str, key: tuple[Any, ...], query: Any, *, rows_of: Iterable[str] = (),
          values_of: Iterable[str] = ()) -> int:
    """COUNT(*) of ``query``, kept in the company's cache until a write changes what it reads
    (``rows_of``: tables whose rows it counts; ``values_of``: tables whose columns it filters on)."""
    cache = sandbox.cache(company_id)
    cached: int | None = cache.get(key)
    if cached is None:
        with sandbox.read() as session:
            cached = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        cache.put(key, cached, rows_of=rows_of, values_of=values_of)
    return cached




def api_user(sandbox: Sandbox, session: Session | RawTransaction, company_id: str) -> str:
    """The user acting for API calls: the company's first user (its owner)."""
    cache = sandbox.cache(company_id)
    user_id: str | None = cache.get("api-user")
    if user_id is None:
        rows = run_sql(session, fastsql.API_USER, {"company": company_id})
        if not rows:
            raise ApiError(409, "the company has no user to act for the API")
        user_id = cache.put("api-user", rows[0][0], rows_of=("leeloo_user",))
    return user_id


def money(value: float) -> float | int:
    """Whole amounts render as integers (100, not 100.0), as in the documents."""
    return int(value) if float(value).is_integer() else round(value, 2)


def user_dict(row: Any) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "createdAt": iso(row.created_at), "updatedAt": iso(row.updated_at)}


USER_COLUMNS = (s.User.id, s.User.name, s.User.created_at, s.User.updated_at)


# --- people ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeopleFilter:
    tags: tuple[str, ...] = ()
    last_message_from: datetime | None = None
    last_message_to: datetime | None = None
    phone: str | None = None
    email: str | None = None


def tagged_people(company_id: str, tags: Iterable[str]) -> Any:
    """People carrying ANY of the tags, each given by name or id (the v1 example filters
    tag3,tag2 and returns one person tagged tag2 and one tagged tag3)."""
    wanted = list(tags)
    return (
        select(s.PersonTag.person_id)
        .join(s.Tag, s.Tag.id == s.PersonTag.tag_id)
        .where(s.Tag.company_id == company_id, s.Tag.name.in_(wanted) | s.Tag.id.in_(wanted))
    )


def _shown_as(column: Any, value: str) -> ColumnElement[bool]:
    """The column's value as the API shows it equals ``value`` (an empty one shows NOT_DEFINED)."""
    if value == NOT_DEFINED:
        return column.is_(None) | (column == "")  # type: ignore[no-any-return]
    return column == value  # type: ignore[no-any-return]


def _people_query(company_id: str, flt: PeopleFilter) -> Any:
    query = select(s.Person.id).where(s.Person.company_id == company_id)
    if flt.phone:
        query = query.where(_shown_as(s.Person.phone, flt.phone))
    if flt.email:
        query = query.where(_shown_as(s.Person.email, flt.email))
    if flt.last_message_from:
        query = query.where(s.Person.last_message_time >= flt.last_message_from)
    if flt.last_message_to:
        query = query.where(s.Person.last_message_time <= flt.last_message_to)
    if flt.tags:
        query = query.where(s.Person.id.in_(tagged_people(company_id, flt.tags)))
    return query


def tag_names(session: Session, person_ids: list[str]) -> dict[str, list[str]]:
    names: dict[str, list[str]] = defaultdict(list)
    rows = session.execute(
        select(s.PersonTag.person_id, s.Tag.name)
        .join(s.Tag, s.Tag.id == s.PersonTag.tag_id)
        .where(s.PersonTag.person_id.in_(person_ids))
        .order_by(s.Tag.name)
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
        .order_by(s.Account.created_at, s.Account.id)
    )
    for person_id, account_id, connection_id, connection_status, messenger in rows:
        links[person_id].append({"account_id": account_id, "connection_id": connection_id,
                                 "connection_status": connection_status, "from": messenger})
    return links


NO_FILTER = PeopleFilter()
# The unfiltered people page is the hottest read: by hand (fastsql), in three small indexed
# queries on the sandbox's read connection (same order as tag_names and account_links).
# A deep OFFSET makes the database walk every index entry before it; an anchor (the id at
# every ANCHOR_STEP-th place, kept until the company's next write) lets a page start near
# its place instead, so a client walking 100,000 people pays the same for every page.
ANCHOR_STEP = 1000


def _people_rows(sandbox: Sandbox, company_id: str, limit: int, offset: int) -> list[Any]:
    if offset < ANCHOR_STEP:
        return sandbox.query(fastsql.PEOPLE_PAGE, {"company": company_id, "limit": limit, "offset": offset})
    # Kept until people are added or removed: no other change moves a person in id order.
    cache = sandbox.cache(company_id)
    anchors: list[str] | None = cache.get("people-anchors")
    if anchors is None:
        anchors = [row[0] for row in
                   sandbox.query(fastsql.PEOPLE_ANCHORS, {"company": company_id, "step": ANCHOR_STEP})]
        cache.put("people-anchors", anchors, rows_of=("leeloo_person",))
    place = offset // ANCHOR_STEP
    if place >= len(anchors):
        return []
    return sandbox.query(fastsql.PEOPLE_FROM_ANCHOR, {"company": company_id, "anchor": anchors[place],
                                                      "limit": limit, "offset": offset - place * ANCHOR_STEP})


def _unfiltered_people(sandbox: Sandbox, company_id: str, limit: int, offset: int) -> list[dict[str, Any]]:
    people = {
        pid: {"id": pid, "name": name, "email": defined(email), "phone": defined(phone), "tags": [], "accounts": [],
              "lastMessageTime": iso_stored(last)}
        for pid, name, email, phone, last in _people_rows(sandbox, company_id, limit, offset)
    }
    if people:
        sql, ids = fastsql.in_list(fastsql.PAGE_ACCOUNTS, list(people))
        for pid, account_id, connection_id, status, messenger in sandbox.query(sql, ids):
            people[pid]["accounts"].append({"account_id": account_id, "connection_id": connection_id,
                                            "connection_status": status, "from": messenger})
        sql, ids = fastsql.in_list(fastsql.PAGE_TAGS, list(people))
        for pid, tag in sandbox.query(sql, ids):
            people[pid]["tags"].append(tag)
    return list(people.values())


def list_people(
    sandbox: Sandbox, company_id: str, flt: PeopleFilter, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of people (GET /api/v2/people) and the number matching the filter."""
    total: int | None = sandbox.cache(company_id).get(("people", flt))
    if total is None:
        total = count(sandbox, company_id, ("people", flt), _people_query(company_id, flt), rows_of=("leeloo_person",),
                      values_of=() if flt == NO_FILTER else ("leeloo_person", "leeloo_person_tag"))
    if flt == NO_FILTER:
        return _unfiltered_people(sandbox, company_id, limit, offset), total
    ids_query = _people_query(company_id, flt)
    with sandbox.read() as session:
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
            "email": defined(row.email),
            "phone": defined(row.phone),
            "tags": tags.get(row.id, []),
            "accounts": accounts.get(row.id, []),
            "lastMessageTime": iso(row.last_message_time),
        }
        for row in rows
    ], total


def subscribe_history(session: Session, where: ColumnElement[bool]) -> list[dict[str, Any]]:
    rows = session.execute(
        select(s.Tunnel.name.label("tunnel_name"), s.Leadgentool.name.label("leadgentool_name"),
               s.TrafficSource.name.label("source_name"), s.Subscription.tunnel_id,
               s.Subscription.leadgentool_id, s.Subscription.traffic_source_id, s.Subscription.account_id)
        .join(s.Tunnel, s.Tunnel.id == s.Subscription.tunnel_id)
        .join(s.Leadgentool, s.Leadgentool.id == s.Subscription.leadgentool_id)
        .join(s.TrafficSource, s.TrafficSource.id == s.Subscription.traffic_source_id)
        .where(where)
        .order_by(s.Subscription.created_at, s.Subscription.id)
    )
    return [
        {"tunnelName": r.tunnel_name, "leadgentoolName": r.leadgentool_name, "trafficSource": r.source_name,
         "tunnelId": r.tunnel_id, "leadgentoolId": r.leadgentool_id, "trafficSourceId": r.traffic_source_id,
         "accountId": r.account_id}
        for r in rows
    ]


PERSON_INCLUDES = frozenset({"contactedUsers", "orders"})


def _person_relations(session: Session, person_id: str, include: frozenset[str]) -> tuple[
    dict[str, list[dict[str, str]]], dict[str, list[dict[str, Any]]], Sequence[Any]
]:
    """links (always), included (as asked) and the order rows of one person."""
    user_ids = list(session.scalars(
        select(s.ContactedUser.user_id).where(s.ContactedUser.person_id == person_id).order_by(s.ContactedUser.user_id)
    ))
    orders = session.execute(
        select(s.Order.id, s.Order.title, s.Order.price, s.Order.currency, s.Order.status,
               s.Order.payment_method, s.Order.updated_at)
        .where(s.Order.person_id == person_id)
        .order_by(s.Order.created_at.desc(), s.Order.id.desc())
    ).all()
    links = {
        "contactedUsers": [{"type": "users", "id": user_id} for user_id in user_ids],
        "orders": [{"type": "orders", "id": order.id} for order in orders],
    }
    included: dict[str, list[dict[str, Any]]] = {}
    if "contactedUsers" in include:
        users = session.execute(select(*USER_COLUMNS).where(s.User.id.in_(user_ids)).order_by(s.User.id))
        included["users"] = [user_dict(row) for row in users]
    if "orders" in include:
        included["orders"] = []
    return links, included, orders


def person_view(session: Session, company_id: str, person_id: str,
                include: frozenset[str] = frozenset()) -> tuple[dict[str, Any], dict[str, Any]]:
    """GET /api/v2/people/{id}: the person and the side-loaded records asked for."""
    person = find(session, s.Person, company_id, person_id,
                  s.Person.id, s.Person.name, s.Person.profile_image, s.Person.gender, s.Person.phone,
                  s.Person.email, s.Person.locale, s.Person.custom_fields, s.Person.created_at,
                  s.Person.updated_at, what="Person")
    links, included, orders = _person_relations(session, person.id, include)
    if "orders" in include:
        included["orders"] = [
            {"id": o.id, "title": o.title, "price": money(o.price), "currency": o.currency, "status": o.status,
             "updatedAt": iso(o.updated_at)}
            for o in orders
        ]
    data = {
        "id": person.id,
        "name": person.name,
        "tags": tag_names(session, [person.id]).get(person.id, []),
        "profileImage": defined(person.profile_image),
        "gender": defined(person.gender),
        "phone": defined(person.phone),
        "email": defined(person.email),
        "locale": person.locale,
        "accounts": account_links(session, [person.id]).get(person.id, []),
        "subscribeHistory": subscribe_history(session, s.Subscription.person_id == person.id),
        "links": links,
        "custom_fields": person.custom_fields or [],
        "created_at": iso(person.created_at),
        "updated_at": iso(person.updated_at),
    }
    return data, included


def person_of_account(session: Session, company_id: str, account_id: str,
                      include: frozenset[str] = frozenset()) -> tuple[dict[str, Any], dict[str, Any]]:
    account = find(session, s.Account, company_id, account_id, s.Account.person_id, what="Communication channel")
    return person_view(session, company_id, account.person_id, include)


def update_person(session: Session, company_id: str, person_id: str, body: bodies.UpdatePerson,
                  now: datetime) -> None:
    person = find(session, s.Person, company_id, person_id, s.Person.id, s.Person.custom_fields, s.Person.name,
                  s.Person.email, s.Person.phone, what="Person")
    values: dict[str, Any] = {"updated_at": now}
    if body.phone is not None:
        values["phone"] = body.phone
    if body.email is not None:
        values["email"] = body.email
    if body.phone is not None or body.email is not None:
        values["search_text"] = person_search_text(person.name, values.get("email", person.email),
                                                   values.get("phone", person.phone))
    if body.custom_fields is not None:
        merged = {field["name"]: field for field in person.custom_fields or []}
        for field in body.custom_fields:
            merged[field.name] = field.model_dump()
        values["custom_fields"] = list(merged.values())
    session.execute(update(s.Person).where(s.Person.id == person.id).values(**values)
                    .execution_options(synchronize_session=False))


def _first_source(session: Session, where: ColumnElement[bool], what: str) -> Any:
    source = session.execute(
        select(s.TrafficSource.id, s.TrafficSource.leadgentool_id, s.TrafficSource.tunnel_id)
        .where(where).order_by(s.TrafficSource.created_at, s.TrafficSource.id).limit(1)
    ).first()
    if source is None:
        raise ApiError(409, f"{what} has no traffic source to subscribe through")
    return source


def _connection_of(session: Session, company_id: str, messenger: str, kind: str) -> str:
    """The company's connection for ``messenger``, created on first use."""
    connection_id = session.scalar(
        select(s.Connection.id).where(s.Connection.company_id == company_id, s.Connection.messenger == messenger)
        .order_by(s.Connection.id).limit(1)
    )
    if connection_id is None:
        connection_id = new_oid()
        session.execute(insert(s.Connection).values(id=connection_id, company_id=company_id, type=kind,
                                                    name=kind.capitalize(), messenger=messenger))
    return connection_id


def _new_account(session: Session, company_id: str, person_id: str, connection_id: str, messenger: str,
                 name: str, source: Any, now: datetime) -> str:
    account_id = new_oid(now)
    session.execute(insert(s.Account).values(
        id=account_id, company_id=company_id, person_id=person_id, connection_id=connection_id,
        messenger=messenger, name=name, bot_status="BOT", connection_status="OK", utm_marks={},
        last_message_time=None, created_at=now, updated_at=now,
    ))
    session.execute(insert(s.Subscription).values(
        company_id=company_id, person_id=person_id, account_id=account_id, tunnel_id=source.tunnel_id,
        leadgentool_id=source.leadgentool_id, traffic_source_id=source.id, tunnel_block_id=None, created_at=now,
    ))
    append_message(session, company_id, account_id, "", SYSTEM_MESSAGE, now)
    emit(session, company_id, "SUBSCRIPTION",
         lambda: subscription_event(session, account_id, person_id, source.tunnel_id, source.leadgentool_id,
                                    source.id, now))
    return account_id


def _contact(session: Session, person_id: str | None) -> tuple[str, str]:
    """The person's email and phone as Leeloo shows them (NOT_DEFINED when empty)."""
    row = session.execute(select(s.Person.email, s.Person.phone).where(s.Person.id == person_id)).first() \
        if person_id else None
    return (defined(row.email), defined(row.phone)) if row else (NOT_DEFINED, NOT_DEFINED)


def subscription_event(session: Session, account_id: str, person_id: str, tunnel_id: str | None,
                       leadgentool_id: str | None, source_id: str | None, now: datetime) -> dict[str, Any]:
    """The data of a SUBSCRIPTION webhook (our reading: the wiki's copy ends before its example)."""
    source = session.scalar(select(s.TrafficSource.name).where(s.TrafficSource.id == source_id)) \
        if source_id else None
    email, phone = _contact(session, person_id)
    return {"account_id": account_id, "person_id": person_id, "tunnel_id": tunnel_id,
            "leadgentool_id": leadgentool_id, "source": source, "email": email, "phone": phone,
            "created_at": iso(now)}


def _new_person(session: Session, company_id: str, name: str, phone: str | None, email: str | None,
                now: datetime) -> str:
    person_id = new_oid(now)
    session.execute(insert(s.Person).values(
        id=person_id, company_id=company_id, name=name, phone=phone, email=email, gender="NOT_DEFINED",
        locale="", profile_image="NOT_DEFINED", custom_fields=[], last_message_time=None,
        created_at=now, updated_at=now, search_text=person_search_text(name, email, phone),
    ))
    return person_id


def _require_all(session: Session, model: Any, company_id: str, ids: list[str], what: str, field: str) -> None:
    wanted = set(ids)
    if not wanted:
        return
    found = set(session.scalars(select(model.id).where(model.id.in_(wanted), model.company_id == company_id)))
    missing = sorted(wanted - found)
    if missing:
        raise ApiError(404, f"{what} not found: {', '.join(missing)}", field=field)


def create_person(session: Session, company_id: str, body: bodies.CreatePerson, now: datetime) -> dict[str, Any]:
    """POST /api/v2/people: a person with a MANUAL account, subscribed through the leadgentool."""
    find(session, s.Leadgentool, company_id, body.leadgentool_id, what="Leadgentool", field="leadgentool_id")
    _require_all(session, s.User, company_id, body.connected_users_ids, "User", "connected_users_ids")
    source = _first_source(session, s.TrafficSource.leadgentool_id == body.leadgentool_id, "The leadgentool")
    person_id = _new_person(session, company_id, body.name, body.phone, body.email, now)
    connection_id = _connection_of(session, company_id, MESSENGER_MANUAL, "manual")
    account_id = _new_account(session, company_id, person_id, connection_id, MESSENGER_MANUAL, body.name,
                              source, now)
    for user_id in dict.fromkeys(body.connected_users_ids):
        session.execute(insert(s.ContactedUser).values(person_id=person_id, user_id=user_id))
    return {
        "id": account_id,
        "person_id": person_id,
        "name": body.name,
        "tags": [],
        "from": MESSENGER_MANUAL,
        "botStatus": "BOT",
        "connectionStatus": "OK",
        "gender": NOT_DEFINED,
        "phone": defined(body.phone),
        "email": defined(body.email),
        "locale": "",
        "subscribeHistory": subscribe_history(session, s.Subscription.account_id == account_id),
        "createdAt": iso(now),
        "updatedAt": iso(now),
    }


def people_sms(session: Session, company_id: str, body: bodies.PeopleSms, now: datetime) -> int:
    """POST /api/v2/people/sms: an SMS account per entry (on the person with that phone, or a
    new person), subscribed through the leadgentool and tagged with the given tag ids."""
    connection = find(session, s.Connection, company_id, body.connection_id, s.Connection.id,
                      s.Connection.messenger, what="Connection", field="connection_id")
    if connection.messenger != MESSENGER_SMS:
        raise ApiError(422, "connection_id is not an SMS connection", field="connection_id")
    find(session, s.Leadgentool, company_id, body.leadgentool_id, what="Leadgentool", field="leadgentool_id")
    _require_all(session, s.Tag, company_id, body.tags, "Tag", "tags")
    source = _first_source(session, s.TrafficSource.leadgentool_id == body.leadgentool_id, "The leadgentool")
    for entry in body.data:
        person_id = session.scalar(
            select(s.Person.id).where(s.Person.company_id == company_id, s.Person.phone == entry.phone)
            .order_by(s.Person.created_at).limit(1)
        )
        if person_id is None:
            person_id = _new_person(session, company_id, entry.name or entry.phone, entry.phone, entry.email, now)
        account_id = session.scalar(
            select(s.Account.id).where(s.Account.person_id == person_id, s.Account.connection_id == connection.id)
        )
        if account_id is None:
            _new_account(session, company_id, person_id, connection.id, MESSENGER_SMS, entry.name or entry.phone,
                         source, now)
        _tag(session, person_id, body.tags)
    return len(body.data)


def _tag(session: Session, person_id: str, tag_ids: list[str]) -> None:
    present = set(session.scalars(select(s.PersonTag.tag_id).where(s.PersonTag.person_id == person_id)))
    for tag_id in dict.fromkeys(tag_ids):
        if tag_id not in present:
            session.execute(insert(s.PersonTag).values(person_id=person_id, tag_id=tag_id))


def change_tag(session: Session, company_id: str, person_id: str, tag_id: str, *, add: bool, now: datetime) -> None:
    """add-tag / remove-tag; both are idempotent."""
    find(session, s.Person, company_id, person_id, what="Person")
    find(session, s.Tag, company_id, tag_id, what="Tag", field="tag_id")
    if add:
        _tag(session, person_id, [tag_id])
    else:
        session.execute(delete(s.PersonTag).where(s.PersonTag.person_id == person_id, s.PersonTag.tag_id == tag_id))
    session.execute(update(s.Person).where(s.Person.id == person_id).values(updated_at=now)
                    .execution_options(synchronize_session=False))


def add_comment(session: Session, company_id: str, person_id: str, text: str, created_by: str,
                now: datetime) -> dict[str, Any]:
    find(session, s.Person, company_id, person_id, what="Person")
    comment_id = new_oid(now)
    session.execute(insert(s.Comment).values(id=comment_id, company_id=company_id, person_id=person_id,
                                             created_by=created_by, text=text, created_at=now, updated_at=now))
    return {
        "created_by": created_by,
        "company_id": company_id,
        "text": text,
        "entity_id": person_id,
        "entity_type": "PERSON",
        "created_at": iso(now),
        "updated_at": iso(now),
        "id": comment_id,
    }


# --- communication channels and messages --------------------------------------------------


def list_channels(sandbox: Sandbox, session: Session, company_id: str, last_from: datetime | None,
                  last_to: datetime | None, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """GET /api/v2/communication-channels, most recent conversation first."""
    where: list[ColumnElement[bool]] = [s.Account.company_id == company_id]
    if last_from:
        where.append(s.Account.last_message_time >= last_from)
    if last_to:
        where.append(s.Account.last_message_time <= last_to)
    total = count(sandbox, company_id, ("channels", last_from, last_to), select(s.Account.id).where(*where),
                  rows_of=("leeloo_account",), values_of=("leeloo_account",) if last_from or last_to else ())
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
         "lastMessageTime": iso(r.last_message_time), "createdAt": iso(r.created_at), "utmMarks": r.utm_marks or {}}
        for r in rows
    ], total


def chat_messages(sandbox: Sandbox, company_id: str, account_id: str, limit: int, offset: int,
                  *, with_author: bool) -> tuple[list[dict[str, Any]], int]:
    """An account's chat history, newest first; v1 links each manual message to its author."""
    # A hot read: hand-written SQL, same checks and order as find() and the ORM query had.
    if not (is_oid(account_id) and sandbox.query(fastsql.ACCOUNT_EXISTS,
                                                 {"account": account_id, "company": company_id})):
        raise ApiError(404, "Communication channel not found")
    key = ("messages", account_id)
    total: int | None = sandbox.cache(company_id).get(key)
    if total is None:
        total = count(sandbox, company_id, key, select(s.Message.id).where(s.Message.account_id == account_id),
                      rows_of=("leeloo_message",))
    items = []
    for message_id, text, kind, read, created_by, created_at, updated_at in sandbox.query(
            fastsql.CHAT_PAGE, {"account": account_id, "limit": limit, "offset": offset}):
        item: dict[str, Any] = {"id": message_id, "text": text, "type": kind, "read": bool(read),
                                "createdAt": iso_stored(created_at), "updatedAt": iso_stored(updated_at)}
        if with_author and created_by:
            item["links"] = {"createdBy": {"type": "users", "id": created_by}}
        items.append(item)
    return items, total




def append_message(session: Session | RawTransaction, company_id: str, account_id: str, text: str, kind: str,
                   now: datetime, *, created_by: str | None = None, template_id: str | None = None,
                   field: str | None = None) -> tuple[str, str]:
    """A message at the top of the account's chat; the account's and person's lastMessageTime follow.
    Returns the message's id and the person's.

    The hottest write (POST send-message), so three hand-written statements."""
    stored_now = db_time(session, now)
    touched = run_sql(session, fastsql.TOUCH_ACCOUNT,
                      {"now": stored_now, "account": account_id, "company": company_id}) if is_oid(account_id) else []
    if not touched:
        raise ApiError(404, "Communication channel not found", field=field)
    message_id = new_oid(now)
    run_sql(session, fastsql.INSERT_MESSAGE, {
        "id": message_id, "company": company_id, "account": account_id, "text": text, "type": kind, "read": True,
        "created_by": created_by, "template_id": template_id, "now": stored_now,
    })
    person_id: str = touched[0][0]
    run_sql(session, fastsql.TOUCH_PERSON, {"now": stored_now, "person": person_id})
    return message_id, person_id


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def render_template(session: Session, company_id: str, template_id: str, variables: dict[str, Any]) -> str:
    template = find(session, s.Template, company_id, template_id, s.Template.text, what="Template",
                    field="template_id")
    text: str = template.text
    return _PLACEHOLDER.sub(lambda m: str(variables[m[1]]) if m[1] in variables else m[0], text)


def manual_subscribe(session: Session, company_id: str, account_id: str, body: bodies.ManualSubscribe,
                     now: datetime) -> None:
    """Subscribe the account to a tunnel at a block; the block's text is sent as the bot's message."""
    account = find(session, s.Account, company_id, account_id, s.Account.id, s.Account.person_id,
                   what="Communication channel")
    find(session, s.Tunnel, company_id, body.tunnel_id, what="Tunnel", field="tunnel_id")
    block = session.execute(
        select(s.TunnelBlock.text).where(s.TunnelBlock.id == body.tunnel_block_id,
                                         s.TunnelBlock.tunnel_id == body.tunnel_id,
                                         s.TunnelBlock.company_id == company_id)
    ).first()
    if block is None:
        raise ApiError(404, "Tunnel block not found in this tunnel", field="tunnel_block_id")
    source = _first_source(session, s.TrafficSource.tunnel_id == body.tunnel_id, "The tunnel")
    session.execute(insert(s.Subscription).values(
        company_id=company_id, person_id=account.person_id, account_id=account.id, tunnel_id=body.tunnel_id,
        leadgentool_id=source.leadgentool_id, traffic_source_id=source.id, tunnel_block_id=body.tunnel_block_id,
        created_at=now,
    ))
    append_message(session, company_id, account.id, "", SYSTEM_MESSAGE, now)
    if block.text:
        append_message(session, company_id, account.id, block.text, "BOT_MESSAGE", now)
    emit(session, company_id, "SUBSCRIPTION",
         lambda: subscription_event(session, account.id, account.person_id, body.tunnel_id, source.leadgentool_id,
                                    source.id, now))


# --- leadgentools ------------------------------------------------------------------------


def create_traffic_source(session: Session, company_id: str, leadgentool_id: str,
                          body: bodies.CreateTrafficSource, created_by: str, now: datetime) -> dict[str, Any]:
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
        "company_id": company_id, "leadgentool_id": lgt.id, "tunnel_id": lgt.tunnel_id, "created_by": created_by,
        "hash": row["hash"], "resubscribe_button_id": row["resubscribe_button_id"],
        "createdAt": iso(now), "updatedAt": iso(now), "id": source_id,
    }


# --- orders ------------------------------------------------------------------------------


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


def create_order(session: Session, company_id: str, body: bodies.CreateOrder, now: datetime) -> dict[str, Any]:
    """POST /api/v2/orders: an OPENED manual order for the person, priced by the offer."""
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
    session.execute(insert(s.Order).values(
        id=order_id, company_id=company_id, person_id=person.id, offer_id=offer.id, tunnel_id=offer.tunnel_id,
        title=offer.title, description=offer.description, price=offer.price, currency=offer.currency,
        status="OPENED", payment_method=MANUAL, payment_credits_id=credits.id, manager_id=body.managerId,
        email=body.email or person.email, phone=body.phone or person.phone, is_notify_account=body.isNotifyAccount,
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


ORDER_LIST_COLUMNS = (s.Order.id, s.Order.person_id, s.Order.title, s.Order.price, s.Order.currency,
                      s.Order.status, s.Order.created_at, s.Order.updated_at)


def list_orders(sandbox: Sandbox, session: Session, company_id: str, limit: int,
                offset: int) -> tuple[list[dict[str, Any]], int]:
    query = select(s.Order.id).where(s.Order.company_id == company_id)
    total = count(sandbox, company_id, ("orders",), query, rows_of=("leeloo_order",))
    rows = session.execute(
        select(*ORDER_LIST_COLUMNS).where(s.Order.company_id == company_id)
        .order_by(s.Order.created_at.desc(), s.Order.id.desc()).limit(limit).offset(offset)
    )
    return [{"person_id": r.person_id, **_order_brief(r)} for r in rows], total


def get_order(session: Session, company_id: str, order_id: str) -> dict[str, Any]:
    r = find(session, s.Order, company_id, order_id, *ORDER_LIST_COLUMNS, s.Order.description,
             s.Order.payment_method, what="Order")
    return {"id": r.id, "createdAt": iso(r.created_at), "updatedAt": iso(r.updated_at), "title": r.title,
            "description": r.description, "price": money(r.price), "currency": r.currency, "status": r.status,
            "paymentMethod": r.payment_method}


def update_manual_order(session: Session, company_id: str, order_id: str, body: bodies.UpdateManualOrder,
                        now: datetime) -> None:
    """Resolve or reject an OPENED manual order (payment-system orders change only by payment)."""
    order = find(session, s.Order, company_id, order_id, s.Order.id, s.Order.status, s.Order.payment_method,
                 s.Order.person_id, s.Order.title, s.Order.price, s.Order.currency, s.Order.email, s.Order.phone,
                 s.Order.payment_credits_id, what="Order")
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
    session.execute(update(s.Order).where(s.Order.id == order.id).values(**values)
                    .execution_options(synchronize_session=False))
    account_id = _latest_account(session, order.person_id)
    if account_id is not None:
        append_message(session, company_id, account_id, "", SYSTEM_MESSAGE, now)
    if body.status == "RESOLVED":
        emit(session, company_id, "SALE", lambda: {
            "order_id": order.id, "account_id": account_id, "offer_name": order.title,
            "price": money(values.get("price", order.price)), "currency": values.get("currency", order.currency),
            "email": defined(order.email), "phone": defined(order.phone), "created_at": iso(values["payment_date"]),
            "payment_method": order.payment_credits_id})


# --- calls -------------------------------------------------------------------------------


def create_call(session: Session, company_id: str, body: bodies.CreateCall, now: datetime) -> dict[str, Any]:
    find(session, s.User, company_id, body.user_id, what="User", field="user_id")
    find(session, s.Account, company_id, body.account_id, what="Communication channel", field="account_id")
    row = {
        "id": new_oid(now), "company_id": company_id, "account_id": body.account_id, "user_id": body.user_id,
        "from_number": body.from_, "to_number": body.to, "date": body.date, "record_link": body.record_link,
        "status": body.status, "duration": body.duration, "type": body.type,
        "call_id": str(uuid.uuid1()), "telephone_connection_id": new_oid(now), "created_at": now, "updated_at": now,
    }
    session.execute(insert(s.Call).values(**row))
    return {
        "raw_response": {}, "record_link": body.record_link, "company_id": company_id, "user_id": body.user_id,
        "account_id": body.account_id, "provider_type": "MANUAL", "to": body.to, "from": body.from_,
        "type": body.type, "status": body.status, "telephone_connection_id": row["telephone_connection_id"],
        "call_id": row["call_id"], "billsec": body.duration, "created_at": iso(now), "updated_at": iso(now),
        # When the telephony provider is next asked for the recording.
        "next_check": iso(now + timedelta(minutes=20)), "id": row["id"],
    }


# --- catalogue: tags, users, connections, templates ----------------------------------------


def list_tags(session: Session, company_id: str) -> list[dict[str, Any]]:
    rows = session.execute(select(s.Tag.id, s.Tag.name).where(s.Tag.company_id == company_id).order_by(s.Tag.id))
    return [{"id": r.id, "name": r.name} for r in rows]


def list_users(sandbox: Sandbox, session: Session, company_id: str, limit: int,
               offset: int) -> tuple[list[dict[str, Any]], int]:
    query = select(s.User.id).where(s.User.company_id == company_id)
    total = count(sandbox, company_id, ("users",), query, rows_of=("leeloo_user",))
    rows = session.execute(select(*USER_COLUMNS).where(s.User.company_id == company_id)
                           .order_by(s.User.created_at, s.User.id).limit(limit).offset(offset))
    return [user_dict(r) for r in rows], total


def get_user(session: Session, company_id: str, user_id: str) -> dict[str, Any]:
    return user_dict(find(session, s.User, company_id, user_id, *USER_COLUMNS, what="User"))


def list_connections(session: Session, company_id: str) -> list[dict[str, Any]]:
    rows = session.execute(select(s.Connection.id, s.Connection.type, s.Connection.name)
                           .where(s.Connection.company_id == company_id).order_by(s.Connection.id))
    return [{"id": r.id, "type": r.type, "name": r.name} for r in rows]


def list_template_categories(session: Session, company_id: str) -> list[dict[str, Any]]:
    rows = session.execute(select(s.TemplateCategory.id, s.TemplateCategory.name)
                           .where(s.TemplateCategory.company_id == company_id).order_by(s.TemplateCategory.id))
    return [{"id": r.id, "name": r.name} for r in rows]


def list_templates(session: Session, company_id: str, category_id: str) -> list[dict[str, Any]]:
    find(session, s.TemplateCategory, company_id, category_id, what="Template category")
    rows = session.execute(select(s.Template.id, s.Template.message_name)
                           .where(s.Template.category_id == category_id).order_by(s.Template.id.desc()))
    return [{"id": r.id, "message_name": r.message_name} for r in rows]


# --- tunnels -----------------------------------------------------------------------------

TUNNEL_INCLUDES = frozenset({"leadgentools", "blocks"})


def _tunnel_dict(r: Any) -> dict[str, Any]:
    return {"id": r.id, "name": r.name, "createdAt": iso(r.created_at), "updatedAt": iso(r.updated_at)}


TUNNEL_COLUMNS = (s.Tunnel.id, s.Tunnel.name, s.Tunnel.created_at, s.Tunnel.updated_at)


def list_tunnels(sandbox: Sandbox, session: Session, company_id: str, limit: int,
                 offset: int) -> tuple[list[dict[str, Any]], int]:
    query = select(s.Tunnel.id).where(s.Tunnel.company_id == company_id)
    total = count(sandbox, company_id, ("tunnels",), query, rows_of=("leeloo_tunnel",))
    rows = session.execute(select(*TUNNEL_COLUMNS).where(s.Tunnel.company_id == company_id)
                           .order_by(s.Tunnel.created_at, s.Tunnel.id).limit(limit).offset(offset))
    return [_tunnel_dict(r) for r in rows], total


def tunnel_view(session: Session, company_id: str, tunnel_id: str,
                include: frozenset[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A tunnel with links to its leadgentools (and, as an extension, blocks) and the side-loads asked for."""
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


def tunnel_stats(session: Session, company_id: str, tunnel_id: str | None) -> dict[str, Any]:
    """Funnel figures of one tunnel, or of all the company's tunnels together."""
    if tunnel_id is not None:
        find(session, s.Tunnel, company_id, tunnel_id, what="Tunnel")

    def scoped(model: Any) -> ColumnElement[bool]:
        where: ColumnElement[bool] = model.company_id == company_id
        return where & (model.tunnel_id == tunnel_id) if tunnel_id is not None else where

    subs = session.execute(
        select(func.count(), func.count(distinct(s.Subscription.person_id))).where(scoped(s.Subscription))
    ).one()
    orders = session.scalar(select(func.count()).select_from(s.Order).where(scoped(s.Order))) or 0
    sales = session.execute(
        select(s.Order.person_id, s.Order.price, s.Order.currency)
        .where(scoped(s.Order), s.Order.status.in_(PAID_STATUSES))
    ).all()
    counters = (s.TrafficSource.visits, s.TrafficSource.uniq_visits, s.TrafficSource.shows,
                s.TrafficSource.uniq_shows, s.TrafficSource.expenses)
    traffic = session.execute(
        select(*(func.coalesce(func.sum(column), 0) for column in counters)).where(scoped(s.TrafficSource))
    ).one()
    total_sale = sum(row.price * USD_RATES.get(row.currency, 1.0) for row in sales)
    return {
        "subscribers": subs[0],
        "uniqSubscribers": subs[1],
        "orders": orders,
        "sales": len(sales),
        "uniqSales": len({row.person_id for row in sales}),
        "visits": int(traffic[0]),
        "uniqVisits": int(traffic[1]),
        "shows": int(traffic[2]),
        "uniqShows": int(traffic[3]),
        "totalSale": money(round(total_sale, 2)),
        "totalExpenses": money(float(traffic[4])),
    }


# --- API v1: accounts ----------------------------------------------------------------------


def list_accounts_v1(sandbox: Sandbox, session: Session, company_id: str, tags: tuple[str, ...], limit: int,
                     offset: int) -> tuple[list[dict[str, Any]], int]:
    """GET /api/v1/accounts: accounts with their person's tags; filter[tags] matches any tag."""
    query = select(s.Account.id).where(s.Account.company_id == company_id)
    if tags:
        query = query.where(s.Account.person_id.in_(tagged_people(company_id, tags)))
    total = count(sandbox, company_id, ("v1accounts", tags), query, rows_of=("leeloo_account",),
                  values_of=("leeloo_person_tag", "leeloo_tag") if tags else ())
    rows = session.execute(
        select(s.Account.id, s.Account.person_id, s.Account.name, s.Account.messenger, s.Account.bot_status,
               s.Account.last_message_time, s.Account.created_at)
        .where(s.Account.id.in_(query.order_by(s.Account.id).limit(limit).offset(offset).scalar_subquery()))
        .order_by(s.Account.id)
    ).all()
    names = tag_names(session, list({r.person_id for r in rows}))
    return [
        {"id": r.id, "name": r.name, "tags": names.get(r.person_id, []), "from": r.messenger,
         "botStatus": r.bot_status, "lastMessageTime": iso(r.last_message_time), "createdAt": iso(r.created_at)}
        for r in rows
    ], total


def account_v1(session: Session, company_id: str, account_id: str,
               include: frozenset[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """GET /api/v1/accounts/{id}: the account, its person's tags, links and side-loads."""
    a = find(session, s.Account, company_id, account_id, s.Account.id, s.Account.person_id, s.Account.name,
             s.Account.messenger, s.Account.bot_status, s.Account.created_at, s.Account.updated_at,
             what="Account")
    person = session.execute(select(s.Person.gender, s.Person.locale).where(s.Person.id == a.person_id)).one()
    links, included, orders = _person_relations(session, a.person_id, include)
    if "orders" in include:
        included["orders"] = [
            {"price": money(o.price), "currency": o.currency, "paymentMethod": o.payment_method,
             "status": o.status, "updatedAt": iso(o.updated_at)}
            for o in orders
        ]
    history = [
        {key: item[key] for key in ("tunnelName", "leadgentoolName", "trafficSource")}
        for item in subscribe_history(session, s.Subscription.account_id == a.id)
    ]
    data = {
        "id": a.id, "name": a.name, "tags": tag_names(session, [a.person_id]).get(a.person_id, []),
        "from": a.messenger, "botStatus": a.bot_status, "gender": defined(person.gender), "locale": person.locale,
        "subscribeHistory": history, "links": links, "createdAt": iso(a.created_at), "updatedAt": iso(a.updated_at),
    }
    return data, included

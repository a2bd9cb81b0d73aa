"""Leeloo's people: the list (filters, deep pages by anchors), the card, people added by hand
or for SMS, their contacts, custom fields, comments and tags."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, insert, select, update
from sqlalchemy.orm import Session

from leadbridge.contract.leeloo import NOT_DEFINED
from leadbridge.sandbox import fastsql
from leadbridge.sandbox import schema as s
from leadbridge.sandbox.leeloo import bodies
from leadbridge.sandbox.leeloo.backend.core import (
    SYSTEM_MESSAGE,
    USER_COLUMNS,
    Backend,
    api_user,
    append_message,
    count,
    defined,
    find,
    first_source,
    money,
    subscription_event,
    user_dict,
)
from leadbridge.sandbox.search import person_search_text
from leadbridge.sandbox.state import Sandbox
from leadbridge.sandbox.webhooks import emit
from leadbridge.sandbox.wire import ApiError, iso, iso_stored, new_oid

MESSENGER_MANUAL = "MANUAL"  # people added by hand (POST /people) hang on this connection


MESSENGER_SMS = "SMS"


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
# every ANCHOR_STEP-th place, kept until people are added or removed) lets a page start near
# its place instead, so a client walking 100,000 people pays the same for every page, and a
# page at any offset walks fewer than ANCHOR_STEP entries before its first row.
ANCHOR_STEP = 100


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
    rows = _people_rows(sandbox, company_id, limit, offset)
    if not rows:
        return []
    people = {
        pid: {"id": pid, "name": name, "email": defined(email), "phone": defined(phone), "tags": [], "accounts": [],
              "lastMessageTime": iso_stored(last)}
        for pid, name, email, phone, last in rows
    }
    # The page is the company's people from its first id to its last, none left out.
    page_range = {"company": company_id, "first": rows[0][0], "last": rows[-1][0]}
    for pid, account_id, connection_id, status, messenger in sandbox.query(fastsql.PAGE_ACCOUNTS, page_range):
        people[pid]["accounts"].append({"account_id": account_id, "connection_id": connection_id,
                                        "connection_status": status, "from": messenger})
    for pid, tag in sandbox.query(fastsql.PAGE_TAGS, page_range):
        if (person := people.get(pid)) is not None:  # not another company's person in the range
            person["tags"].append(tag)
    return list(people.values())


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


def person_relations(session: Session, person_id: str, include: frozenset[str]) -> tuple[
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


def person_card(session: Session, company_id: str, person_id: str,
                include: frozenset[str] = frozenset()) -> tuple[dict[str, Any], dict[str, Any]]:
    """GET /api/v2/people/{id}: the person and the side-loaded records asked for."""
    person = find(session, s.Person, company_id, person_id,
                  s.Person.id, s.Person.name, s.Person.profile_image, s.Person.gender, s.Person.phone,
                  s.Person.email, s.Person.locale, s.Person.custom_fields, s.Person.created_at,
                  s.Person.updated_at, what="Person")
    links, included, orders = person_relations(session, person.id, include)
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


def _tag(session: Session, person_id: str, tag_ids: list[str]) -> None:
    present = set(session.scalars(select(s.PersonTag.tag_id).where(s.PersonTag.person_id == person_id)))
    for tag_id in dict.fromkeys(tag_ids):
        if tag_id not in present:
            session.execute(insert(s.PersonTag).values(person_id=person_id, tag_id=tag_id))


class PeopleBackend(Backend):
    """People (/api/v2/people…): the list, the card, people added, their contacts, comments and tags."""

    def list_people(self, company_id: str, flt: PeopleFilter, limit: int,
                    offset: int) -> tuple[list[dict[str, Any]], int]:
        """One page of people (GET /api/v2/people) and the number matching the filter."""
        total: int | None = self.sandbox.cache(company_id).get(("people", flt))
        if total is None:
            total = count(self.sandbox, company_id, ("people", flt), _people_query(company_id, flt),
                          rows_of=("leeloo_person",),
                          values_of=() if flt == NO_FILTER else ("leeloo_person", "leeloo_person_tag"))
        if flt == NO_FILTER:
            return _unfiltered_people(self.sandbox, company_id, limit, offset), total
        ids_query = _people_query(company_id, flt)
        with self.sandbox.read() as session:
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

    def person_view(self, company_id: str, person_id: str,
                    include: frozenset[str] = frozenset()) -> tuple[dict[str, Any], dict[str, Any]]:
        """GET /api/v2/people/{id}: the person and the side-loaded records asked for."""
        with self.sandbox.read() as session:
            return person_card(session, company_id, person_id, include)

    def create_person(self, company_id: str, body: bodies.CreatePerson) -> dict[str, Any]:
        """POST /api/v2/people: a person with a MANUAL account, subscribed through the leadgentool."""
        now = self.now()
        with self._write(company_id) as session:
            find(session, s.Leadgentool, company_id, body.leadgentool_id, what="Leadgentool", field="leadgentool_id")
            _require_all(session, s.User, company_id, body.connected_users_ids, "User", "connected_users_ids")
            source = first_source(session, s.TrafficSource.leadgentool_id == body.leadgentool_id, "The leadgentool")
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

    def people_sms(self, company_id: str, body: bodies.PeopleSms) -> int:
        """POST /api/v2/people/sms: an SMS account per entry (on the person with that phone, or a
        new person), subscribed through the leadgentool and tagged with the given tag ids."""
        now = self.now()
        with self._write(company_id) as session:
            connection = find(session, s.Connection, company_id, body.connection_id, s.Connection.id,
                              s.Connection.messenger, what="Connection", field="connection_id")
            if connection.messenger != MESSENGER_SMS:
                raise ApiError(422, "connection_id is not an SMS connection", field="connection_id")
            find(session, s.Leadgentool, company_id, body.leadgentool_id, what="Leadgentool", field="leadgentool_id")
            _require_all(session, s.Tag, company_id, body.tags, "Tag", "tags")
            source = first_source(session, s.TrafficSource.leadgentool_id == body.leadgentool_id, "The leadgentool")
            for entry in body.data:
                person_id = session.scalar(
                    select(s.Person.id).where(s.Person.company_id == company_id, s.Person.phone == entry.phone)
                    .order_by(s.Person.created_at).limit(1)
                )
                if person_id is None:
                    person_id = _new_person(session, company_id, entry.name or entry.phone, entry.phone,
                                            entry.email, now)
                account_id = session.scalar(
                    select(s.Account.id)
                    .where(s.Account.person_id == person_id, s.Account.connection_id == connection.id)
                )
                if account_id is None:
                    _new_account(session, company_id, person_id, connection.id, MESSENGER_SMS,
                                 entry.name or entry.phone, source, now)
                _tag(session, person_id, body.tags)
            return len(body.data)

    def update_person(self, company_id: str, person_id: str, body: bodies.UpdatePerson) -> dict[str, Any]:
        """PUT /api/v2/people/{id}: the person's phone, email and custom fields; answers the updated card."""
        now = self.now()
        with self._write(company_id) as session:
            person = find(session, s.Person, company_id, person_id, s.Person.id, s.Person.custom_fields,
                          s.Person.name, s.Person.email, s.Person.phone, what="Person")
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
            return person_card(session, company_id, person_id)[0]

    def add_comment(self, company_id: str, person_id: str, text: str) -> dict[str, Any]:
        """PUT /api/v2/people/{id}/add-comment: a comment by the API user."""
        now = self.now()
        with self._write(company_id) as session:
            created_by = api_user(self.sandbox, session, company_id)
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

    def change_tag(self, company_id: str, person_id: str, tag_id: str, *, add: bool) -> None:
        """add-tag / remove-tag; both are idempotent."""
        now = self.now()
        with self._write(company_id) as session:
            find(session, s.Person, company_id, person_id, what="Person")
            find(session, s.Tag, company_id, tag_id, what="Tag", field="tag_id")
            if add:
                _tag(session, person_id, [tag_id])
            else:
                session.execute(delete(s.PersonTag)
                                .where(s.PersonTag.person_id == person_id, s.PersonTag.tag_id == tag_id))
            session.execute(update(s.Person).where(s.Person.id == person_id).values(updated_at=now)
                            .execution_options(synchronize_session=False))

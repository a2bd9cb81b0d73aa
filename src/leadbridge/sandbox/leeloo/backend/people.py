"""Leeloo's people: the list (filters, deep pages by anchors), the card, people added by hand
or for SMS, their contacts, custom fields, comments and tags."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, select

from leadbridge.contract.leeloo import NOT_DEFINED
from leadbridge.sandbox import fastsql, tunnel_stats
from leadbridge.sandbox import schema as s
from leadbridge.sandbox.leeloo import bodies
from leadbridge.sandbox.leeloo.backend.core import (
    SYSTEM_MESSAGE,
    Backend,
    api_user,
    count,
    defined,
    first_source,
    lookup,
    money,
    subscription_event,
)
from leadbridge.sandbox.search import person_search_text
from leadbridge.sandbox.state import (
    RawTransaction,
    Reader,
    Sandbox,
    db_json,
    db_time,
    from_db_json,
    note_added,
    run_sql,
)
from leadbridge.sandbox.webhooks import emit
from leadbridge.sandbox.wire import ApiError, is_oid, iso, iso_stored, new_oid

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


def tag_names(read: Reader, person_ids: list[str]) -> dict[str, list[str]]:
    """Each person's tag names, by name."""
    names: dict[str, list[str]] = defaultdict(list)
    if person_ids:
        sql, ids = fastsql.in_list(fastsql.TAGS_OF_PEOPLE, person_ids)
        for person_id, name in read(sql, ids):
            names[person_id].append(name)
    return names


def account_links(read: Reader, person_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each person's accounts, oldest first."""
    links: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if person_ids:
        sql, ids = fastsql.in_list(fastsql.ACCOUNTS_OF_PEOPLE, person_ids)
        for person_id, account_id, connection_id, connection_status, messenger in read(sql, ids):
            links[person_id].append({"account_id": account_id, "connection_id": connection_id,
                                     "connection_status": connection_status, "from": messenger})
    return links


NO_FILTER = PeopleFilter()


# The unfiltered people page is the hottest read: by hand (fastsql), in three small indexed
# queries on the sandbox's read connection (same order as tag_names and account_links).
# A deep OFFSET makes the database walk every index entry before it; an anchor (the id at
# every ANCHOR_STEP-th place, kept until people are added before the last of them or
# removed) lets a page start near its place instead, so a client walking 1,000,000 people
# pays the same for every page, and a page at any offset walks fewer than ANCHOR_STEP
# entries before its first row.
ANCHOR_STEP = 100


def _anchors_after(anchors: list[str], added: list[str]) -> list[str] | None:
    """The anchors after people were added: the same while every new id comes after the last
    anchor (the new people's ids come from the clock, so they do), since no one moved; those
    past it are found as pages ask (:func:`_people_rows`)."""
    return anchors if anchors and min(added) > anchors[-1] else None


def _people_count_after(total: int, added: list[str]) -> int:
    return total + len(added)


def _people_rows(sandbox: Sandbox, company_id: str, limit: int, offset: int) -> list[Any]:
    if offset < ANCHOR_STEP:
        return sandbox.query(fastsql.PEOPLE_PAGE, {"company": company_id, "limit": limit, "offset": offset})
    # Kept until people are removed or added before the last anchor: no other change moves a
    # person in id order.
    cache = sandbox.cache(company_id)
    anchors: list[str] | None = cache.get("people-anchors")
    if anchors is None:
        anchors = [row[0] for row in
                   sandbox.query(fastsql.PEOPLE_ANCHORS, {"company": company_id, "step": ANCHOR_STEP})]
        cache.put("people-anchors", anchors, rows_of=("leeloo_person",), on_append=_anchors_after)
    place = offset // ANCHOR_STEP
    while place >= len(anchors):  # people added since the anchors were read: a step's walk each
        following = sandbox.query(fastsql.PEOPLE_NEXT_ANCHOR,
                                  {"company": company_id, "anchor": anchors[-1], "step": ANCHOR_STEP})
        if not following:
            return []
        anchors.append(following[0][0])
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


def subscribe_history(read: Reader, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """A person's or account's ``subscribeHistory`` (``fastsql.PERSON_SUBSCRIPTIONS`` or
    ``ACCOUNT_SUBSCRIPTIONS``), oldest first."""
    return [history_item(*row) for row in read(sql, params)]


def history_item(tunnel_name: str, leadgentool_name: str, source_name: str, tunnel_id: str, leadgentool_id: str,
                 source_id: str, account_id: str) -> dict[str, Any]:
    """One subscription of a person's or account's ``subscribeHistory``."""
    return {"tunnelName": tunnel_name, "leadgentoolName": leadgentool_name, "trafficSource": source_name,
            "tunnelId": tunnel_id, "leadgentoolId": leadgentool_id, "trafficSourceId": source_id,
            "accountId": account_id}


PERSON_INCLUDES = frozenset({"contactedUsers", "orders"})


class OrderOfPerson(NamedTuple):
    id: str
    title: str
    price: float
    currency: str
    status: str
    payment_method: str
    updated_at: Any  # as stored: read it with iso_stored


def person_relations(read: Reader, person_id: str, include: frozenset[str]) -> tuple[
    dict[str, list[dict[str, str]]], dict[str, list[dict[str, Any]]], list[OrderOfPerson]
]:
    """links (always), included (as asked) and the order rows of one person."""
    user_ids = [row[0] for row in read(fastsql.CONTACTED_USERS, {"person": person_id})]
    orders = [OrderOfPerson(*row) for row in read(fastsql.PERSON_ORDERS, {"person": person_id})]
    links = {
        "contactedUsers": [{"type": "users", "id": user_id} for user_id in user_ids],
        "orders": [{"type": "orders", "id": order.id} for order in orders],
    }
    included: dict[str, list[dict[str, Any]]] = {}
    if "contactedUsers" in include:
        users = read(*fastsql.in_list(fastsql.USERS_BY_ID, user_ids)) if user_ids else []
        included["users"] = [{"id": user_id, "name": name, "createdAt": iso_stored(created_at),
                              "updatedAt": iso_stored(updated_at)} for user_id, name, created_at, updated_at in users]
    if "orders" in include:
        included["orders"] = []
    return links, included, orders


def person_card(read: Reader, company_id: str, person_id: str, include: frozenset[str] = frozenset(), *,
                row: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """GET /api/v2/people/{id}: the person and the side-loaded records asked for, read by
    hand-written SQL (``read``: the sandbox's read connection, or a write's transaction).
    ``row``: the person's row as ``fastsql.PERSON_CARD`` reads it, when the caller has it."""
    if row is not None:
        rows = [row]
    else:
        rows = read(fastsql.PERSON_CARD, {"id": person_id, "company": company_id}) if is_oid(person_id) else []
    if not rows:
        raise ApiError(404, "Person not found")
    (person_id, name, profile_image, gender, phone, email, locale, custom_fields, created_at,
     updated_at) = rows[0]
    links, included, orders = person_relations(read, person_id, include)
    if "orders" in include:
        included["orders"] = [
            {"id": o.id, "title": o.title, "price": money(o.price), "currency": o.currency, "status": o.status,
             "updatedAt": iso_stored(o.updated_at)}
            for o in orders
        ]
    data = {
        "id": person_id,
        "name": name,
        "tags": tag_names(read, [person_id]).get(person_id, []),
        "profileImage": defined(profile_image),
        "gender": defined(gender),
        "phone": defined(phone),
        "email": defined(email),
        "locale": locale,
        "accounts": account_links(read, [person_id]).get(person_id, []),
        "subscribeHistory": subscribe_history(read, fastsql.PERSON_SUBSCRIPTIONS, {"person": person_id}),
        "links": links,
        "custom_fields": from_db_json(custom_fields) or [],
        "created_at": iso_stored(created_at),
        "updated_at": iso_stored(updated_at),
    }
    return data, included


def _new_account(transaction: RawTransaction, company_id: str, person_id: str, connection_id: str, messenger: str,
                 name: str, source: tuple[str, str, str], now: datetime, *, new_person: bool) -> str:
    """An account of the person on the connection, subscribed through ``source``, with its system
    message. ``new_person``: the person was added by this write (:func:`_new_person`), with its
    last message at ``now`` already."""
    account_id = new_oid(now)
    source_id, leadgentool_id, tunnel_id = source
    stored_now = db_time(transaction, now)
    # The account goes in with its last message at now (fastsql.INSERT_ACCOUNT): the system
    # message below, inserted as append_message would, without touching the account after.
    run_sql(transaction, fastsql.INSERT_ACCOUNT, {
        "id": account_id, "company": company_id, "person": person_id, "connection": connection_id,
        "messenger": messenger, "name": name, "utm_marks": db_json(transaction, {}), "now": stored_now,
    })
    tunnel_stats.count_new_subscription(transaction, company_id, person_id, tunnel_id, new_person=new_person)
    run_sql(transaction, fastsql.INSERT_SUBSCRIPTION, {
        "company": company_id, "person": person_id, "account": account_id, "tunnel": tunnel_id,
        "leadgentool": leadgentool_id, "source": source_id, "block": None, "now": stored_now,
    })
    run_sql(transaction, fastsql.INSERT_MESSAGE, {
        "id": new_oid(now), "company": company_id, "account": account_id, "text": "", "type": SYSTEM_MESSAGE,
        "read": True, "created_by": None, "template_id": None, "now": stored_now,
    })
    if not new_person:
        run_sql(transaction, fastsql.TOUCH_PERSON, {"now": stored_now, "person": person_id})
    emit(transaction, company_id, "SUBSCRIPTION",
         lambda: subscription_event(transaction, account_id, person_id, tunnel_id, leadgentool_id, source_id, now))
    return account_id


def _new_person(transaction: RawTransaction, company_id: str, name: str, phone: str | None, email: str | None,
                now: datetime) -> str:
    """A person, who gets an account at once (:func:`_new_account`): its last message is at ``now``."""
    person_id = new_oid(now)
    run_sql(transaction, fastsql.INSERT_PERSON, {
        "id": person_id, "company": company_id, "name": name, "phone": phone, "email": email,
        "custom_fields": db_json(transaction, []), "now": db_time(transaction, now),
        "search_text": person_search_text(name, email, phone),
    })
    note_added(transaction, "leeloo_person", person_id)
    return person_id


def _require_all(transaction: RawTransaction, sql: str, company_id: str, ids: list[str], what: str,
                 field: str) -> None:
    """Every one of ``ids`` is a record of the company that ``sql`` (``fastsql.…_OF_COMPANY``) finds."""
    wanted = sorted(set(ids))
    if not wanted:
        return
    statement, params = fastsql.in_list(sql, wanted)
    found = {row[0] for row in run_sql(transaction, statement, {**params, "company": company_id})}
    missing = [oid for oid in wanted if oid not in found]
    if missing:
        raise ApiError(404, f"{what} not found: {', '.join(missing)}", field=field)


def _tag(transaction: RawTransaction, person_id: str, tag_ids: list[str]) -> None:
    present = {row[0] for row in run_sql(transaction, fastsql.TAGS_OF_PERSON, {"person": person_id})}
    for tag_id in dict.fromkeys(tag_ids):
        if tag_id not in present:
            run_sql(transaction, fastsql.INSERT_PERSON_TAG, {"person": person_id, "tag": tag_id})


def _single_value_filter(flt: PeopleFilter) -> tuple[str, str] | None:
    """("phone" or "email", the value) when that is the filter's only condition and a value a
    person may have (not NOT_DEFINED, which matches the people without one), else None."""
    if flt.tags or flt.last_message_from or flt.last_message_to or bool(flt.phone) == bool(flt.email):
        return None
    column, value = ("phone", flt.phone) if flt.phone else ("email", flt.email)
    return None if value is None or value == NOT_DEFINED else (column, value)


def _people_of_value(sandbox: Sandbox, company_id: str, column: str, value: str, limit: int,
                     offset: int) -> tuple[list[dict[str, Any]], int]:
    """A page of the people with this phone (email), and how many they are: the lookup flows make
    before adding a person, so by hand and uncached (a new value each time; both read an index
    range of a few entries)."""
    page, counted = ((fastsql.PEOPLE_OF_PHONE, fastsql.PEOPLE_OF_PHONE_COUNT) if column == "phone"
                     else (fastsql.PEOPLE_OF_EMAIL, fastsql.PEOPLE_OF_EMAIL_COUNT))
    params = {"company": company_id, "value": value}
    total: int = sandbox.query(counted, params)[0][0]
    rows = sandbox.query(page, {**params, "limit": limit, "offset": offset}) if total > offset else []
    ids = [row[0] for row in rows]
    tags = tag_names(sandbox.query, ids)
    accounts = account_links(sandbox.query, ids)
    return [
        {"id": pid, "name": name, "email": defined(email), "phone": defined(phone), "tags": tags.get(pid, []),
         "accounts": accounts.get(pid, []), "lastMessageTime": iso_stored(last)}
        for pid, name, email, phone, last in rows
    ], total


class PeopleBackend(Backend):
    """People (/api/v2/people…): the list, the card, people added, their contacts, comments and tags."""

    def list_people(self, company_id: str, flt: PeopleFilter, limit: int,
                    offset: int) -> tuple[list[dict[str, Any]], int]:
        """One page of people (GET /api/v2/people) and the number matching the filter."""
        single = _single_value_filter(flt)
        if single is not None:
            return _people_of_value(self.sandbox, company_id, *single, limit, offset)
        total: int | None = self.sandbox.cache(company_id).get(("people", flt))
        if total is None:
            total = count(self.sandbox, company_id, ("people", flt), _people_query(company_id, flt),
                          rows_of=("leeloo_person",),
                          values_of=() if flt == NO_FILTER else ("leeloo_person", "leeloo_person_tag"),
                          on_append=_people_count_after if flt == NO_FILTER else None)
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
        tags = tag_names(self.sandbox.query, ids)
        accounts = account_links(self.sandbox.query, ids)
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
        return person_card(self.sandbox.query, company_id, person_id, include)

    def _first_source_of_leadgentool(self, transaction: RawTransaction, company_id: str,
                                     leadgentool_id: str) -> tuple[tuple[str, str, str], tuple[Any, ...]]:
        """The traffic source a person added through the leadgentool subscribes through (kept until
        a source, tunnel or leadgentool changes), and the row of ``fastsql.FIRST_SOURCE_OF_LEADGENTOOL``."""
        rows = self._kept_rows(transaction, ("leeloo_traffic_source", "leeloo_tunnel", "leeloo_leadgentool"),
                               fastsql.FIRST_SOURCE_OF_LEADGENTOOL, company_id, {"leadgentool": leadgentool_id})
        return first_source(rows, "The leadgentool"), tuple(rows[0])

    def _connection_of(self, transaction: RawTransaction, company_id: str, messenger: str, kind: str) -> str:
        """The company's connection for ``messenger``, created on first use (and kept once it exists)."""
        rows = self._kept_rows(transaction, ("leeloo_connection",), fastsql.CONNECTION_OF_MESSENGER, company_id,
                               {"company": company_id, "messenger": messenger})
        if rows:
            connection_id: str = rows[0][0]
            return connection_id
        connection_id = new_oid()
        run_sql(transaction, fastsql.INSERT_CONNECTION, {"id": connection_id, "company": company_id, "type": kind,
                                                         "name": kind.capitalize(), "messenger": messenger})
        return connection_id

    def create_person(self, company_id: str, body: bodies.CreatePerson) -> dict[str, Any]:
        """POST /api/v2/people: a person with a MANUAL account, subscribed through the leadgentool."""
        now = self.now()
        with self._write(company_id) as transaction:
            lookup(transaction, fastsql.LEADGENTOOL_OF_COMPANY, company_id, body.leadgentool_id, what="Leadgentool",
                   field="leadgentool_id")
            _require_all(transaction, fastsql.USERS_OF_COMPANY, company_id, body.connected_users_ids, "User",
                         "connected_users_ids")
            source, (_, _, _, shown, tunnel_name, leadgentool_name, source_name) = (
                self._first_source_of_leadgentool(transaction, company_id, body.leadgentool_id))
            person_id = _new_person(transaction, company_id, body.name, body.phone, body.email, now)
            connection_id = self._connection_of(transaction, company_id, MESSENGER_MANUAL, "manual")
            account_id = _new_account(transaction, company_id, person_id, connection_id, MESSENGER_MANUAL, body.name,
                                      source, now, new_person=True)
            for user_id in dict.fromkeys(body.connected_users_ids):
                run_sql(transaction, fastsql.INSERT_CONTACTED_USER, {"person": person_id, "user": user_id})
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
                # The new account's one subscription (as fastsql.ACCOUNT_SUBSCRIPTIONS would read it).
                "subscribeHistory": [history_item(tunnel_name, leadgentool_name, source_name, source[2], source[1],
                                                  source[0], account_id)] if shown else [],
                "createdAt": iso(now),
                "updatedAt": iso(now),
            }

    def people_sms(self, company_id: str, body: bodies.PeopleSms) -> int:
        """POST /api/v2/people/sms: an SMS account per entry (on the person with that phone, or a
        new person), subscribed through the leadgentool and tagged with the given tag ids."""
        now = self.now()
        with self._write(company_id) as transaction:
            connection_id, messenger = lookup(transaction, fastsql.CONNECTION_OF_COMPANY, company_id,
                                              body.connection_id, what="Connection", field="connection_id")
            if messenger != MESSENGER_SMS:
                raise ApiError(422, "connection_id is not an SMS connection", field="connection_id")
            lookup(transaction, fastsql.LEADGENTOOL_OF_COMPANY, company_id, body.leadgentool_id, what="Leadgentool",
                   field="leadgentool_id")
            _require_all(transaction, fastsql.TAGS_OF_COMPANY, company_id, body.tags, "Tag", "tags")
            source, _ = self._first_source_of_leadgentool(transaction, company_id, body.leadgentool_id)
            for entry in body.data:
                found = run_sql(transaction, fastsql.PERSON_OF_PHONE, {"company": company_id, "phone": entry.phone})
                person_id = found[0][0] if found else _new_person(
                    transaction, company_id, entry.name or entry.phone, entry.phone, entry.email, now)
                if not found or not run_sql(transaction, fastsql.ACCOUNT_ON_CONNECTION,
                                            {"person": person_id, "connection": connection_id}):
                    _new_account(transaction, company_id, person_id, connection_id, MESSENGER_SMS,
                                 entry.name or entry.phone, source, now, new_person=not found)
                _tag(transaction, person_id, body.tags)
            return len(body.data)

    def update_person(self, company_id: str, person_id: str, body: bodies.UpdatePerson) -> dict[str, Any]:
        """PUT /api/v2/people/{id}: the person's phone, email and custom fields; answers the updated card."""
        now = self.now()
        with self._write(company_id) as transaction:
            person_id, name, email, phone, stored_fields, search_text = lookup(
                transaction, fastsql.PERSON_TO_UPDATE, company_id, person_id, what="Person")
            custom_fields = from_db_json(stored_fields) or []
            if body.custom_fields is not None:
                merged = {field["name"]: field for field in custom_fields}
                for field in body.custom_fields:
                    merged[field.name] = field.model_dump()
                custom_fields = list(merged.values())
            phone = phone if body.phone is None else body.phone
            email = email if body.email is None else body.email
            values = {"person": person_id, "now": db_time(transaction, now), "phone": phone, "email": email,
                      "custom_fields": db_json(transaction, custom_fields)}
            new_search_text = person_search_text(name, email, phone)
            if new_search_text == search_text:
                updated = run_sql(transaction, fastsql.UPDATE_PERSON, values)
            else:
                updated = run_sql(transaction, fastsql.UPDATE_PERSON_AND_SEARCH_TEXT,
                                  {**values, "search_text": new_search_text})
            return person_card(transaction.read, company_id, person_id, row=updated[0])[0]

    def add_comment(self, company_id: str, person_id: str, text: str) -> dict[str, Any]:
        """PUT /api/v2/people/{id}/add-comment: a comment by the API user."""
        now = self.now()
        with self._write(company_id) as transaction:
            created_by = api_user(self.sandbox, transaction, company_id)
            lookup(transaction, fastsql.PERSON_OF_COMPANY, company_id, person_id, what="Person")
            comment_id = new_oid(now)
            run_sql(transaction, fastsql.INSERT_COMMENT, {"id": comment_id, "company": company_id, "person": person_id,
                                                          "created_by": created_by, "text": text,
                                                          "now": db_time(transaction, now)})
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
        with self._write(company_id) as transaction:
            lookup(transaction, fastsql.PERSON_OF_COMPANY, company_id, person_id, what="Person")
            lookup(transaction, fastsql.TAG_OF_COMPANY, company_id, tag_id, what="Tag", field="tag_id")
            if add:
                _tag(transaction, person_id, [tag_id])
            else:
                run_sql(transaction, fastsql.DELETE_PERSON_TAG, {"person": person_id, "tag": tag_id})
            run_sql(transaction, fastsql.TOUCH_PERSON_UPDATED, {"person": person_id, "now": db_time(transaction, now)})

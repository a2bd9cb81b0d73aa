"""What every group of Leeloo's state shares: lookups, counts, the API user, how values are
shown, messages at the top of a chat, subscriptions, and :class:`Backend`, the binding to a
sandbox whose :meth:`Backend._write` is the one way a Leeloo write reaches the database.

Every lookup filters on the company: another tenant's id is simply "not found"."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Self

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadbridge.contract.leeloo import NOT_DEFINED
from leadbridge.sandbox import fastsql
from leadbridge.sandbox import schema as s
from leadbridge.sandbox.cache import OnAppend
from leadbridge.sandbox.state import RawTransaction, Sandbox, db_time, run_sql
from leadbridge.sandbox.wire import ApiError, is_oid, iso, new_oid

# The notice of an account's action (a subscription, an order created or changed): the v1
# document's example shows it with empty text.
SYSTEM_MESSAGE = "SYSTEM_MESSAGE"


def defined(value: str | None) -> str:
    """A stored value as Leeloo shows it: an empty one is ``"NOT_DEFINED"``."""
    return value if value else NOT_DEFINED


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
          values_of: Iterable[str] = (), on_append: OnAppend | None = None) -> int:
    """COUNT(*) of ``query``, kept in the company's cache until a write changes what it reads
    (``rows_of``: tables whose rows it counts; ``values_of``: tables whose columns it filters on;
    ``on_append``: see cache.CompanyCache.put)."""
    cache = sandbox.cache(company_id)
    cached: int | None = cache.get(key)
    if cached is None:
        with sandbox.read() as session:
            cached = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        cache.put(key, cached, rows_of=rows_of, values_of=values_of, on_append=on_append)
    return cached


def company_page(sandbox: Sandbox, session: Session, company_id: str, model: Any, columns: Sequence[Any],
                 order_by: Sequence[Any], limit: int, offset: int) -> tuple[Sequence[Any], int]:
    """One page of the company's rows of ``model`` (``columns`` in ``order_by``) and how many it has
    in all, counted once and kept until rows of the table are added or removed."""
    table: str = model.__tablename__
    where = model.company_id == company_id
    total = count(sandbox, company_id, (table,), select(model.id).where(where), rows_of=(table,))
    rows = session.execute(select(*columns).where(where).order_by(*order_by).limit(limit).offset(offset)).all()
    return rows, total


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


def append_message(session: Session | RawTransaction, company_id: str, account_id: str, text: str, kind: str,
                   now: datetime, *, created_by: str | None = None, template_id: str | None = None,
                   field: str | None = None) -> tuple[str, str]:
    """A message at the top of the account's chat; the account's and person's lastMessageTime follow.
    Returns the message's id and the person's.

    The hottest write (POST send-message), so three hand-written statements."""
    message_ids, person_id = append_messages(session, company_id, account_id, [(text, kind)], now,
                                             created_by=created_by, template_id=template_id, field=field)
    return message_ids[0], person_id


def touch_account(session: Session | RawTransaction, company_id: str, account_id: str, now: datetime, *,
                  field: str | None = None) -> str:
    """The account's lastMessageTime moved to ``now`` (a message is on its way); its person's id, or a
    404. A write that checks the account anyway starts with this instead of a lookup: one
    statement for both (and its later checks roll it back with everything else)."""
    touched = run_sql(session, fastsql.TOUCH_ACCOUNT, {"now": db_time(session, now), "account": account_id,
                                                       "company": company_id}) if is_oid(account_id) else []
    if not touched:
        raise ApiError(404, "Communication channel not found", field=field)
    person_id: str = touched[0][0]
    return person_id


def append_messages(session: Session | RawTransaction, company_id: str, account_id: str,
                    messages: list[tuple[str, str]], now: datetime, *, created_by: str | None = None,
                    template_id: str | None = None, field: str | None = None,
                    touched_person: str | None = None, person_touched: bool = False) -> tuple[list[str], str]:
    """Messages (text, kind) at the top of the account's chat, in this order, all sent ``now``: as
    :func:`append_message` each, with the account and the person touched once (a subscription's
    system message and its block's text, say). ``touched_person``: the account was touched
    already (:func:`touch_account` gave this person); ``person_touched``: the person too.
    Returns the messages' ids and the person's."""
    person_id = touched_person or touch_account(session, company_id, account_id, now, field=field)
    stored_now = db_time(session, now)
    # One counter: ids of one second increase, so the order holds.
    message_ids = [new_oid(now) for _ in messages]
    shared = {"company": company_id, "account": account_id, "read": True, "created_by": created_by,
              "template_id": template_id, "now": stored_now}
    if len(messages) == 2:
        (text, kind), (text2, kind2) = messages
        run_sql(session, fastsql.INSERT_TWO_MESSAGES, {**shared, "id": message_ids[0], "text": text, "type": kind,
                                                      "id2": message_ids[1], "text2": text2, "type2": kind2})
    else:
        for message_id, (text, kind) in zip(message_ids, messages, strict=True):
            run_sql(session, fastsql.INSERT_MESSAGE, {**shared, "id": message_id, "text": text, "type": kind})
    if not person_touched:
        run_sql(session, fastsql.TOUCH_PERSON, {"now": stored_now, "person": person_id})
    return message_ids, person_id


def lookup(transaction: RawTransaction, sql: str, company_id: str, oid: str, *, what: str,
           field: str | None = None) -> tuple[Any, ...]:
    """The row ``sql`` (a ``fastsql`` lookup by ``:id`` and ``:company``) reads, or a 404 (naming
    ``field`` if a body field): :func:`find` for the write path."""
    if is_oid(oid):
        rows = run_sql(transaction, sql, {"id": oid, "company": company_id})
        if rows:
            return tuple(rows[0])
    raise ApiError(404, f"{what} not found", field=field)


def first_source(rows: list[Any], what: str) -> tuple[str, str, str]:
    """The traffic source a new subscription comes through, ``(id, leadgentool_id, tunnel_id)``:
    the first of ``rows`` (read by ``fastsql.FIRST_SOURCE_OF_…``)."""
    if not rows:
        raise ApiError(409, f"{what} has no traffic source to subscribe through")
    source_id, leadgentool_id, tunnel_id = rows[0][:3]
    return source_id, leadgentool_id, tunnel_id


def subscription_event(transaction: RawTransaction, account_id: str, person_id: str, tunnel_id: str | None,
                       leadgentool_id: str | None, source_id: str | None, now: datetime) -> dict[str, Any]:
    """The data of a SUBSCRIPTION webhook (our reading: the wiki's copy ends before its example)."""
    source = run_sql(transaction, fastsql.SOURCE_NAME, {"id": source_id}) if source_id else []
    contact = run_sql(transaction, fastsql.PERSON_CONTACT, {"person": person_id}) if person_id else []
    email, phone = (defined(contact[0][0]), defined(contact[0][1])) if contact else (NOT_DEFINED, NOT_DEFINED)
    return {"account_id": account_id, "person_id": person_id, "tunnel_id": tunnel_id,
            "leadgentool_id": leadgentool_id, "source": source[0][0] if source else None, "email": email,
            "phone": phone, "created_at": iso(now)}


class Backend:
    """Leeloo's state bound to a sandbox (its engine, clock and caches).

    Each public method is one request's work, returning the documented shape: a read on a
    session of its own (or hand-written SQL on the sandbox's read connection), or a write in one
    short transaction opened by :meth:`_write`.
    """

    def __init__(self, sandbox: Sandbox, clock: Callable[[], datetime] | None = None) -> None:
        self.sandbox = sandbox
        self.now: Callable[[], datetime] = clock or sandbox.now

    def at(self, when: datetime) -> Self:
        """This backend with its clock stopped at ``when`` (the world's activity dates its events)."""
        return type(self)(self.sandbox, lambda: when)

    def _write(self, company_id: str) -> AbstractContextManager[RawTransaction]:
        """The one write path: a transaction of the company, committed whole or rolled back whole.

        Its statements are hand-written (``fastsql``, run by :func:`run_sql` on the connection
        kept open beside the reads): no session, no unit of work, no statement built per request.
        Each statement notes what it changed (``cache.Change``); after the commit the company's
        cache drops what that made stale and the webhook events the write emitted are queued (a
        rolled-back write sends nothing). The sandbox's own context manager is handed on as it is.
        """
        return self.sandbox.raw_write(company_id)

    def _seeded(self, transaction: RawTransaction, table: str, sql: str, company_id: str, oid: str, *, what: str,
                field: str | None = None) -> tuple[Any, ...]:
        """:func:`lookup` of a record of a table only seeding writes (``cache.SEEDED_ONLY``: an
        offer, a payment system), by :meth:`_kept_rows`."""
        if is_oid(oid):
            rows = self._kept_rows(transaction, (table,), sql, company_id, {"id": oid, "company": company_id})
            if rows:
                return tuple(rows[0])
        raise ApiError(404, f"{what} not found", field=field)

    def _kept_rows(self, transaction: RawTransaction, tables: tuple[str, ...], sql: str, company_id: str,
                   params: dict[str, Any]) -> list[Any]:
        """The rows ``sql`` reads from ``tables``, read once and then kept in the company's cache
        until a write adds, removes or changes a row of one of them (what is not found is asked
        again): a write checks a reference, or finds a record it uses, without a statement.

        For records that writes seldom change: an offer, a tunnel block (tables only seeding
        writes, ``cache.SEEDED_ONLY``, whose rows are kept even in a shared sandbox), a
        leadgentool's first traffic source, the company's connection of a messenger. Not for a
        table the same write changed before asking: the cache learns of a change at the commit."""
        cache = self.sandbox.cache(company_id)
        key = ("kept", sql, *sorted(params.items()))
        rows: list[Any] | None = cache.get(key)
        if rows is None:
            rows = run_sql(transaction, sql, params)
            if rows:
                cache.put(key, rows, rows_of=tables, values_of=tables)
        return rows

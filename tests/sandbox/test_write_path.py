"""The write path every vendor write takes (``Sandbox.raw_write``): one transaction of
hand-written statements, committed whole or rolled back whole, whose webhook events go out
only after the commit and whose changes drop only what they made stale in the caches."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from leeloo_support import DEMO_COMPANY
from sqlalchemy import func, select

from leadbridge.sandbox import fastsql
from leadbridge.sandbox import schema as s
from leadbridge.sandbox.server import RunningSandbox
from leadbridge.sandbox.state import db_time, run_sql
from leadbridge.sandbox.webhooks import emit
from leadbridge.sandbox.wire import ApiError, new_oid

RECEIVER = "http://127.0.0.1:9/hook"  # nothing listens there: a delivery is logged, never received


def comments_of(running: RunningSandbox, person_id: str) -> int:
    with running.sandbox.read() as session:
        return session.scalar(select(func.count()).select_from(s.Comment).where(s.Comment.person_id == person_id)) or 0


def a_person(running: RunningSandbox) -> str:
    with running.sandbox.read() as session:
        person_id: str = session.scalars(select(s.Person.id).where(s.Person.company_id == DEMO_COMPANY)
                                         .order_by(s.Person.id).limit(1)).one()
    return person_id


def a_user(running: RunningSandbox) -> str:
    with running.sandbox.read() as session:
        user_id: str = session.scalars(select(s.User.id).where(s.User.company_id == DEMO_COMPANY)
                                       .order_by(s.User.id).limit(1)).one()
    return user_id


def order_events(running: RunningSandbox) -> int:
    return sum(1 for delivery in running.sandbox.webhooks.log if delivery.event_type == "ORDER")


def add_comment_then(running: RunningSandbox, person_id: str, *, fail: bool) -> None:
    """A write of one comment and one ORDER event, refused at its end when ``fail``."""
    sandbox = running.sandbox
    now, user_id = sandbox.now(), a_user(running)
    with sandbox.raw_write(DEMO_COMPANY) as transaction:
        run_sql(transaction, fastsql.INSERT_COMMENT, {
            "id": new_oid(now), "company": DEMO_COMPANY, "person": person_id, "created_by": user_id,
            "text": "written", "now": db_time(transaction, now)})
        emit(transaction, DEMO_COMPANY, "ORDER", lambda: {"order_id": "written"})
        if fail:
            raise ApiError(409, "refused after the comment was written")


@pytest.fixture
def listening(clocked: RunningSandbox) -> Iterator[RunningSandbox]:
    clocked.sandbox.webhooks.configure(DEMO_COMPANY, enabled=True, url=RECEIVER, events=["ORDER"])
    yield clocked
    clocked.sandbox.webhooks.configure(DEMO_COMPANY, enabled=False, url=RECEIVER, events=[])


def test_a_refused_write_leaves_no_row_and_sends_no_event(listening: RunningSandbox) -> None:
    person_id = a_person(listening)
    comments, events = comments_of(listening, person_id), order_events(listening)
    with pytest.raises(ApiError):
        add_comment_then(listening, person_id, fail=True)
    assert comments_of(listening, person_id) == comments
    assert order_events(listening) == events
    # The connection is left outside any transaction: the next write commits on its own.
    add_comment_then(listening, person_id, fail=False)
    assert comments_of(listening, person_id) == comments + 1
    assert order_events(listening) == events + 1


def test_a_write_drops_only_what_its_statements_changed(clocked: RunningSandbox) -> None:
    cache = clocked.sandbox.cache(DEMO_COMPANY)
    cache.put("people-count", 1, rows_of=("leeloo_person",))
    cache.put("comment-count", 1, rows_of=("leeloo_comment",))
    add_comment_then(clocked, a_person(clocked), fail=False)
    assert cache.get("people-count") == 1
    assert cache.get("comment-count") is None

"""The ledger's record of webhook events received by ``leadbridge flows serve``.

Each event is one row, keyed by the event's deduplication key (``webhooks.WebhookEvent.
dedupe_key``), so a redelivery finds its first delivery and adds nothing. A row is
``received`` once committed (only then is the delivery answered 200) and ``processed``
once the units it feeds are in the ledger, with what it triggered in ``outcome``.
Processing an event again (after a crash between the two) only finds its units known:
the units and their effects, not the events, are what makes every effect happen once.

Kept apart from the ledger's units and effects: the ledger knows nothing of webhooks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import JSON, CursorResult, DateTime, Index, String, Text, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from leadbridge.flows.ledger import Base, Id, Ledger, utcnow

EVENT_STATES = ("received", "processed")


class EventRow(Base):
    """One webhook event, however many times it was delivered."""

    __tablename__ = "lb_event"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    dedupe: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(DateTime())
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)
    outcome: Mapped[str | None] = mapped_column(Text, nullable=True)  # what it triggered, for a person to read

    __table_args__ = (Index("ix_lb_event_state", "state", "id"),)


@dataclass
class StoredEvent:
    id: int
    type: str
    body: dict[str, Any]
    state: str
    received_at: datetime
    processed_at: datetime | None = None
    outcome: str | None = None


@dataclass
class NewEvent:
    dedupe: str
    type: str
    body: dict[str, Any]


class EventStore:
    """Webhook events in the ledger's database (see the module's docstring)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        dialect = postgresql if ledger.dialect == "postgresql" else sqlite
        # Built once: the receive path's only statement.
        self._insert = dialect.insert(EventRow.__table__).on_conflict_do_nothing(index_elements=["dedupe"])

    def record(self, events: Sequence[NewEvent]) -> int:
        """Commit ``events`` in one transaction; redeliveries add nothing. Returns how many were new."""
        if not events:
            return 0
        now = utcnow()
        rows = [{"dedupe": e.dedupe[:200], "type": e.type[:40], "body": e.body, "state": "received",
                 "received_at": now, "processed_at": None, "outcome": None} for e in events]
        with self.ledger.transaction() as session:
            result = session.execute(self._insert, rows)
            return max(0, cast(CursorResult[Any], result).rowcount or 0)

    def waiting(self, limit: int = 200) -> list[StoredEvent]:
        """Events received and not processed yet, oldest first."""
        with self.ledger.sessions() as session:
            rows = session.scalars(select(EventRow).where(EventRow.state == "received")
                                   .order_by(EventRow.id).limit(limit)).all()
        return [_stored(row) for row in rows]

    def processed(self, outcomes: dict[int, str]) -> None:
        """Record what each event triggered, in one transaction."""
        if not outcomes:
            return
        now = utcnow()
        with self.ledger.transaction() as session:
            for event_id, outcome in outcomes.items():
                session.execute(update(EventRow).where(EventRow.id == event_id)
                                .values(state="processed", processed_at=now, outcome=outcome[:2000]))

    def latest(self, limit: int = 50) -> list[StoredEvent]:
        """The latest events, newest first (the dashboard's list)."""
        with self.ledger.sessions() as session:
            rows = session.scalars(select(EventRow).order_by(EventRow.id.desc()).limit(limit)).all()
        return [_stored(row) for row in rows]

    def counts(self) -> dict[tuple[str, str], int]:
        """(type, state) → number of events."""
        with self.ledger.sessions() as session:
            rows = session.execute(select(EventRow.type, EventRow.state, func.count())
                                   .group_by(EventRow.type, EventRow.state)).all()
        return {(kind, state): count for kind, state, count in rows}


def _stored(row: EventRow) -> StoredEvent:
    return StoredEvent(row.id, row.type, dict(row.body or {}), row.state, row.received_at, row.processed_at,
                       row.outcome)

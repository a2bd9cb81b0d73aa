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
from typing import Any

from sqlalchemy import JSON, DateTime, Index, String, Text, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from leadbridge.flows.ledger import ID_BATCH, READ_ONLY, Base, Id, Ledger, utcnow


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
    # An event that can trigger nothing (an ORDER, an unknown type) is recorded already processed.
    outcome: str | None = None


class EventStore:
    """Webhook events in the ledger's database (see the module's docstring)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        # Built once: the receive path's only statement.
        self._insert = ledger.insert(EventRow.__table__).on_conflict_do_nothing(
            index_elements=["dedupe"]).returning(EventRow.__table__.c.id)

    def record(self, events: Sequence[NewEvent]) -> int:
        """Commit ``events`` in one transaction; redeliveries add nothing. Returns how many were new."""
        if not events:
            return 0
        now = utcnow()
        rows = [{"dedupe": e.dedupe[:200], "type": e.type[:40], "body": e.body,
                 "state": "received" if e.outcome is None else "processed", "received_at": now,
                 "processed_at": None if e.outcome is None else now, "outcome": e.outcome} for e in events]
        with self.ledger.transaction() as session:
            # RETURNING gives the rows inserted (a redelivery returns none), the same on both databases.
            return len(session.execute(self._insert, rows).all())

    def _read(self, query: Any) -> list[StoredEvent]:
        # A read-only transaction: on SQLite it takes no write lock, so the receive path's commits never
        # wait on it in SQLite's busy handler (which sleeps in steps of milliseconds).
        with self.ledger.engine.connect() as conn:
            rows = conn.execution_options(**{READ_ONLY: True}).execute(query).all()
        return [StoredEvent(r.id, r.type, dict(r.body or {}), r.state, r.received_at, r.processed_at, r.outcome)
                for r in rows]

    def waiting(self, limit: int = 200) -> list[StoredEvent]:
        """Events received and not processed yet, oldest first."""
        return self._read(select(*EventRow.__table__.c).where(EventRow.state == "received")
                          .order_by(EventRow.id).limit(limit))

    def processed(self, outcomes: dict[int, str]) -> None:
        """Record what each event triggered, in one transaction."""
        if not outcomes:
            return
        now = utcnow()
        by_outcome: dict[str, list[int]] = {}
        for event_id, outcome in outcomes.items():
            by_outcome.setdefault(outcome[:2000], []).append(event_id)
        # One statement per distinct outcome: most events of a round share theirs ("nothing to trigger").
        with self.ledger.transaction() as session:
            for outcome, ids in by_outcome.items():
                for start in range(0, len(ids), ID_BATCH):
                    session.execute(update(EventRow).where(EventRow.id.in_(ids[start:start + ID_BATCH]))
                                    .values(state="processed", processed_at=now, outcome=outcome))

    def latest(self, limit: int = 50) -> list[StoredEvent]:
        """The latest events, newest first (the dashboard's list)."""
        return self._read(select(*EventRow.__table__.c).order_by(EventRow.id.desc()).limit(limit))

    def counts(self) -> dict[tuple[str, str], int]:
        """(type, state) → number of events."""
        with self.ledger.engine.connect() as conn:
            rows = conn.execution_options(**{READ_ONLY: True}).execute(
                select(EventRow.type, EventRow.state, func.count()).group_by(EventRow.type, EventRow.state)).all()
        return {(kind, state): count for kind, state, count in rows}

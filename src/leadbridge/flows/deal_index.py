"""The phones of Neiros deals, kept in the ledger's database for deals-to-leeloo and revenue-to-neiros.

No Neiros call searches deals by phone, and a deal's phone never changes: deals-to-leeloo
records each deal it reads, revenue-to-neiros fills in the window's deals not recorded yet
(one ``deals.get`` each, once) and finds a person's deals here by their phone.

Kept apart from the ledger's units and effects: the ledger knows nothing of Neiros.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from leadbridge.flows.ledger import Base, Id, Ledger

# (site id, deal id, E.164 phone or None, creation time in naive UTC)
IndexedDeal = tuple[int, int, str | None, datetime]


class DealIndexRow(Base):
    """One Neiros deal's phone."""

    __tablename__ = "lb_deal_index"
    site_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    deal_id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=False)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    created_at: Mapped[datetime]


def indexed(ledger: Ledger, site_id: int, deal_ids: Sequence[int]) -> set[int]:
    """Which of ``deal_ids`` of ``site_id`` are in the index already."""
    if not deal_ids:
        return set()
    with ledger.sessions() as session:
        return set(session.scalars(select(DealIndexRow.deal_id).where(
            DealIndexRow.site_id == site_id, DealIndexRow.deal_id.in_(deal_ids))))


def add(ledger: Ledger, deals: Iterable[IndexedDeal]) -> None:
    """Record deals; a deal recorded already is left as it is (its phone never changes)."""
    values = [{"site_id": s, "deal_id": d, "phone": p, "created_at": c} for s, d, p, c in deals]
    if values:
        with ledger.transaction() as session:
            session.execute(ledger.insert(DealIndexRow).on_conflict_do_nothing(), values)


def by_phone(ledger: Ledger, phone: str, sites: Sequence[int] | None = None) -> list[tuple[int, int, datetime]]:
    """(site_id, deal_id, created_at) of the indexed deals with this phone, oldest first."""
    with ledger.sessions() as session:
        query = select(DealIndexRow.site_id, DealIndexRow.deal_id, DealIndexRow.created_at).where(
            DealIndexRow.phone == phone)
        if sites:
            query = query.where(DealIndexRow.site_id.in_(sites))
        return [(s, d, c) for s, d, c in session.execute(query.order_by(DealIndexRow.created_at))]

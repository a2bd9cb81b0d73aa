"""Neiros' state: login, sites and deals, returning the documented shapes.

The document calls deals "projects" in its URLs and sites "projects" in its prose
(QUIRKS.md); here they are deals and sites, as the tables name them.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadbridge.sandbox import fastsql
from leadbridge.sandbox import schema as s
from leadbridge.sandbox.seed import TENANTS
from leadbridge.sandbox.state import Sandbox, run_sql
from leadbridge.sandbox.wire import ApiError, not_found

# Deals per page of GET /projects: Laravel's paginate() default, which the vendor's API
# (a Laravel application, judging by its Sanctum tokens) most likely keeps.
PAGE_SIZE = 15
DOCUMENT_LOGIN = ("test@test.ru", "123456")


def microseconds_z(value: datetime) -> str:
    """Laravel's JSON date form, as the deal example shows it: 2020-07-18T21:04:48.000000Z."""
    return value.isoformat(timespec="microseconds") + "Z"


def plain_number(value: float) -> int | float:
    """Sums are shown as the example does (0, 1500), with decimals only when there are some."""
    return int(value) if float(value).is_integer() else value


def authenticate(session: Session, email: str, password: str) -> tuple[str, dict[str, Any]]:
    """The company and the ``user`` object of a login; the document's own example credentials
    (test@test.ru / 123456) log into the demo tenant, so its curl example runs verbatim."""
    email = email.strip()
    if email == DOCUMENT_LOGIN[0] and secrets.compare_digest(password.encode(), DOCUMENT_LOGIN[1].encode()):
        company = session.get(s.Company, TENANTS[0].company_id)
        if company is not None:
            return company.id, {"name": company.neiros_user_name, "email": email, "id": company.neiros_user_id}
    company = session.scalar(select(s.Company).where(s.Company.neiros_email == email))
    if company is None or not secrets.compare_digest(company.neiros_password.encode(), password.encode()):
        raise ApiError(401, "These credentials do not match our records.", field="email")
    return company.id, {"name": company.neiros_user_name, "email": company.neiros_email,
                        "id": company.neiros_user_id}


def list_sites(session: Session, company_id: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(s.Site.name, s.Site.id).where(s.Site.company_id == company_id).order_by(s.Site.id)
    )
    return [{"name": name, "id": site_id} for name, site_id in rows]


def require_site(session: Session, company_id: str, site_id: int) -> None:
    owner = session.scalar(select(s.Site.company_id).where(s.Site.id == site_id))
    if owner != company_id:
        raise not_found(f"Site {site_id}")


@dataclass(frozen=True)
class DealWindow:
    site_id: int
    start: datetime | None
    end: datetime | None  # inclusive
    page: int


def list_deals(sandbox: Sandbox, session: Session, company_id: str, window: DealWindow) -> dict[str, Any]:
    """One page of a site's deals created within the window, oldest id first.

    A client walks the pages in turn: the window's total is counted once and each page's last
    id kept (until deals are added or removed), so the next page is a seek on the
    (site_id, id, created_at) index from there, not a COUNT and an OFFSET over the pages before.
    """
    require_site(session, company_id, window.site_id)
    # The site is the company's (require_site): its deals are too, so site_id alone selects them.
    where = [s.Deal.site_id == window.site_id]
    if window.start is not None:
        where.append(s.Deal.created_at >= window.start)
    if window.end is not None:
        where.append(s.Deal.created_at <= window.end)
    cache = sandbox.cache(company_id)
    walk = ("deals", window.site_id, window.start, window.end)
    total: int | None = cache.get((*walk, "total"))
    if total is None:
        total = session.scalar(select(func.count()).select_from(s.Deal).where(*where)) or 0
        cache.put((*walk, "total"), total, rows_of=("neiros_deal",))
    query = select(s.Deal.id, s.Deal.site_id, s.Deal.created_at).where(*where).order_by(s.Deal.id).limit(PAGE_SIZE)
    after: int | None = cache.get((*walk, window.page - 1)) if window.page > 1 else None
    # Past the previous page's last deal when the walk came that way; else (a page asked for
    # out of turn) by its offset.
    query = query.where(s.Deal.id > after) if after is not None else query.offset((window.page - 1) * PAGE_SIZE)
    rows = session.execute(query).all()
    if len(rows) == PAGE_SIZE:
        cache.put((*walk, window.page), rows[-1].id, rows_of=("neiros_deal",))
    projects = [{"id": deal_id, "site_id": site_id, "date": created.date().isoformat()}
                for deal_id, site_id, created in rows]
    return {
        "data": {"projects": projects},
        "last_page": max(1, math.ceil(total / PAGE_SIZE)),
        "total": total,
    }


def _deal(session: Session, company_id: str, deal_id: int, site_id: int) -> s.Deal:
    deal = session.get(s.Deal, deal_id)
    if deal is None or deal.company_id != company_id or deal.site_id != site_id:
        raise not_found(f"Deal {deal_id}")
    return deal


def get_deal(session: Session, company_id: str, deal_id: int, site_id: int) -> dict[str, Any]:
    deal = _deal(session, company_id, deal_id, site_id)
    return {
        "id": deal.id,
        "neiros_visit": deal.neiros_visit,
        "neiros_id": deal.neiros_id,
        "created_at": microseconds_z(deal.created_at),
        "phone": deal.phone,
        "duration": deal.duration,
        "record": deal.record,
        "canal": deal.canal,
        "traffic": deal.traffic,
        "summ": plain_number(deal.summ),
        "status": deal.status,
    }


def add_deal(session: Session, company_id: str, site_id: int, at: datetime, *, phone: str | None, duration: int,
             record: str | None, canal: str, traffic: str, neiros_visit: str, status: str = "Неразобранное") -> int:
    """A deal arriving on the site (a tracked call with its record); Neiros's API has no call
    that creates one, so only the sandbox's activity does. Returns its id."""
    require_site(session, company_id, site_id)
    deal_id = int(session.scalar(select(func.max(s.Deal.id))) or 0) + 1
    session.add(s.Deal(id=deal_id, company_id=company_id, site_id=site_id, neiros_visit=neiros_visit,
                       neiros_id=str(deal_id % 10**7 + 10**6), created_at=at, phone=phone, duration=duration,
                       record=record, canal=canal, traffic=traffic, summ=0.0, status=status))
    return deal_id


class NeirosBackend:
    """Neiros' state of one sandbox: what the routes ask, each in its own transaction."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def login(self, email: str, password: str) -> tuple[str, dict[str, Any], str]:
        """``(company id, the answer's user object, a fresh Bearer token)``, or a 401."""
        with self.sandbox.read() as session:
            company_id, user = authenticate(session, email, password)
        return company_id, user, self.sandbox.issue_token(s.NeirosToken, company_id)

    def deals(self, company_id: str, window: DealWindow) -> dict[str, Any]:
        with self.sandbox.read() as session:
            return list_deals(self.sandbox, session, company_id, window)

    def deal(self, company_id: str, deal_id: int, site_id: int) -> dict[str, Any]:
        with self.sandbox.read() as session:
            return get_deal(session, company_id, deal_id, site_id)

    def sites(self, company_id: str) -> list[dict[str, Any]]:
        with self.sandbox.read() as session:
            return list_sites(session, company_id)

    def set_deal_sum(self, company_id: str, deal_id: int, site_id: int, summ: float) -> None:
        """The deal's sum, in one statement on the sandbox's write path (``Sandbox.raw_write``)."""
        with self.sandbox.raw_write(company_id) as transaction:
            updated = run_sql(transaction, fastsql.SET_DEAL_SUM,
                              {"summ": summ, "deal": deal_id, "company": company_id, "site": site_id})
            if not updated:
                raise not_found(f"Deal {deal_id}")

"""Neiros clients (sync :class:`Neiros`, async :class:`AsyncNeiros`).

Authentication is a Bearer token (Sanctum style, ``323|Rv…``). Given an email and a
password, the client logs in on first use, shares that one login between concurrent
calls, and logs in again once when a call answers 401. In the URLs "projects" are
deals and "sites" are what the Neiros page calls projects; the SDK names them deals and sites.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Unpack

from leadbridge.contract.neiros import BASE_URL as DEFAULT_BASE_URL
from leadbridge.contract.neiros import ENDPOINTS as E
from leadbridge.sdk._client import AsyncClientMixin, BaseClient, ClientSettings, SyncClientMixin, list_adapter, many
from leadbridge.sdk._core import Async, Mode, Operation, Pager, Resource, Sync, call, endpoint, paged
from leadbridge.sdk._encode import DateLike, day, query
from leadbridge.sdk._http import Dialect
from leadbridge.sdk._paging import NumberedPage, numbered_pager
from leadbridge.sdk.models.neiros import Deal, DealSummary, Site

NEIROS = Dialect("Neiros")


def _login(email: str, password: str) -> Operation[str]:
    return call(E["login"], lambda body: str(body["token"]), json={"email": email, "password": password},
                authenticated=False)


def _deal_page(body: Any) -> NumberedPage[DealSummary]:
    data = body.get("data")
    records = data.get("projects", []) if isinstance(data, dict) else (data or [])
    items = list_adapter(DealSummary).validate_python(records)
    last_page = int(body.get("last_page") or 1)
    extra = {key: value for key, value in body.items() if key not in ("data", "last_page", "total")}
    return NumberedPage(items=items, page=int(body.get("current_page") or 0), last_page=last_page,
                        total=int(body.get("total") or len(items)), extra=extra)


class Sites(Resource[Mode]):
    @endpoint
    def list(self) -> Operation[list[Site]]:
        """The account's sites (projects in the Neiros interface). GET /api/userapi/v1/sites"""
        return call(E["sites_list"], many(Site, "data"))


class Deals(Resource[Mode]):
    """Deals ("projects" in the URLs) of a site."""

    @staticmethod
    def _page_at(site_id: int, date_start: DateLike, date_end: DateLike
                 ) -> Callable[[int], Operation[NumberedPage[DealSummary]]]:
        def page_at(page: int) -> Operation[NumberedPage[DealSummary]]:
            def parse(body: Any) -> NumberedPage[DealSummary]:
                parsed = _deal_page(body)
                if parsed.page:
                    return parsed
                return NumberedPage(items=parsed.items, page=page, last_page=parsed.last_page, total=parsed.total,
                                    extra=parsed.extra)

            params = query(("site_id", site_id), ("date_start", day(date_start)), ("date_end", day(date_end)),
                           ("page", page))
            return call(E["deals_list"], parse, params=params)
        return page_at

    @endpoint
    def list(self, site_id: int, date_start: DateLike, date_end: DateLike,
             page: int = 1) -> Operation[NumberedPage[DealSummary]]:
        """One page of a site's deals between two days (UTC). GET /api/userapi/v1/projects"""
        return self._page_at(site_id, date_start, date_end)(page)

    @paged
    def iter(self, site_id: int, date_start: DateLike, date_end: DateLike, *,
             concurrency: int = 1) -> Pager[DealSummary]:
        """Every deal of a site between two days. GET /api/userapi/v1/projects"""
        return numbered_pager(self._page_at(site_id, date_start, date_end), concurrency=concurrency)

    @endpoint
    def get(self, deal_id: int, site_id: int) -> Operation[Deal]:
        """One deal's details. GET /api/userapi/v1/project/{deal_id}"""
        return call(E["deals_get"], lambda b: Deal.model_validate(b["data"]), deal_id,
                    params=query(("site_id", site_id)))

    @endpoint
    def update_sum(self, deal_id: int, site_id: int, summ: float) -> Operation[bool]:
        """Set a deal's amount; returns the API's ``success``. POST /api/userapi/v1/project/{deal_id}/update"""
        return call(E["deals_update"], lambda b: bool(b.get("success", True)) if isinstance(b, dict) else True,
                    deal_id, json={"site_id": site_id, "summ": summ})


class _Neiros(BaseClient[Mode]):
    dialect = NEIROS
    default_base_url = DEFAULT_BASE_URL

    def __init__(self, email: str | None = None, password: str | None = None, *, token: str | None = None,
                 base_url: str | None = None, **settings: Unpack[ClientSettings]) -> None:
        self._setup_bearer(("email", email, password), token, _login, base_url, settings)
        self.sites: Sites[Mode] = Sites(self._transport)
        self.deals: Deals[Mode] = Deals(self._transport)


class Neiros(_Neiros[Sync], SyncClientMixin):
    """Blocking Neiros client: ``Neiros(email="…", password="…")`` or ``Neiros(token="…")``."""


class AsyncNeiros(_Neiros[Async], AsyncClientMixin):
    """asyncio Neiros client: ``AsyncNeiros(email="…", password="…")`` or ``AsyncNeiros(token="…")``."""

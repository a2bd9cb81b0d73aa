"""Neiros user API: the 5 documented endpoints.

Answers are bare objects (Laravel's), lists wrapped in ``data``; the deals list is numbered
pages (``last_page``, ``total``). The document calls deals "projects" and sites "projects"
too; its unnamed path parameter is ``{id}``, ours ``{deal_id}``.
"""

from __future__ import annotations

from pydantic import Field

from leadbridge.contract import Body, Endpoint, Wire, table

BASE_URL = "https://neiros.cloud"

Text = str | None


class NeirosUser(Wire):
    name: Text
    email: Text
    id: int


class NeirosLogin(Wire):
    user: NeirosUser
    token: str


class NeirosSite(Wire):
    name: Text
    id: int


class NeirosSites(Wire):
    data: list[NeirosSite]


class NeirosDealBrief(Wire):
    id: int
    site_id: int
    date: str


class NeirosDealPage(Wire):
    projects: list[NeirosDealBrief]


class NeirosDealList(Wire):
    data: NeirosDealPage
    last_page: int
    total: int


class NeirosDeal(Wire):
    id: int
    neiros_visit: Text
    neiros_id: Text
    created_at: Text
    phone: Text
    duration: int | None
    record: Text
    canal: Text
    traffic: Text
    summ: float | None
    status: Text


class NeirosDealAnswer(Wire):
    data: NeirosDeal


class NeirosSuccess(Wire):
    success: bool


class LoginBody(Body):
    email: str
    password: str


class UpdateDealBody(Body):
    site_id: int | str
    summ: float | str = Field(description="The deal's sum")


API = "/api/userapi/v1"
ENDPOINTS = table(
    # A login changes nothing on the server: a second one only issues another token.
    Endpoint("neiros", "login", "POST", f"{API}/auth/login", NeirosLogin, idempotent=True, forms=("json",),
             request=LoginBody),
    Endpoint("neiros", "sites_list", "GET", f"{API}/sites", NeirosSites, idempotent=True,
             sdk=("sites.list",)),
    Endpoint("neiros", "deals_list", "GET", f"{API}/projects", NeirosDealList, idempotent=True, paging="numbered",
             sdk=("deals.list", "deals.iter")),
    Endpoint("neiros", "deals_get", "GET", f"{API}/project/{{deal_id}}", NeirosDealAnswer, idempotent=True,
             documented_path=f"{API}/project/{{id}}", sdk=("deals.get",)),
    # Sets the amount: sending it twice leaves the same deal.
    Endpoint("neiros", "deals_update", "POST", f"{API}/project/{{deal_id}}/update", NeirosSuccess, idempotent=True,
             forms=("json", "form"), request=UpdateDealBody, documented_path=f"{API}/project/{{id}}/update",
             sdk=("deals.update_sum",)),
)

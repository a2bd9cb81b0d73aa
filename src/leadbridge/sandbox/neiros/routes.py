"""Neiros user API over HTTP (Laravel-style: Bearer Sanctum tokens, ``{"message": …}`` errors)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field, ValidationError, field_validator

from leadbridge.contract.days import upper_bound
from leadbridge.sandbox import schema
from leadbridge.sandbox.dependencies import bearer_company, body_doc
from leadbridge.sandbox.neiros import backend
from leadbridge.sandbox.neiros.backend import NeirosBackend
from leadbridge.sandbox.wire import ApiError, check_value, parse_body, parse_datetime, read_body, validation_error

PREFIX = "/api/userapi/v1"
MAX_ID = 2**53
MAX_SITE_ID = 2**31 - 1  # neiros_site.id is an INTEGER column: PostgreSQL refuses a larger parameter

router = APIRouter(prefix=PREFIX, tags=["Neiros"])


neiros_company = bearer_company(schema.NeirosToken, "Bearer <token from auth/login>")


Company = Annotated[str, Depends(neiros_company)]


def neiros_backend(request: Request) -> NeirosBackend:
    """The Neiros backend of the sandbox serving this request (``app.state.neiros``): a plain call,
    not a FastAPI dependency, which would cost every request a dependency resolution."""
    bound: NeirosBackend = request.app.state.neiros
    return bound


DealId = Annotated[int, Path(ge=1, le=MAX_ID, description="Deal id (the document's \"project\")")]
SiteId = Annotated[int, Field(ge=1, le=MAX_SITE_ID)]


def reject_bool(value: Any) -> Any:
    """JSON true/false is not a number, although pydantic's lax mode would take it for 1/0."""
    if isinstance(value, bool):
        raise ValueError("must be a number")
    return value


class LoginBody(BaseModel):
    email: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=200)


class DealsQuery(BaseModel):
    site_id: SiteId
    date_start: str | None = Field(default=None, description="YYYY-MM-DD or a datetime (UTC), inclusive")
    date_end: str | None = Field(default=None, description="YYYY-MM-DD (the whole day) or a datetime, inclusive")
    page: int = Field(default=1, ge=1, le=10**9)

    _no_bools = field_validator("site_id", "page", mode="before")(reject_bool)


class UpdateDealBody(BaseModel):
    site_id: SiteId
    summ: float = Field(ge=0, le=10**12, allow_inf_nan=False, description="Deal sum")

    _no_bools = field_validator("site_id", "summ", mode="before")(reject_bool)


LOGIN_EXAMPLE = {"email": "test@test.ru", "password": "123456"}
DEALS_BODY_EXAMPLE = {"site_id": 13, "date_start": "2022-01-27T21:33:08", "date_end": "2022-01-27T21:33:08",
                      "page": 1}
UPDATE_EXAMPLE = {"site_id": 100, "summ": 1500}


@router.post("/auth/login", summary="Log in with e-mail and password; returns a Sanctum-style Bearer token "
             "(the document's example credentials test@test.ru / 123456 open the demo account)",
             openapi_extra=body_doc(LoginBody, form=True, example=LOGIN_EXAMPLE))
async def login(request: Request) -> dict[str, Any]:
    body = await parse_body(request, LoginBody)
    company_id, user, token = neiros_backend(request).login(body.email, body.password)
    request.state.company_id = company_id
    return {"user": user, "token": token}


def optional_body_doc(model: type[BaseModel], *, example: Any) -> dict[str, Any]:
    doc = body_doc(model, example=example)
    doc["requestBody"]["required"] = False
    return doc


def _json_in_query(request: Request) -> dict[str, Any]:
    """``curl --get --data '{…}'`` appends the JSON body to the query string as a bare key."""
    for key in request.query_params:
        if key.lstrip().startswith("{"):
            try:
                parsed = orjson.loads(key)
            except orjson.JSONDecodeError:
                continue
            if isinstance(parsed, dict):
                check_value(parsed)  # bounded like a body (wire.read_body)
                return parsed
    return {}


def _window_bound(value: str | None, field: str, *, end: bool) -> datetime | None:
    if value is None or not value.strip():
        return None
    moment = parse_datetime(value, field)
    return upper_bound(moment, value) if end else moment


@router.get(
    "/projects",
    summary="Deals of a site created within a window, 15 per page",
    description=(
        "Deals (the URL's \"projects\") of `site_id` created between `date_start` and `date_end` "
        "(both inclusive; a bare date as `date_end` covers that whole day; UTC), ordered by id, "
        f"{backend.PAGE_SIZE} per page. `last_page` is the number of the last page and `total` the number "
        "of matching deals, as the names say (the document's comments say otherwise). The parameters may "
        "also come in a JSON body, as the document's curl example sends them; where both are given, "
        "the query string wins."
    ),
    openapi_extra=optional_body_doc(DealsQuery, example=DEALS_BODY_EXAMPLE),
)
async def list_deals(
    request: Request,
    company: Company,
    site_id: Annotated[str | None, Query(description="Site id (required, here or in the body)")] = None,
    date_start: Annotated[str | None, Query(description="From (YYYY-MM-DD or datetime, UTC)")] = None,
    date_end: Annotated[str | None, Query(description="Until, inclusive (YYYY-MM-DD or datetime, UTC)")] = None,
    page: Annotated[str | None, Query(description="Page number, from 1")] = None,
) -> dict[str, Any]:
    params = {**_json_in_query(request), **await read_body(request)}
    given = {"site_id": site_id, "date_start": date_start, "date_end": date_end, "page": page}
    params.update({key: value for key, value in given.items() if value is not None})
    try:
        query = DealsQuery.model_validate(
            {key: params[key] for key in DealsQuery.model_fields if key in params and params[key] is not None}
        )
    except ValidationError as exc:
        raise validation_error(exc) from None
    start = _window_bound(query.date_start, "date_start", end=False)
    end = _window_bound(query.date_end, "date_end", end=True)
    if start is not None and end is not None and start > end:
        raise ApiError(422, "date_end must not be before date_start", field="date_end")
    return neiros_backend(request).deals(company, backend.DealWindow(query.site_id, start, end, query.page))


@router.get("/project/{deal_id}", summary="One deal of a site (the URL's \"project\")")
async def get_deal(
    request: Request,
    company: Company,
    deal_id: DealId,
    site_id: Annotated[int, Query(ge=1, le=MAX_SITE_ID, description="The deal's site id")],
) -> dict[str, Any]:
    return {"data": neiros_backend(request).deal(company, deal_id, site_id)}


@router.get("/sites", summary="The account's sites (the document's \"projects\")")
async def list_sites(request: Request, company: Company) -> dict[str, Any]:
    return {"data": neiros_backend(request).sites(company)}


@router.post("/project/{deal_id}/update", summary="Set a deal's sum",
             openapi_extra=body_doc(UpdateDealBody, form=True, example=UPDATE_EXAMPLE))
async def update_deal(request: Request, company: Company, deal_id: DealId) -> dict[str, Any]:
    body = await parse_body(request, UpdateDealBody)
    neiros_backend(request).set_deal_sum(company, deal_id, body.site_id, body.summ)
    return {"success": True}

"""Leeloo API v1 and v2 over HTTP: parse the documented request forms, answer in envelopes.

Envelope: ``{"status": 1, "data": …}``, plus ``meta`` on lists and ``included`` /
``linked`` for side-loaded records; errors keep ``status: 0`` (see common.error_body).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request

from leadbridge.sandbox.common import parse_datetime
from leadbridge.sandbox.leeloo import models
from leadbridge.sandbox.state import Sandbox

router = APIRouter(tags=["Leeloo"])

TOKEN_HEADER = "X-Leeloo-AuthToken"
DEFAULT_LIMIT = 20
MAX_LIMIT = 1000


def leeloo_company(
    request: Request,
    token: Annotated[str | None, Header(alias=TOKEN_HEADER, description="Your Leeloo auth token")] = None,
) -> str:
    """The company owning the token; remembered on the request for the request log."""
    sandbox: Sandbox = request.app.state.sandbox
    company_id = sandbox.leeloo_company(token)
    request.state.company_id = company_id
    return company_id


Company = Annotated[str, Depends(leeloo_company)]
Limit = Annotated[int, Query(ge=0, le=MAX_LIMIT, description="Page size (default 20)")]
Offset = Annotated[int, Query(ge=0, description="Records to skip (default 0)")]
LastMessageFrom = Annotated[
    str | None, Query(alias="filter[last_message][from]", description="Last message at or after (UTC)")
]
LastMessageTo = Annotated[
    str | None, Query(alias="filter[last_message][to]", description="Last message at or before (UTC)")
]


def sandbox_of(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def ok(data: Any, **extra: Any) -> dict[str, Any]:
    return {"status": 1, "data": data, **extra}


def page(items: list[dict[str, Any]], limit: int, offset: int, total: int) -> dict[str, Any]:
    """A list envelope. filteredCount is the number of records in this response and
    totalCount the number matching the filter, as the v1 document defines them."""
    meta = {"limit": limit, "offset": offset, "filteredCount": len(items), "totalCount": total}
    return {"status": 1, "data": items, "meta": meta}


def split_tags(values: list[str] | None) -> tuple[str, ...]:
    """filter[tags] repeated (v2) or comma-separated (v1): both forms are accepted everywhere."""
    tags: list[str] = []
    for value in values or []:
        tags.extend(part.strip() for part in value.split(",") if part.strip())
    return tuple(tags)


def end_of_day_if_date(value: str, field: str) -> Any:
    """A bare date as an upper bound means the whole day (2015-04-03 -> until 23:59:59.999)."""
    from datetime import timedelta

    parsed = parse_datetime(value, field)
    if len(value.strip()) == 10:
        parsed = parsed + timedelta(days=1) - timedelta(milliseconds=1)
    return parsed


@router.get("/api/v2/people", summary="People list (filters by tags, last message, phone, email)")
async def list_people(
    request: Request,
    company: Company,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
    tags: Annotated[list[str] | None, Query(alias="filter[tags]", description="Tag name or id; repeat")] = None,
    last_message_from: LastMessageFrom = None,
    last_message_to: LastMessageTo = None,
    phone: Annotated[str | None, Query(alias="filter[phone]")] = None,
    email: Annotated[str | None, Query(alias="filter[email]")] = None,
) -> dict[str, Any]:
    flt = models.PeopleFilter(
        tags=split_tags(tags),
        last_message_from=parse_datetime(last_message_from, "filter[last_message][from]")
        if last_message_from else None,
        last_message_to=end_of_day_if_date(last_message_to, "filter[last_message][to]")
        if last_message_to else None,
        # "+" in a query string decodes to a space: the document's own example sends +380… unescaped.
        phone=("+" + phone.strip()) if phone and phone.startswith(" ") else phone,
        email=email,
    )
    sandbox = sandbox_of(request)
    with sandbox.read() as session:
        items, total = models.list_people(sandbox, session, company, flt, limit, offset)
    return page(items, limit, offset, total)

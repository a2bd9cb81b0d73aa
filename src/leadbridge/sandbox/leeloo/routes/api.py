"""What every Leeloo route module shares: auth, the backend, paging, envelopes and query parsing.

Route modules import it whole (``from …routes import api``) and say ``api.Company``, ``api.ok``.

Envelope: ``{"status": 1, "data": …}``, plus ``meta`` on lists and ``included`` /
``linked`` for side-loaded records; errors keep ``status: 0`` (see wire.error_body).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import AfterValidator, BaseModel

from leadbridge.contract.days import upper_bound

# DEFAULT_LIMIT is re-exported: each paged handler's default is api.DEFAULT_LIMIT.
from leadbridge.contract.leeloo import DEFAULT_LIMIT as DEFAULT_LIMIT
from leadbridge.contract.leeloo import ENDPOINTS, PAGE_CAP, TOKEN_HEADER
from leadbridge.sandbox.dependencies import COMPANY_OF, CompanyOf, body_doc
from leadbridge.sandbox.leeloo import bodies
from leadbridge.sandbox.leeloo.backend import LeelooBackend
from leadbridge.sandbox.leeloo.backend.people import PERSON_INCLUDES
from leadbridge.sandbox.leeloo.backend.sales import TUNNEL_INCLUDES
from leadbridge.sandbox.state import Sandbox
from leadbridge.sandbox.wire import ApiError, parse_datetime

TOKEN_QUERY = "authToken"
MAX_LIMIT = 999_999_999  # the largest limit accepted at all (then served PAGE_CAP)
MAX_OFFSET = 10**9  # beyond any page a client can reach; 2**63 and up overflow the databases
_PATH_PARAMETER = re.compile(r"\{(\w+)\}")
MAX_FILTER_VALUES = 1000  # names or ids in one filter (a bound for the SQL IN list)


async def leeloo_company(
    request: Request,
    token: Annotated[str | None, Header(alias=TOKEN_HEADER, description="Your Leeloo auth token")] = None,
    query_token: Annotated[str | None, Query(alias=TOKEN_QUERY, description="The auth token as a query parameter "
                                             "(observed to work like the header)")] = None,
) -> str:
    """The company owning the token (header, else ``authToken`` query parameter); remembered on
    the request for the request log."""
    sandbox: Sandbox = request.app.state.sandbox
    company_id = sandbox.leeloo_company(token or query_token)
    request.state.company_id = company_id
    return company_id


COMPANY_OF[leeloo_company] = CompanyOf(TOKEN_HEADER.lower().encode("latin-1"), True, Sandbox.leeloo_company)
Company = Annotated[str, Depends(leeloo_company)]


def backend(request: Request) -> LeelooBackend:
    """The Leeloo backend of the sandbox serving this request (``app.state.leeloo``)."""
    leeloo: LeelooBackend = request.app.state.leeloo
    return leeloo


def _cap(limit: int) -> int:
    return min(limit, PAGE_CAP)


Limit = Annotated[int, Query(ge=0, le=MAX_LIMIT, description="Page size (default 20; above 100, 100 records are "
                             "served and meta.limit says 100)"), AfterValidator(_cap)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Records to skip (default 0)")]
LastMessageFrom = Annotated[
    str | None, Query(alias="filter[last_message][from]", description="Last message at or after (UTC)")
]
LastMessageTo = Annotated[
    str | None,
    Query(alias="filter[last_message][to]", description="Last message at or before (UTC; a bare date means its end)"),
]
Tags = Annotated[
    list[str] | None,
    Query(alias="filter[tags]", description="Tag names or ids, repeated or comma-separated; matches any of them"),
]
Include = Annotated[list[str] | None, Query(description="Comma-separated side-loads")]


# Paging, date windows and side-loads are plain query parameters of each handler, parsed by the
# functions below, not FastAPI sub-dependencies: each sub-dependency costs every request a solve of
# its own (a tenth of a small read's time), for what a function call does.


def person_includes(include: list[str] | None) -> frozenset[str]:
    return parse_include(include, PERSON_INCLUDES)


def tunnel_includes(include: list[str] | None) -> frozenset[str]:
    return parse_include(include, TUNNEL_INCLUDES)


def body(model: type[BaseModel], example: str) -> dict[str, Any]:
    """``openapi_extra`` of a route whose body is ``model``: JSON or form data alike (the documents
    mix them, :func:`wire.parse_body` reads both), with the document's example."""
    return body_doc(model, form=True, example=bodies.EXAMPLES[example])


def new_router() -> APIRouter:
    return APIRouter(tags=["Leeloo"])


Found = tuple[list[dict[str, Any]], int]  # a page of records and how many match in all
Handler = TypeVar("Handler", bound=Callable[..., Awaitable[dict[str, Any]]])


def route(router: APIRouter, name: str, **documentation: Any) -> Callable[[Handler], Handler]:
    """Registers the decorated handler on ``router`` as the contract table's endpoint ``name``: the
    method and path come from :data:`~leadbridge.contract.leeloo.ENDPOINTS`, so the sandbox serves
    what the table says; ``documentation`` (summary, description, openapi_extra) is the route's own."""
    endpoint = ENDPOINTS[name]

    def register(handler: Handler) -> Handler:
        router.add_api_route(endpoint.path, handler, methods=[endpoint.method], **documentation)
        return handler

    return register


def list_route(router: APIRouter, name: str, read: Callable[[LeelooBackend, str, int, int], Found],
               **documentation: Any) -> None:
    """Registers endpoint ``name`` as a plain paged list: the company's records from ``read(backend,
    company, limit, offset)`` in a list envelope. Such a route has nothing of its own to parse.
    ``read`` is called by name on the request's backend, so a subclass's (or a patched) method serves."""
    method = read.__name__

    async def handler(request: Request, company: Company, limit: Limit = DEFAULT_LIMIT,
                      offset: Offset = 0) -> dict[str, Any]:
        return page(getattr(backend(request), method)(company, limit, offset), limit, offset)

    handler.__name__ = method  # the OpenAPI operationId
    route(router, name, **documentation)(handler)


def get_route(router: APIRouter, name: str, read: Callable[[LeelooBackend, str, str], Any],
              **documentation: Any) -> None:
    """Registers endpoint ``name`` as a plain read of one record: ``read(backend, company, id)`` with
    the id from the path parameter the contract's path names, in an ``ok`` envelope (called by name, as
    in :func:`list_route`)."""
    (id_name,) = _PATH_PARAMETER.findall(ENDPOINTS[name].path)
    method = read.__name__

    async def handler(request: Request, company: str, **path: str) -> dict[str, Any]:
        return ok(getattr(backend(request), method)(company, path[id_name]))

    # FastAPI reads the parameters from the signature: the path parameter takes the contract's name.
    handler.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
        inspect.Parameter("company", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Company),
        inspect.Parameter(id_name, inspect.Parameter.KEYWORD_ONLY, annotation=str),
    ], return_annotation=dict[str, Any])
    handler.__name__ = method
    route(router, name, **documentation)(handler)


def ok(data: Any, **extra: Any) -> dict[str, Any]:
    return {"status": 1, "data": data, **extra}


def page(found: Found, limit: int, offset: int) -> dict[str, Any]:
    """A list envelope of ``found``: a page of records and how many match in all. filteredCount is
    the number of records in this response and totalCount the number matching the filter, as the
    v1 document defines them."""
    items, total = found
    meta = {"limit": limit, "offset": offset, "filteredCount": len(items), "totalCount": total}
    return {"status": 1, "data": items, "meta": meta}


def split_tags(values: list[str] | None, field: str = "filter[tags]") -> tuple[str, ...]:
    """filter[tags] repeated (v2) or comma-separated (v1): both forms are accepted everywhere."""
    tags: list[str] = []
    for value in values or []:
        tags.extend(part.strip() for part in value.split(",") if part.strip())
        if len(tags) > MAX_FILTER_VALUES:
            raise ApiError(422, f"{field} names more than {MAX_FILTER_VALUES} values", field=field)
    return tuple(dict.fromkeys(tags))


def parse_include(values: list[str] | None, allowed: frozenset[str]) -> frozenset[str]:
    """include=a,b (or repeated); an unknown name is a 422 naming include."""
    if any(not value.strip(" ,") for value in values or []):
        raise ApiError(422, "include: an empty value names no side-load", field="include")
    names = frozenset(split_tags(values, "include"))
    unknown = sorted(names - allowed)
    if unknown:
        raise ApiError(422, f"include: unknown {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})",
                       field="include")
    return names


def date_range(start: str | None, end: str | None) -> tuple[datetime | None, datetime | None]:
    """filter[last_message][from|to]; a bare date as the upper bound means the whole day."""
    lower = parse_datetime(start, "filter[last_message][from]") if start else None
    upper = upper_bound(parse_datetime(end, "filter[last_message][to]"), end) if end else None
    return lower, upper

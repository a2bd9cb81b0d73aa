"""FastAPI glue every API's routes share: the dependencies that find the sandbox and the
company a request acts for, and the OpenAPI documentation of bodies read by
:func:`wire.parse_body` (JSON and form-data alike)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import Header
from pydantic import BaseModel
from starlette.requests import Request

from leadbridge.sandbox.wire import ApiError

if TYPE_CHECKING:
    from leadbridge.sandbox.schema import DialogToken, NeirosToken
    from leadbridge.sandbox.state import Sandbox


# Nested body models, merged into the OpenAPI components by the app factory.
EXTRA_SCHEMAS: dict[str, Any] = {}


def body_doc(model: type[BaseModel], *, form: bool = False, example: Any = None) -> dict[str, Any]:
    """``openapi_extra`` documenting a body parsed by :func:`wire.parse_body` (JSON and form alike)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    EXTRA_SCHEMAS.update(schema.pop("$defs", {}))
    json_content: dict[str, Any] = {"schema": schema}
    if example is not None:
        json_content["example"] = example
    content: dict[str, Any] = {"application/json": json_content}
    if form:
        content = {"multipart/form-data": {"schema": schema}, **content}
        content["application/x-www-form-urlencoded"] = {"schema": schema}
    return {"requestBody": {"required": True, "content": content}}


def sandbox_of(request: Request) -> Sandbox:
    """The sandbox serving this request (``app.state.sandbox``)."""
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


@dataclass(frozen=True)
class CompanyOf:
    """How a route's ``company`` dependency finds the company, for the fast lane to do the same
    without FastAPI (hotpath.py): the header carrying the token (its first value, as FastAPI
    reads it), whether a plain ``authToken`` query parameter may carry it instead, and the lookup
    of a token (None when none was sent), which raises the API's refusal."""

    header: bytes  # lower case, as ASGI gives header names
    query: bool
    lookup: Callable[[Sandbox, str | None], str]


# Each route dependency giving ``company``, and how it does (filled in where each is defined).
COMPANY_OF: dict[Callable[..., Any], CompanyOf] = {}


def bearer_company(table: type[NeirosToken | DialogToken], description: str, *,
                   refusals: tuple[str, str] | None = None) -> Callable[..., Awaitable[str]]:
    """A route dependency: the company whose Bearer token (of ``table``) the request carries.

    ``refusals``: the 401 messages for a missing and for an unknown token, sent with
    ``WWW-Authenticate: Bearer`` (FastAPI's OAuth2 style); by default the store's own refusal.
    Asynchronous, so FastAPI calls it on the event loop rather than in a worker thread.
    """

    def lookup(sandbox: Sandbox, authorization: str | None) -> str:
        try:
            return sandbox.bearer_company(authorization, table)
        except ApiError:
            if refusals is None:
                raise
            missing, unknown = refusals
            raise ApiError(401, missing if not authorization else unknown,
                           headers={"WWW-Authenticate": "Bearer"}) from None

    async def company(request: Request, authorization: str | None = Header(None, description=description)) -> str:
        company_id = lookup(sandbox_of(request), authorization)
        request.state.company_id = company_id
        return company_id

    COMPANY_OF[company] = CompanyOf(b"authorization", False, lookup)
    return company

"""The control API under ``/_sandbox``: reset, clock, request log and fault injection.

Not part of any vendor's API; it exists so tests can set up, observe and disturb the
sandbox from outside, over HTTP, like any other client.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from leadbridge.sandbox import world
from leadbridge.sandbox.common import body_doc, iso, parse_body, sandbox_of
from leadbridge.sandbox.state import Fault

router = APIRouter(prefix="/_sandbox", tags=["sandbox control"])



class AdvanceClock(BaseModel):
    seconds: float = Field(ge=0, le=10 * 365 * 86400, description="How far to move the clock forward")


class FaultSpec(BaseModel):
    pattern: str = Field(default=".*", description="Regular expression matched against the request path")
    latency_ms: float = Field(default=0, ge=0, le=60_000)
    error_rate: float = Field(default=0, ge=0, le=1, description="Share of requests answered with error_status")
    error_status: int = Field(default=503, ge=500, le=599)
    rate_limit_rate: float = Field(default=0, ge=0, le=1, description="Share of requests answered 429")
    retry_after: int = Field(default=1, ge=0, le=3600, description="Retry-After seconds sent with a 429")
    methods: list[str] | None = Field(default=None, description="Only these HTTP methods (default: all)")


@router.post("/reset", summary="Drop all data and seed the demo data again")
async def reset(request: Request) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    sandbox.reset()
    return {"status": "ok", "clock": iso(sandbox.now())}


@router.get("/clock", summary="The sandbox clock (UTC)")
async def clock(request: Request) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    return {"now": iso(sandbox.now()), "offset_seconds": sandbox.clock_offset.total_seconds()}


@router.post("/clock/advance", summary="Move the sandbox clock forward", openapi_extra=body_doc(AdvanceClock))
async def advance(request: Request) -> dict[str, Any]:
    body = await parse_body(request, AdvanceClock)
    sandbox = sandbox_of(request)
    sandbox.advance_clock(body.seconds)
    return {"now": iso(sandbox.now()), "offset_seconds": sandbox.clock_offset.total_seconds()}


SECRET_FIELDS = frozenset({"password", "token"})
# The same fields in urlencoded (password=…&) and multipart (name="password"\r\n\r\n…) bodies.
_SECRET_IN_TEXT = re.compile(
    r'((?:^|&)(?:password|token)=)[^&]*|(name="(?:password|token)"\r\n(?:[^\r\n]*\r\n)*\r\n)[^\r\n]*'
)


def _redact(value: Any) -> Any:
    """The request log never shows a password or token, whatever form the body took."""
    if isinstance(value, dict):
        return {key: "***" if key in SECRET_FIELDS else _redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact(item) for item in value]
    return value


def _decode(body: bytes) -> Any:
    if not body:
        return None
    try:
        return _redact(orjson.loads(body))
    except orjson.JSONDecodeError:
        text = body.decode("utf-8", "replace")
        return _SECRET_IN_TEXT.sub(lambda m: (m.group(1) or m.group(2)) + "***", text)


@router.get("/requests", summary="The request log of the vendor APIs, oldest first")
async def requests(
    request: Request,
    method: Annotated[str | None, Query(description="Only this HTTP method")] = None,
    path: Annotated[str | None, Query(description="Only paths containing this text")] = None,
    since_id: Annotated[int, Query(ge=0, description="Only entries with a greater id")] = 0,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    selected = []
    for entry in sandbox.requests:
        if entry.id <= since_id or (method and entry.method != method.upper()) or (path and path not in entry.path):
            continue
        item = entry.as_dict()
        item["body"] = _decode(entry.body)
        selected.append(item)
        if len(selected) >= limit:
            break
    return {"data": selected, "count": len(selected), "last_id": sandbox.request_counter}


@router.delete("/requests", summary="Clear the request log")
async def clear_requests(request: Request) -> dict[str, Any]:
    sandbox_of(request).requests.clear()
    return {"status": "ok"}


@router.post("/faults", summary="Inject latency, server errors or 429s on matching paths",
             openapi_extra=body_doc(FaultSpec))
async def add_fault(request: Request) -> dict[str, Any]:
    spec = await parse_body(request, FaultSpec)

    try:
        re.compile(spec.pattern)
    except re.error as exc:
        from leadbridge.sandbox.common import ApiError

        raise ApiError(422, f"pattern is not a valid regular expression: {exc}", field="pattern") from None
    fault = Fault(**spec.model_dump())
    sandbox = sandbox_of(request)
    sandbox.faults.append(fault)
    return {"status": "ok", "faults": [_fault_dict(f) for f in sandbox.faults]}


@router.get("/faults", summary="The faults in force")
async def list_faults(request: Request) -> dict[str, Any]:
    return {"faults": [_fault_dict(f) for f in sandbox_of(request).faults]}


@router.delete("/faults", summary="Remove every injected fault")
async def clear_faults(request: Request) -> dict[str, Any]:
    sandbox_of(request).faults.clear()
    return {"status": "ok", "faults": []}


def _fault_dict(fault: Fault) -> dict[str, Any]:
    return {key: getattr(fault, key) for key in FaultSpec.model_fields}


# --- the world no vendor API changes: tags, templates, a person's own messages ------------


class NewTag(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="The tag's name, as Leeloo's interface takes it")
    company_id: str = Field(default=world.DEFAULT_COMPANY, max_length=24, description="Tenant (default: demo)")


class NewTemplate(BaseModel):
    message_name: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=world.TEXT_MAX, description="Text with {placeholders}")
    category: str = Field(default="Шаблоны", min_length=1, max_length=200, description="Category (made if missing)")
    company_id: str = Field(default=world.DEFAULT_COMPANY, max_length=24, description="Tenant (default: demo)")


class IncomingMessage(BaseModel):
    account_id: str = Field(max_length=24, description="The person's communication channel")
    text: str = Field(min_length=1, max_length=world.TEXT_MAX)


@router.post("/tags", summary="Create a Leeloo tag (Leeloo's API has no call for it); harmless twice",
             openapi_extra=body_doc(NewTag))
async def create_tag(request: Request) -> dict[str, Any]:
    body = await parse_body(request, NewTag)
    return {"data": world.create_tag(sandbox_of(request), body.company_id, body.name)}


@router.post("/templates", summary="Create a Leeloo message template", openapi_extra=body_doc(NewTemplate))
async def create_template(request: Request) -> dict[str, Any]:
    body = await parse_body(request, NewTemplate)
    return {"data": world.create_template(sandbox_of(request), body.company_id, body.category, body.message_name,
                                          body.text)}


@router.post("/incoming-messages", summary="A message the person writes to the bot (type FRIEND_MESSAGE)",
             openapi_extra=body_doc(IncomingMessage))
async def incoming_message(request: Request) -> dict[str, Any]:
    body = await parse_body(request, IncomingMessage)
    return {"data": world.add_incoming_message(sandbox_of(request), body.account_id, body.text)}


@router.get("/people/{person_id}/comments", summary="A person's comments, newest first")
async def person_comments(request: Request, person_id: Annotated[str, Path(max_length=24)]) -> dict[str, Any]:
    return {"data": world.person_comments(sandbox_of(request), person_id)}


@router.get("/people/{person_id}/calls", summary="Calls logged on a person's accounts, newest first")
async def person_calls(request: Request, person_id: Annotated[str, Path(max_length=24)]) -> dict[str, Any]:
    return {"data": world.person_calls(sandbox_of(request), person_id)}

"""The control API under ``/_sandbox``: reset, clock, request log and fault injection.

Not part of any vendor's API; it exists so tests can set up, observe and disturb the
sandbox from outside, over HTTP, like any other client.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from leadbridge.sandbox.common import body_doc, iso, parse_body, sandbox_of
from leadbridge.sandbox.state import LEELOO_RATE_LIMIT, LEELOO_RATE_WINDOW_SECONDS, Fault, Sandbox

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


class RealisticSpec(BaseModel):
    enabled: bool = Field(description="Enforce Leeloo's rate limit (300 requests a minute per token)")
    limit: int = Field(default=LEELOO_RATE_LIMIT, ge=1, le=1_000_000,
                       description="Requests per token per window (Leeloo's is 300)")
    window_seconds: float = Field(default=LEELOO_RATE_WINDOW_SECONDS, gt=0, le=86_400,
                                  description="Window length in real seconds (Leeloo's is 60)")


def _realistic_dict(sandbox: Sandbox) -> dict[str, Any]:
    rate_limit = sandbox.rate_limit
    return {
        "enabled": rate_limit is not None,
        "limit": rate_limit.limit if rate_limit else LEELOO_RATE_LIMIT,
        "window_seconds": rate_limit.window_seconds if rate_limit else LEELOO_RATE_WINDOW_SECONDS,
    }


@router.get("/realistic", summary="Whether realistic mode (Leeloo's rate limit) is on")
async def realistic(request: Request) -> dict[str, Any]:
    return _realistic_dict(sandbox_of(request))


@router.post("/realistic", summary="Switch realistic mode: Leeloo's rate limit of 300 requests a minute per token",
             description="On: each Leeloo token may make `limit` requests per fixed window of `window_seconds` "
                         "real seconds (opened by its first request); beyond that the answer is Leeloo's plain-text "
                         "429 `Too many requests, please try again later.` with `Retry-After`. Injected faults "
                         "apply to the requests let through. Switching (on again, too) restarts every count.",
             openapi_extra=body_doc(RealisticSpec))
async def set_realistic(request: Request) -> dict[str, Any]:
    spec = await parse_body(request, RealisticSpec)
    sandbox = sandbox_of(request)
    sandbox.set_realistic(spec.enabled, limit=spec.limit, window_seconds=spec.window_seconds)
    return _realistic_dict(sandbox)


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

"""The control API under ``/_sandbox``: reset, clock, request log and fault injection.

Not part of any vendor's API; it exists so tests can set up, observe and disturb the
sandbox from outside, over HTTP, like any other client.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from datetime import timedelta
from typing import Annotated, Any, Literal
from urllib.parse import unquote_plus

import orjson
from fastapi import APIRouter, Depends, Header, Path, Query, Request
from pydantic import BaseModel, Field

from leadbridge.contract.sandbox import TOKEN_HEADER
from leadbridge.sandbox import webhooks, world
from leadbridge.sandbox.dependencies import body_doc, sandbox_of
from leadbridge.sandbox.state import (
    LEELOO_RATE_LIMIT,
    LEELOO_RATE_WINDOW_SECONDS,
    MAX_PATTERN,
    Fault,
    Sandbox,
    compile_pattern,
)
from leadbridge.sandbox.wire import MAX_YEAR, ApiError, iso, parse_body


async def control_access(
    request: Request,
    token: Annotated[str | None, Header(alias=TOKEN_HEADER, description="The control token, when the sandbox "
                                        "listens beyond loopback (printed at start, or --control-token)")] = None,
) -> None:
    """Open on loopback; once a control token is set (the sandbox listens elsewhere), only
    requests carrying it may reset, disturb or read the sandbox."""
    expected = sandbox_of(request).control_token
    if expected is None:
        return
    if token is None or not secrets.compare_digest(token.encode(), expected.encode()):
        raise ApiError(401, f"the control API needs the {TOKEN_HEADER} header printed when the sandbox started",
                       field=TOKEN_HEADER)


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


def control_token_for(host: str, given: str | None) -> str | None:
    """The control token a sandbox listening on ``host`` needs: ``given`` if any; else none on
    loopback, and a fresh random one on any other interface."""
    if given:
        return given
    return None if is_loopback(host) else secrets.token_urlsafe(24)


router = APIRouter(prefix="/_sandbox", tags=["sandbox control"], dependencies=[Depends(control_access)])


class AdvanceClock(BaseModel):
    seconds: float = Field(ge=0, le=10 * 365 * 86400, strict=True, description="How far to move the clock forward")


class FaultSpec(BaseModel):
    pattern: str = Field(default=".*", max_length=MAX_PATTERN,
                         description="Regular expression (RE2 syntax: no backreferences or lookarounds, "
                                     "matched in linear time) searched for in the request path")
    latency_ms: float = Field(default=0, ge=0, le=60_000)
    error_rate: float = Field(default=0, ge=0, le=1, description="Share of requests answered with error_status")
    error_status: int = Field(default=503, ge=500, le=599)
    rate_limit_rate: float = Field(default=0, ge=0, le=1, description="Share of requests answered 429")
    retry_after: int = Field(default=1, ge=0, le=3600, description="Retry-After seconds sent with a 429")
    methods: list[Annotated[str, Field(max_length=10)]] | None = Field(
        default=None, max_length=10, description="Only these HTTP methods (default: all)")
    target: Literal["api", "webhooks"] = Field(
        default="api", description='"api": requests to the vendor APIs. "webhooks": outgoing webhook deliveries; '
                                   "the pattern is searched in the event type (e.g. `^SALE$`), latency_ms delays "
                                   "each delivery, error_rate fails attempts as if the receiver answered "
                                   "error_status (they are retried), drop_rate and duplicate_rate apply")
    drop_rate: float = Field(default=0, ge=0, le=1,
                             description="webhooks: share of events never delivered (logged as failed, not retried)")
    duplicate_rate: float = Field(default=0, ge=0, le=1,
                                  description="webhooks: share of events delivered twice (a second delivery)")


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
    # The clock stays inside the dates the APIs accept (wire.DATE_WINDOW): past its end,
    # "now" could not be written back or compared with any date a client sends.
    if (sandbox.now() + timedelta(seconds=body.seconds)).year > MAX_YEAR - 1:
        raise ApiError(422, f"seconds would move the clock past {MAX_YEAR - 1}", field="seconds")
    sandbox.advance_clock(body.seconds)
    if sandbox.activity is not None:
        # The events of the skipped time happen now, in order, each at its own time.
        sandbox.activity.run_until(sandbox.now())
    return {"now": iso(sandbox.now()), "offset_seconds": sandbox.clock_offset.total_seconds()}


# A key is secret when, lower-cased and percent-decoded, it contains one of these words:
# password, Password, pass%77ord, authToken, access_token, X-Leeloo-AuthToken, client_secret…
SECRET_WORDS = ("password", "passwd", "token", "secret")
SHOWN_DEPTH = 32  # a body nested deeper is shown cut at this depth (the JSON encoder stops at 254)
_JSON_PAIR = re.compile(r'"((?:[^"\\\r\n]|\\.){0,400})"(\s*:\s*)("(?:[^"\\]|\\.)*"?|[^,}\]\s]*)')
_MULTIPART_FIELD = re.compile(r'(name="([^"\r\n]{0,400})"[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n)([^\r\n]*)', re.IGNORECASE)


def is_secret(key: str) -> bool:
    name = unquote_plus(key).lower()
    return any(word in name for word in SECRET_WORDS)


def _redact(value: Any, depth: int = 0) -> Any:
    """The request log never shows a password or token, whatever form the body took."""
    if depth >= SHOWN_DEPTH and isinstance(value, dict | list):
        return f"… (nested deeper than {SHOWN_DEPTH} levels)"
    if isinstance(value, dict):
        return {key: "***" if is_secret(key) else _redact(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact(item, depth + 1) for item in value]
    return value


def redact_pairs(text: str) -> str:
    """``key=value&…`` (a query string or urlencoded body) with each secret key's value shown as ``***``."""
    pieces = text.split("&")
    for index, piece in enumerate(pieces):
        key, equals, _ = piece.partition("=")
        if equals and is_secret(key):
            pieces[index] = f"{key}=***"
    return "&".join(pieces)


def _json_key(raw: str) -> str:
    try:
        key = orjson.loads(f'"{raw}"')
    except orjson.JSONDecodeError:
        return raw
    return key if isinstance(key, str) else raw


def redact_text(text: str) -> str:
    """A body that is not valid JSON (malformed, cut off, urlencoded or multipart), redacted as
    each of those forms would be: JSON-like ``"key": value`` pairs, ``key=value`` pairs and
    multipart fields."""
    text = _JSON_PAIR.sub(
        lambda m: f'"{m.group(1)}"{m.group(2)}"***"' if is_secret(_json_key(m.group(1))) else m.group(0), text)
    text = _MULTIPART_FIELD.sub(lambda m: m.group(1) + "***" if is_secret(m.group(2)) else m.group(0), text)
    return redact_pairs(text)


def _decode(body: bytes) -> Any:
    if not body:
        return None
    try:
        return _redact(orjson.loads(body))
    except orjson.JSONDecodeError:
        return redact_text(body.decode("utf-8", "replace"))


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
    for entry in sandbox.requests.after(since_id):
        if (method and entry.method != method.upper()) or (path and path not in entry.path):
            continue
        item = entry.as_dict()
        item["body"] = _decode(entry.body)
        item["query"] = redact_pairs(entry.query)
        selected.append(item)
        if len(selected) >= limit:
            break
    return {"data": selected, "count": len(selected), "last_id": sandbox.request_counter}


@router.delete("/requests", summary="Clear the request log")
async def clear_requests(request: Request) -> dict[str, Any]:
    sandbox_of(request).requests.clear()
    return {"status": "ok"}


@router.post("/faults", summary="Inject latency, server errors or 429s on matching paths, or delays, drops, "
                                  "duplicates and failures on outgoing webhooks (target webhooks)",
             openapi_extra=body_doc(FaultSpec))
async def add_fault(request: Request) -> dict[str, Any]:
    spec = await parse_body(request, FaultSpec)
    try:
        compile_pattern(spec.pattern)
    except ValueError as exc:
        raise ApiError(422, f"pattern {exc}", field="pattern") from None
    fault = Fault(**spec.model_dump())
    sandbox = sandbox_of(request)
    sandbox.add_fault(fault)
    return {"status": "ok", "faults": [_fault_dict(f) for f in sandbox.faults]}


@router.get("/faults", summary="The faults in force")
async def list_faults(request: Request) -> dict[str, Any]:
    return {"faults": [_fault_dict(f) for f in sandbox_of(request).faults]}


@router.delete("/faults", summary="Remove every injected fault")
async def clear_faults(request: Request) -> dict[str, Any]:
    sandbox_of(request).clear_faults()
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


# --- webhooks ------------------------------------------------------------------------------


EventType = Literal["ORDER", "SALE", "SUBSCRIPTION", "INCOMING_MESSAGE"]
ALL_EVENTS: tuple[EventType, ...] = ("ORDER", "SALE", "SUBSCRIPTION", "INCOMING_MESSAGE")


class WebhookSpec(BaseModel):
    company_id: str = Field(default=world.DEFAULT_COMPANY, max_length=24, description="Tenant (default: demo)")
    enabled: bool = Field(description="Webhook enabled (Leeloo's API settings)")
    url: str = Field(max_length=webhooks.URL_MAX, description="http or https URL every event is POSTed to")
    events: list[EventType] = Field(default_factory=lambda: list(ALL_EVENTS), max_length=4,
                                    description="The events sent")


@router.get("/webhooks", summary="Each company's webhook settings")
async def webhook_settings(
    request: Request,
    company_id: Annotated[str | None, Query(max_length=24, description="Only this company")] = None,
) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    if company_id is not None:
        world.require_company(sandbox, company_id)
    return {"data": sandbox.webhooks.settings(company_id)}


@router.put("/webhooks", summary="Set a company's webhook: enabled, URL and events",
            description="Events are POSTed as JSON `{\"type\", \"data\"}` after the write that caused them "
                        "commits, in the background, at least once (retried with exponential backoff on a "
                        "connection error, timeout or non-2xx answer, up to 8 attempts), with the header "
                        f"`{webhooks.DELIVERY_HEADER}` naming the delivery. See docs/fidelity.md.",
            openapi_extra=body_doc(WebhookSpec))
async def set_webhook(request: Request) -> dict[str, Any]:
    body = await parse_body(request, WebhookSpec)
    sandbox = sandbox_of(request)
    world.require_company(sandbox, body.company_id)
    return {"data": sandbox.webhooks.configure(body.company_id, enabled=body.enabled, url=body.url,
                                               events=list(body.events))}


@router.get("/webhooks/deliveries", summary="The webhook delivery log, newest first")
async def webhook_deliveries(
    request: Request,
    company_id: Annotated[str | None, Query(max_length=24, description="Only this company")] = None,
    limit: Annotated[int, Query(ge=1, le=webhooks.LOG_MAX)] = 100,
) -> dict[str, Any]:
    return {"data": sandbox_of(request).webhooks.deliveries(company_id, limit)}


@router.post("/webhooks/deliveries/{delivery_id}/redeliver",
             summary="Send a logged delivery's event again, to the company's webhook as set now",
             description="A new delivery (its own id, retried and disturbed by faults like any other) of the "
                         "same body; 409 while the delivery is still pending or when the company's webhook "
                         "no longer sends its event type.")
async def redeliver(request: Request, delivery_id: Annotated[str, Path(max_length=24)]) -> dict[str, Any]:
    return {"data": sandbox_of(request).webhooks.redeliver(delivery_id)}

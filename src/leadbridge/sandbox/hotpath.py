"""A fast lane in front of FastAPI for the hottest Leeloo calls.

FastAPI's per-request machinery (routing through nested routers, dependency solving,
parameter validation, response-model serialisation) costs several times what the
sandbox's own work does on these calls. For requests in their plain form, this ASGI
layer calls the very same endpoint functions directly; anything else (a filter, a
malformed or out-of-range parameter) goes through FastAPI as usual. So behaviour is
identical by construction: same handler code, same error rendering.

Pages read in plain form are kept rendered in the company's cache (``cache.CompanyCache``)
until the company's next write: a client paging through data it does not change gets them
straight from memory.

Plain form: ``GET /api/v2/people`` and ``GET /api/v2/communication-channels/{id}/chat-messages``
with at most ``limit`` and ``offset`` as plain numbers; ``POST /api/v2/messages/send-message``
with any body (its handler parses the body itself); each may carry the token as a plain
``authToken`` query parameter instead of the header.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from leadbridge.contract.leeloo import DEFAULT_LIMIT, PAGE_CAP, TOKEN_HEADER
from leadbridge.sandbox.leeloo.routes import api, messaging, people
from leadbridge.sandbox.state import Sandbox
from leadbridge.sandbox.wire import JSON, ApiError

CHANNELS = "/api/v2/communication-channels/"
CHAT_MESSAGES = "/chat-messages"
MAX_DIGITS = 9  # beyond this FastAPI's validation (and the database) decide

Endpoint = Callable[..., Awaitable[dict[str, Any]]]


def paging(query: bytes, max_limit: int, page_cap: int) -> tuple[dict[str, int], str | None] | None:
    """``limit``/``offset`` (a limit above ``page_cap`` serves ``page_cap``, as Leeloo does) and
    the ``authToken`` from a plain query string, or None when FastAPI should parse it."""
    if not query:
        return {}, None
    values: dict[str, int] = {}
    token: str | None = None
    for pair in query.split(b"&"):
        name, _, value = pair.partition(b"=")
        key = name.decode("latin-1")
        if key == api.TOKEN_QUERY and token is None and value and b"%" not in value and b"+" not in value:
            token = value.decode("latin-1")
            continue
        if key not in ("limit", "offset") or key in values or not value.isdigit() or len(value) > MAX_DIGITS:
            return None
        values[key] = int(value)
    if values.get("limit", 0) > max_limit:
        return None
    if "limit" in values:
        values["limit"] = min(values["limit"], page_cap)
    return values, token


class FastLane:
    def __init__(self, app: ASGIApp, render_error: Callable[[str, ApiError], JSON]) -> None:
        self.app = app
        self.render_error = render_error
        self.company = api.leeloo_company
        self.max_limit = api.MAX_LIMIT
        self.page_cap = PAGE_CAP
        self.token_header = TOKEN_HEADER.lower().encode("latin-1")
        self.people: Endpoint = people.list_people
        self.chat_messages: Endpoint = messaging.chat_messages
        self.send_message: Endpoint = messaging.send_message

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            call = self.route(scope)
            if call is not None:
                await self.serve(scope, receive, send, *call)
                return
        await self.app(scope, receive, send)

    def route(self, scope: Scope) -> tuple[Endpoint, dict[str, Any], str | None] | None:
        path: str = scope["path"]
        method: str = scope["method"]
        if method == "POST":
            if path != "/api/v2/messages/send-message":
                return None
            parsed = paging(scope["query_string"], 0, 0)
            return None if parsed is None or parsed[0] else (self.send_message, {}, parsed[1])
        if method != "GET":
            return None
        if path == "/api/v2/people":
            endpoint = self.people
            kwargs: dict[str, Any] = {"last_message": api.NO_WINDOW}
        elif path.startswith(CHANNELS) and path.endswith(CHAT_MESSAGES):
            channel = path[len(CHANNELS) : -len(CHAT_MESSAGES)]
            if not channel or "/" in channel:
                return None
            endpoint = self.chat_messages
            kwargs = {"person_id": channel}
        else:
            return None
        paged = paging(scope["query_string"], self.max_limit, self.page_cap)
        if paged is None:
            return None
        kwargs["page"] = api.Paging(paged[0].get("limit", DEFAULT_LIMIT), paged[0].get("offset", 0))
        return endpoint, kwargs, paged[1]

    async def serve(self, scope: Scope, receive: Receive, send: Send, endpoint: Endpoint,
                    kwargs: dict[str, Any], query_token: str | None) -> None:
        token = None
        for name, value in scope["headers"]:
            if name == self.token_header:
                token = value.decode("latin-1")
                break
        token = token or query_token
        request = Request(scope, receive)
        sandbox: Sandbox = scope["app"].state.sandbox
        response: Response
        try:
            company = await self.company(request, token)
            if scope["method"] != "GET":
                response = JSON(await endpoint(request, company, **kwargs))
            else:
                cache = sandbox.cache(company)
                # Keyed by what is served (not the raw query: it may hold the token, or a limit beyond the cap).
                key = (scope["path"], *kwargs["page"])
                body = cache.page(key)
                if body is None:
                    body = orjson.dumps(await endpoint(request, company, **kwargs))
                    cache.put_page(key, body)
                response = Response(body, media_type="application/json")
        except ApiError as exc:
            response = self.render_error(scope["path"], exc)
        await response(scope, receive, send)

"""The outermost layer of the sandbox app: what every request meets before any route.

One layer (``Front``), not a stack of middlewares: each wrapping of ``send`` and each
frame costs every request, and a people page served from memory spends most of its time
in layers like these.

- **Refuses what no route may see.** A NUL character in the path or query string is
  refused with a 422 naming the parameter (PostgreSQL cannot hold one in text, SQLite
  would: the answer must not depend on the database), an oversized query string with a 414.
- **Applies the injected faults and realistic mode's rate limit** to API requests
  (``/api/…``), and **records each of them in the request log** (``state.RequestLog``),
  whatever lane serves it.
- **Answers what no route expected.** Anything a route raises that nothing else handled
  becomes a logged 500 in the style of the API called. Inside FastAPI, Starlette's
  ServerErrorMiddleware sends that 500 (the app's handler for ``Exception`` renders it) and
  then raises the exception again, which would make uvicorn drop the keep-alive connection;
  here the exception ends with the response, so the client's next request on the same
  connection is served as usual. What the fast lane serves fails straight into this layer,
  which answers the same 500. The write that failed has already been rolled back by its
  transaction (``Sandbox.write``).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from urllib.parse import parse_qsl

from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadbridge.sandbox.state import LOGGED_BODY_BYTES, RATE_LIMIT_MESSAGE, Sandbox
from leadbridge.sandbox.wire import JSON, ApiError

logger = logging.getLogger("leadbridge.sandbox")

MAX_QUERY_BYTES = 16 * 1024  # a query string beyond this is no client's paging or filter
LEELOO_PREFIXES = ("/api/v1/", "/api/v2/")
_TOKEN_HEADER = b"x-leeloo-authtoken"


def query_problem(scope: Scope) -> ApiError | None:
    """A NUL in the path or query string (raw or percent-encoded), or an oversized query string."""
    path: str = scope["path"]
    if "\x00" in path:
        return ApiError(422, "the path contains a NUL character", field="path")
    query: bytes = scope.get("query_string", b"")
    if len(query) > MAX_QUERY_BYTES:
        return ApiError(414, f"the query string is longer than {MAX_QUERY_BYTES} bytes", field="query")
    if b"\x00" in query or b"%00" in query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name or "\x00" in value:
                shown = name.replace("\x00", "")[:60] or "query"
                return ApiError(422, f"{shown} contains a NUL character", field=shown)
    return None


def leeloo_token(scope: Scope) -> str:
    """The Leeloo token a request carries (header, else ``authToken`` in the query), or ""."""
    header: bytes
    raw: bytes
    for header, raw in scope["headers"]:
        if header == _TOKEN_HEADER:
            return raw.decode("latin-1")
    query: bytes = scope.get("query_string", b"")
    if b"authToken=" in query:
        for name, value in parse_qsl(query.decode("latin-1")):
            if name == "authToken":
                return value
    return ""


def declared_length(scope: Scope) -> int:
    """The Content-Length sent, which a refused oversized body was never read up to."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


UNEXPECTED = ApiError(500, "Internal server error: the sandbox failed unexpectedly; nothing was changed")


class Front:
    def __init__(self, app: ASGIApp, sandbox: Sandbox, render_error: Callable[[str, ApiError], Response]) -> None:
        self.app = app
        self.sandbox = sandbox
        self.render_error = render_error
        self.rng = random.Random(sandbox.seed)  # which requests the injected faults hit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        query: bytes = scope.get("query_string", b"")
        # The common case tested inline: this runs on every request.
        if "\x00" in path or b"\x00" in query or b"%00" in query or len(query) > MAX_QUERY_BYTES:
            problem = query_problem(scope)
            if problem is not None:
                await self.render_error(path, problem)(scope, receive, send)
                return
        sandbox = self.sandbox
        if sandbox.shared:
            sandbox.refresh()  # what other processes serving the same database changed
        if not path.startswith("/api/"):
            await self.guarded(scope, receive, send)
            return
        # An API request: faults and rate limit applied, the last resort, and a line in the log.
        # Here rather than in a method of its own: a coroutine less on every API request.
        method: str = scope["method"]
        chunks: list[bytes] = []
        size_holder = [0, 0]  # bytes received, bytes kept (at most LOGGED_BODY_BYTES)

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunk: bytes = message.get("body", b"")
                size_holder[0] += len(chunk)
                room = LOGGED_BODY_BYTES - size_holder[1]
                if room > 0 and chunk:
                    kept = chunk[:room]
                    chunks.append(kept)
                    size_holder[1] += len(kept)
            return message

        status_holder: list[int | None] = [None]  # the status sent, once an answer has started

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
            await send(message)

        fault_name = None
        faults = sandbox.faults
        rate_limit = sandbox.rate_limit
        try:
            if rate_limit is not None and path.startswith(LEELOO_PREFIXES):
                retry_after = rate_limit.retry_after(leeloo_token(scope), time.monotonic())
                if retry_after is not None:
                    # Realistic mode: Leeloo's own plain-text 429 comes before any injected fault.
                    refusal = PlainTextResponse(RATE_LIMIT_MESSAGE, status_code=429,
                                                headers={"Retry-After": str(retry_after)})
                    await refusal(scope, receive, recording_send)
                    fault_name = "realistic_rate_limit"
                    faults = []
            for fault in faults:
                if not fault.matches(method, path):
                    continue
                if fault.latency_ms:
                    await asyncio.sleep(fault.latency_ms / 1000)
                roll = self.rng.random()
                if roll < fault.rate_limit_rate:
                    fault_name = "rate_limit"
                    response: Response = JSON({"message": "Too Many Attempts."}, status_code=429,
                                              headers={"Retry-After": str(fault.retry_after)})
                elif roll < fault.rate_limit_rate + fault.error_rate:
                    fault_name = "error"
                    response = JSON({"message": "Injected server error"}, status_code=fault.error_status)
                else:
                    continue
                await response(scope, receive, recording_send)
                break
            if fault_name is None:
                scope.setdefault("state", {})
                await self.app(scope, recording_receive, recording_send)
        except Exception:
            await self.unexpected(scope, receive, send, status_holder[0] is not None)
        finally:  # an unexpected error is logged too, as the 500 answered for it
            status = status_holder[0]
            sandbox.requests.record(method, path, query,
                                    (scope.get("state") or {}).get("company_id"), 500 if status is None else status,
                                    b"".join(chunks), fault_name, max(size_holder[0], declared_length(scope)),
                                    sandbox.clock_offset)

    async def unexpected(self, scope: Scope, receive: Receive, send: Send, started: bool) -> None:
        """After an exception no route handled: logged, and answered with a 500 unless an answer
        is already on the wire (nothing coherent can follow part of one)."""
        logger.exception("unexpected error serving %s %s", scope["method"], scope["path"])
        if not started:
            await self.render_error(scope["path"], UNEXPECTED)(scope, receive, send)

    async def guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A request outside the APIs (the console, the control API): only the last resort."""
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            await self.unexpected(scope, receive, send, started)

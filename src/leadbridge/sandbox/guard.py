"""The outermost layer of the sandbox app: refuses what no route may see, answers what no route expected.

- A NUL character in the path or query string is refused with a 422 naming the parameter
  (PostgreSQL cannot hold one in text, SQLite would: the answer must not depend on the database).
- Anything a route raises that nothing else handled becomes a logged 500 in the style of
  the API called. Inside FastAPI, Starlette's ServerErrorMiddleware sends that 500 (the app's
  handler for ``Exception`` renders it) and then raises the exception again, which would make
  uvicorn drop the keep-alive connection; here the exception ends with the response, so the
  client's next request on the same connection is served as usual. What the fast lane serves
  fails straight into this layer, which answers the same 500. The write that failed has
  already been rolled back by its transaction (``Sandbox.write``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import parse_qsl

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadbridge.sandbox.wire import ApiError

logger = logging.getLogger("leadbridge.sandbox")

MAX_QUERY_BYTES = 16 * 1024  # a query string beyond this is no client's paging or filter


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


class LastResort:
    def __init__(self, app: ASGIApp, render_error: Callable[[str, ApiError], Response]) -> None:
        self.app = app
        self.render_error = render_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = query_problem(scope)
        if problem is not None:
            await self.render_error(scope["path"], problem)(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            logger.exception("unexpected error serving %s %s", scope["method"], scope["path"])
            if started:  # part of an answer is already on the wire: nothing coherent can follow it
                return
            error = ApiError(500, "Internal server error: the sandbox failed unexpectedly; nothing was changed")
            await self.render_error(scope["path"], error)(scope, receive, send)

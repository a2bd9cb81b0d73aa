"""The ASGI application: three vendors' APIs and the control API on one port.

Their paths do not collide (Leeloo under ``/api/v1`` and ``/api/v2``, Neiros under
``/api/userapi``, Dialog under ``/api/login``, ``/api/campaigns`` and ``/api/analytics``),
so one FastAPI app mounts a router per platform, as in FastAPI's "bigger applications".
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadbridge.console import apidocs
from leadbridge.sandbox import common
from leadbridge.sandbox.common import JSON, ApiError, api_of, error_body
from leadbridge.sandbox.hotpath import FastLane
from leadbridge.sandbox.state import LoggedRequest, Sandbox

TITLE = "leadbridge sandbox: Leeloo.ai (v1, v2), Neiros and Dialog"
DESCRIPTION = """\
A stateful local implementation of the documented Leeloo.ai API v1 and v2, the Neiros
user API and the Dialog (Intersvyaz) API, plus a control API under `/_sandbox`.

Extensions beyond the vendors' documents (marked so): `GET /api/v2/tunnels/{id}?include=blocks`
side-loads the tunnel's blocks, which no documented call lists; `POST /api/login` is our
reading of Dialog's "/login" call.
"""


ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "description": "An error in the style of the API called: Leeloo adds status 0 and code; "
                   "errors maps each invalid field to its messages.",
    "type": "object",
    "required": ["message"],
    "properties": {
        "message": {"type": "string"},
        "status": {"type": "integer", "enum": [0]},
        "code": {"type": "integer"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
}


def create_app(sandbox: Sandbox | None = None, *, start: bool = True) -> FastAPI:
    from leadbridge.console import sandbox_ui as console
    from leadbridge.sandbox import control
    from leadbridge.sandbox.dialog.routes import router as dialog_router
    from leadbridge.sandbox.leeloo.routes import router as leeloo_router
    from leadbridge.sandbox.neiros.routes import router as neiros_router

    sandbox = sandbox or Sandbox()
    if start:
        sandbox.start()
    app = FastAPI(title=TITLE, description=DESCRIPTION, version="1.0", default_response_class=JSON,
                  docs_url=None, redoc_url=None)
    app.state.sandbox = sandbox
    app.include_router(leeloo_router)
    app.include_router(neiros_router)
    app.include_router(dialog_router)
    app.include_router(control.router)
    console.install(app)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return render_api_error(request.url.path, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors: dict[str, list[str]] = {}
        for item in exc.errors():
            loc = [str(part) for part in item.get("loc", ()) if part not in ("query", "path", "body", "header")]
            errors.setdefault(".".join(loc) or "request", []).append(str(item.get("msg")))
        first = next(iter(errors))
        message = f"Invalid {first}: {errors[first][0]}"
        return JSON(error_body(api_of(request.url.path), 422, message, errors), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = "Not found" if exc.status_code == 404 else str(exc.detail)
        return JSON(error_body(api_of(request.url.path), exc.status_code, message, {}),
                    status_code=exc.status_code)

    def _openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(title=app.title, version=app.version, description=app.description,
                               routes=app.routes)
            schemas = spec.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(common.EXTRA_SCHEMAS)
            # Invalid input is answered in each API's own error style, not FastAPI's.
            if "HTTPValidationError" in schemas:
                schemas["HTTPValidationError"] = ERROR_SCHEMA
                schemas.pop("ValidationError", None)
            app.openapi_schema = apidocs.add_security(spec)
        return app.openapi_schema

    app.openapi = _openapi  # type: ignore[method-assign]

    @app.get("/", include_in_schema=False)
    async def _index() -> RedirectResponse:
        return RedirectResponse(console.PREFIX, status_code=307)

    app.add_middleware(FastLane, render_error=render_api_error)
    app.add_middleware(RecorderMiddleware, sandbox=sandbox)
    return app


def render_api_error(path: str, exc: ApiError) -> JSON:
    return JSON(error_body(api_of(path), exc.status_code, exc.message, exc.errors),
                status_code=exc.status_code, headers=exc.headers)


class RecorderMiddleware:
    """Applies injected faults and records each API request in the sandbox's request log.

    A plain ASGI middleware (not ``BaseHTTPMiddleware``) to keep the hot path lean.
    """

    def __init__(self, app: ASGIApp, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox
        self.rng = random.Random(sandbox.seed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        sandbox = self.sandbox
        method: str = scope["method"]
        path: str = scope["path"]
        chunks: list[bytes] = []

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
            return message

        status_holder = [500]

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
            await send(message)

        fault_name = None
        for fault in sandbox.faults:
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
        sandbox.request_counter += 1
        sandbox.requests.append(LoggedRequest(
            id=sandbox.request_counter,
            at=sandbox.now(),
            method=method,
            path=path,
            query=scope.get("query_string", b"").decode("latin-1"),
            api=api_of(path),
            company_id=(scope.get("state") or {}).get("company_id"),
            status=status_holder[0],
            body=b"".join(chunks),
            fault=fault_name,
        ))

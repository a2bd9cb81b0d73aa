"""The ASGI application: three vendors' APIs and the control API on one port.

Their paths do not collide (Leeloo under ``/api/v1`` and ``/api/v2``, Neiros under
``/api/userapi``, Dialog under ``/api/login``, ``/api/campaigns`` and ``/api/analytics``),
so one FastAPI app mounts a router per platform, as in FastAPI's "bigger applications".
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from leadbridge.sandbox.answerdoc import document_answers
from leadbridge.sandbox.dependencies import EXTRA_SCHEMAS
from leadbridge.sandbox.dialog.backend import DialogBackend
from leadbridge.sandbox.errordoc import document_errors
from leadbridge.sandbox.guard import Front
from leadbridge.sandbox.hotpath import FastLane
from leadbridge.sandbox.leeloo.backend import LeelooBackend
from leadbridge.sandbox.neiros.backend import NeirosBackend
from leadbridge.sandbox.state import Sandbox
from leadbridge.sandbox.wire import JSON, ApiError, api_of, error_body, errors_from

TITLE = "leadbridge sandbox: Leeloo.ai (v1, v2), Neiros and Dialog"
DESCRIPTION = """\
A stateful local implementation of the documented Leeloo.ai API v1 and v2, the Neiros
user API and the Dialog (Intersvyaz) API, plus a control API under `/_sandbox`.

Extensions beyond the vendors' documents (marked so): `GET /api/v2/tunnels/{id}?include=blocks`
side-loads the tunnel's blocks, which no documented call lists; `POST /api/login` with JSON
is our reading of Dialog's "/login" call (the observed OAuth2 form on `/api/login/` works too).
Where public integrations show the services behaving otherwise than documented, both forms
are accepted (Leeloo's `{"status": 0, "error": {…}}` envelope, `authToken` in the query,
100-record pages, …): see docs/fidelity.md.
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
        "error": {"type": "object", "description": "Leeloo: the field codes and the error code",
                  "properties": {"fields": {"type": "object", "additionalProperties": {"type": "string"}},
                                 "code": {"type": "string"}}},
        "detail": {"description": "Dialog: FastAPI's list of {loc, msg, type}, or a text"},
    },
}


def _check_apart(platforms: tuple[tuple[APIRouter, ...], ...]) -> None:
    """Each platform's paths start with second segments of its own, none a parameter: a path one
    platform's route matches, no other platform's can."""
    owner: dict[str, int] = {}
    for number, routers in enumerate(platforms):
        for router in routers:
            for route in router.routes:
                path: str = getattr(route, "path", "")
                segment = path.split("/")[2]
                if "{" in segment or owner.setdefault(segment, number) != number:
                    raise ValueError(f"{path}: the platforms' routes must differ in their second segment")


def create_app(sandbox: Sandbox | None = None, *, start: bool = True) -> FastAPI:
    from leadbridge.console import sandbox_ui as console
    from leadbridge.sandbox import control
    from leadbridge.sandbox.dialog.routes import router as dialog_router
    from leadbridge.sandbox.leeloo.routes import ROUTERS as LEELOO_ROUTERS
    from leadbridge.sandbox.neiros.routes import router as neiros_router

    sandbox = sandbox or Sandbox()
    if start:
        sandbox.start()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # The activity runs on the server's event loop, between requests (see activity.py).
        activity = sandbox.activity
        if activity is not None:
            activity.start_task()
        try:
            yield
        finally:
            if activity is not None:
                await activity.stop_task()

    # No OpenTelemetry: FastAPI's own would look up the global providers on every request, a
    # good part of what a page served from memory costs.
    app = SandboxApp(title=TITLE, description=DESCRIPTION, version="1.0", default_response_class=JSON,
                     docs_url=None, redoc_url=None, lifespan=lifespan,
                     telemetry={"tracing": False, "metrics": False, "logs": False})
    app.state.sandbox = sandbox
    app.state.leeloo = LeelooBackend(sandbox)
    app.state.neiros = NeirosBackend(sandbox)
    app.state.dialog = DialogBackend(sandbox)
    # The vendors' routes go into the app's own list of routes, not through include_router: FastAPI
    # matches an included router by walking its routes once to select it and again to find the
    # route, at each level of nesting, on every request (a fifth of a small read's time). Their
    # routers have nothing include_router would add: no prefix left to apply, no dependencies.
    # Neiros' and Dialog's come first: Leeloo's hot calls take the fast lane and never walk this
    # list, while theirs did walk Leeloo's 38 routes first (a seventh of a deal update's time).
    # The platforms' paths differ in their second segment, so the order changes no match.
    platforms = ((neiros_router,), (dialog_router,), LEELOO_ROUTERS)
    _check_apart(platforms)
    for routers in platforms:
        for platform_router in routers:
            if platform_router.dependencies:
                raise ValueError("a platform router with dependencies must be included with include_router")
            app.router.routes.extend(platform_router.routes)
    app.include_router(control.router)
    console.install(app)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return render_api_error(request.url.path, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        items = list(exc.errors())
        if not items:
            return render_api_error(request.url.path, ApiError(422, "Invalid request", field="request"))
        return render_api_error(request.url.path,
                                errors_from(items, skip=("query", "path", "body", "header")))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # Starlette's ServerErrorMiddleware sends this, then raises the exception again for the
        # front layer (guard.Front), which logs it and keeps the connection.
        error = ApiError(500, "Internal server error: the sandbox failed unexpectedly; nothing was changed")
        return render_api_error(request.url.path, error)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = "Not found" if exc.status_code == 404 else str(exc.detail)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette names only the first route's method; the path may serve several.
            headers["Allow"] = ", ".join(allowed_methods(app, request.scope))
        return render_api_error(request.url.path, ApiError(exc.status_code, message, headers=headers))

    def _openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(title=app.title, version=app.version, description=app.description,
                               routes=app.routes)
            schemas = spec.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(EXTRA_SCHEMAS)
            # Invalid input is answered in each API's own error style, not FastAPI's.
            if "HTTPValidationError" in schemas:
                schemas["HTTPValidationError"] = ERROR_SCHEMA
                schemas.pop("ValidationError", None)
            document_errors(spec)
            document_answers(spec)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = _openapi  # type: ignore[method-assign]

    @app.get("/", include_in_schema=False)
    async def _index() -> RedirectResponse:
        return RedirectResponse(console.PREFIX, status_code=307)

    lane = FastLane(app.fastapi_stack, sandbox, [router for routers in platforms for router in routers],
                    render_error=render_api_error)
    app.front = Front(lane, sandbox, render_error=render_api_error)
    return app


class SandboxApp(FastAPI):
    """The sandbox's FastAPI app behind its own ASGI layers: guard.Front (the guard, faults and
    request log: see guard.py), then hotpath.FastLane, which serves Leeloo's plain calls itself
    and hands everything else to FastAPI's own stack. In front of FastAPI's middleware rather than
    inside it, so that what the lane serves costs none of FastAPI's layers (a tenth of a page
    served from memory)."""

    front: ASGIApp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self  # as Starlette sets it, for the layers in front
        await self.front(scope, receive, send)

    async def fastapi_stack(self, scope: Scope, receive: Receive, send: Send) -> None:
        await FastAPI.__call__(self, scope, receive, send)


def allowed_methods(app: FastAPI, scope: Scope) -> list[str]:
    """Every method some route serves on the requested path (for a 405's Allow header)."""
    methods: set[str] = set()
    for route in app.router.routes:
        match, _ = route.matches({**scope, "method": "\x00"})
        if match != Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    return sorted(methods)


def render_api_error(path: str, exc: ApiError) -> JSON:
    body = error_body(api_of(path), exc.status_code, exc.message, exc.errors, codes=exc.codes, details=exc.details,
                      error_code=exc.error_code)
    return JSON(body, status_code=exc.status_code, headers=exc.headers)

"""Interactive API docs that work offline, and the security schemes that make "Authorize" work.

Swagger UI and ReDoc are served from the assets the ``fastapi-offline`` package ships
(Swagger UI 5, which reads OpenAPI 3.1 as FastAPI writes it, and ``redoc.standalone.js``),
so ``/docs`` and ``/redoc`` never reach for a CDN.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

ASSETS_URL = "/_sandbox/docs-assets"
# The docs pages may load nothing from elsewhere: ReDoc's bundle, for one, links its vendor's
# logo on a CDN; the browser skips it instead of waiting on a network that may not be there.
OFFLINE_POLICY = ("default-src 'self'; img-src 'self' data:; font-src 'self' data:; "
                  "style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; worker-src 'self' blob:; "
                  "connect-src 'self'")

# One entry per API: the paths it owns, its schemes, and the calls that need no auth (logins).
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "LeelooToken": {"type": "apiKey", "in": "header", "name": "X-Leeloo-AuthToken",
                    "description": "Leeloo auth token in the header (sandbox demo: demo-leeloo-token)"},
    "LeelooQueryToken": {"type": "apiKey", "in": "query", "name": "authToken",
                         "description": "The same Leeloo token as the authToken query parameter"},
    "NeirosBearer": {"type": "http", "scheme": "bearer",
                     "description": "Neiros token from POST /api/userapi/v1/auth/login (demo@neiros.local / demo)"},
    "DialogBearer": {"type": "http", "scheme": "bearer",
                     "description": "Dialog token from POST /api/login (demo / demo)"},
}


def security_of(path: str) -> list[dict[str, list[str]]] | None:
    """The security requirement of an operation on ``path`` (alternatives), None when it needs none."""
    if path.startswith(("/api/v1/", "/api/v2/")):
        return [{"LeelooToken": []}, {"LeelooQueryToken": []}]
    if path.startswith("/api/userapi/"):
        return None if path.endswith("/auth/login") else [{"NeirosBearer": []}]
    if path.startswith("/api/") and path != "/api/login":
        return [{"DialogBearer": []}]
    return None


def add_security(spec: dict[str, Any]) -> dict[str, Any]:
    """Declare each API's schemes and reference them from each of its operations."""
    spec.setdefault("components", {}).setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    for path, operations in spec.get("paths", {}).items():
        requirement = security_of(path)
        if requirement is None:
            continue
        for operation in operations.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["security"] = requirement
    return spec


def assets_dir() -> Path:
    return Path(str(files("fastapi_offline") / "static"))


def offline(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = OFFLINE_POLICY
    return page


def install(app: FastAPI) -> None:
    """``/docs`` and ``/redoc`` from packaged assets (the app is made with docs_url=None, redoc_url=None)."""
    app.mount(ASSETS_URL, StaticFiles(directory=assets_dir()), name="docs-assets")
    title = app.title

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return offline(get_swagger_ui_html(
            openapi_url="/openapi.json", title=f"{title} — Swagger UI",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js", swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
            swagger_ui_parameters={"persistAuthorization": True}))

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return offline(get_redoc_html(openapi_url="/openapi.json", title=f"{title} — ReDoc",
                                      redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
                                      redoc_favicon_url=f"{ASSETS_URL}/favicon.png", with_google_fonts=False))

"""Interactive API docs that work offline (the security schemes that make "Authorize" work are
declared with each operation's error answers, in ``sandbox/errordoc.py``).

Swagger UI and ReDoc are served from the assets the ``fastapi-offline`` package ships
(Swagger UI 5, which reads OpenAPI 3.1 as FastAPI writes it, and ``redoc.standalone.js``),
so ``/docs`` and ``/redoc`` never reach for a CDN.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

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

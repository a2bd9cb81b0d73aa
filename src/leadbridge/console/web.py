"""What both consoles share: the template environment, the static files and value formatting."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse, RedirectResponse
from starlette.staticfiles import StaticFiles

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"


def _when(value: datetime | str | None) -> str:
    """A UTC time as people read it: date and time to the second, with the zone named."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.strftime("%Y-%m-%d %H:%M:%S") + " UTC"


def _number(value: float | int | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}".replace(",", "\u202f")
    return f"{int(value):,}".replace(",", "\u202f")


def _percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f}\u202f%" if whole else "—"


def make_environment() -> Environment:
    environment = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(("html",)),
                              trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    environment.filters["when"] = _when
    environment.filters["number"] = _number
    environment.globals["percent"] = _percent
    environment.globals["query"] = lambda **params: urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return environment


ENVIRONMENT = make_environment()


def render(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(ENVIRONMENT.get_template(template).render(**context), status_code=status_code)


def back(url: str, *, notice: str | None = None, error: str | None = None) -> RedirectResponse:
    """Post/redirect/get: a form's answer is a redirect to the page showing its result."""
    params = {key: value for key, value in (("notice", notice), ("error", error)) if value}
    separator = "&" if "?" in url else "?"
    return RedirectResponse(url + (separator + urlencode(params) if params else ""), status_code=303)


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)

"""/docs and /redoc work with no network, and "Authorize" then "Try it out" works for each API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from console_support import screenshot
from playwright.sync_api import expect

from http_clients import TIMEOUT
from leadbridge.sandbox.seed import TENANTS
from leadbridge.sandbox.server import RunningSandbox, serve_in_thread
from leadbridge.sandbox.state import MEMORY_URL, Sandbox
from leadbridge.sdk import Dialog

DEMO = TENANTS[0]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with serve_in_thread(Sandbox(MEMORY_URL, seed=7, people=30)) as running:
        yield running


def offline(page: Any) -> list[str]:
    """Abort every request to a host other than the sandbox's loopback; returns the aborted URLs."""
    blocked: list[str] = []

    def route(request_route: Any) -> None:
        if urlsplit(request_route.request.url).hostname == "127.0.0.1":
            request_route.continue_()
        else:
            blocked.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    return blocked


def test_openapi_declares_each_apis_auth(sandbox: RunningSandbox) -> None:
    spec = httpx.get(sandbox.url + "/openapi.json", timeout=TIMEOUT).json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["LeelooToken"] == {**schemes["LeelooToken"], "type": "apiKey", "in": "header",
                                      "name": "X-Leeloo-AuthToken"}
    assert schemes["LeelooQueryToken"]["in"] == "query" and schemes["LeelooQueryToken"]["name"] == "authToken"
    assert schemes["NeirosBearer"]["scheme"] == schemes["DialogBearer"]["scheme"] == "bearer"
    paths = spec["paths"]
    assert paths["/api/v2/people"]["get"]["security"] == [{"LeelooToken": []}, {"LeelooQueryToken": []}]
    assert paths["/api/userapi/v1/sites"]["get"]["security"] == [{"NeirosBearer": []}]
    assert paths["/api/campaigns"]["post"]["security"] == [{"DialogBearer": []}]
    # Logins need no credentials: no requirement, or an explicitly empty one.
    assert not paths["/api/login"]["post"].get("security")
    assert not paths["/api/userapi/v1/auth/login"]["post"].get("security")
    assert "security" not in paths["/_sandbox/clock"]["get"]


def authorize(page: Any, scheme: str, value: str) -> None:
    section = page.locator(".auth-container", has_text=scheme)
    section.locator("input").first.fill(value)
    section.get_by_role("button", name="Apply credentials").click()
    expect(section.locator("button", has_text="Logout")).to_be_visible()


def try_it_out(page: Any, method: str, path: str, params: dict[str, str] | None = None) -> None:
    operation = page.locator(f".opblock-{method}", has=page.locator(f'.opblock-summary-path[data-path="{path}"]'))
    operation.locator(".opblock-summary").first.click()
    operation.get_by_role("button", name="Try it out").click()
    for name, value in (params or {}).items():
        operation.locator(f'tr[data-param-name="{name}"] input').fill(value)
    operation.get_by_role("button", name="Execute").click()
    expect(operation.locator(".live-responses-table tbody .response-col_status").first).to_have_text("200")


def test_swagger_ui_renders_offline_and_each_api_answers_after_authorize(sandbox: RunningSandbox,
                                                                        page: Any) -> None:
    creds = sandbox.credentials
    neiros_token = httpx.post(sandbox.url + "/api/userapi/v1/auth/login", json={"email": creds.neiros_email,
                              "password": creds.neiros_password}, timeout=TIMEOUT).json()["token"]
    dialog_token = httpx.post(sandbox.url + "/api/login", json={"login": creds.dialog_login,
                              "password": creds.dialog_password}, timeout=TIMEOUT).json()["token"]
    with Dialog(base_url=sandbox.url, login=creds.dialog_login, password=creds.dialog_password) as dialog:
        campaign_id = dialog.campaigns.create(DEMO.dialog_project_id, "Из Swagger UI", DEMO.dialog_start_block_id,
                                              DEMO.dialog_phone_id, ["+79990005555"], date.today() + timedelta(1),
                                              "09:00", "18:00", attempts=1, interval=30)
    blocked = offline(page)
    page.goto(sandbox.url + "/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("leadbridge sandbox", timeout=60_000)
    screenshot(page, "api-docs")
    page.get_by_role("button", name="Authorize").first.click()
    authorize(page, "LeelooToken", creds.leeloo_token)
    authorize(page, "NeirosBearer", neiros_token)
    authorize(page, "DialogBearer", dialog_token)
    page.locator(".auth-container button.btn-done").first.click()
    try_it_out(page, "get", "/api/v2/tags")
    try_it_out(page, "get", "/api/userapi/v1/sites")
    try_it_out(page, "get", "/api/campaigns/{campaign_id}", {"campaign_id": str(campaign_id)})
    assert blocked == []  # nothing even tried to leave the machine


def test_redoc_renders_offline(sandbox: RunningSandbox, page: Any) -> None:
    blocked = offline(page)
    page.goto(sandbox.url + "/redoc")
    expect(page.locator(".api-info h1")).to_contain_text("leadbridge sandbox", timeout=60_000)
    # Each operation names the schemes it accepts ("Authorizations: LeelooToken or LeelooQueryToken").
    expect(page.get_by_text("LeelooQueryToken").first).to_be_attached(timeout=60_000)
    assert blocked == []

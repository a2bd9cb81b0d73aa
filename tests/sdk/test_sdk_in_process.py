"""``http_client=``: the SDK sends through a caller's httpx client or transport, so a user's
tests can run the sandbox in-process (``httpx.ASGITransport``) instead of serving it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from http_clients import TIMEOUT
from leadbridge import AsyncLeeloo, AsyncNeiros, Leeloo
from leadbridge.sandbox.app import create_app
from leadbridge.sandbox.server import tenant_credentials
from leadbridge.sandbox.state import MEMORY_URL, Sandbox

PEOPLE = 30


@pytest.fixture(scope="module")
def app() -> Iterator[FastAPI]:
    sandbox = Sandbox(MEMORY_URL, seed=3, people=PEOPLE)
    yield create_app(sandbox)
    sandbox.close()


async def test_async_client_runs_the_sandbox_through_an_asgi_transport(app: FastAPI) -> None:
    creds = tenant_credentials()
    async with AsyncLeeloo(creds.leeloo_token, base_url="http://sandbox",
                           http_client=httpx.ASGITransport(app=app)) as leeloo:
        page = await leeloo.people.list(limit=5)
        assert len(page.items) == 5 and page.total >= PEOPLE
        person = await leeloo.people.get(page.items[0].id)
        assert person.id == page.items[0].id
    async with AsyncNeiros(email=creds.neiros_email, password=creds.neiros_password, base_url="http://sandbox",
                           http_client=httpx.ASGITransport(app=app)) as neiros:
        assert [site.id for site in await neiros.sites.list()]  # logged in over the same transport


def test_sync_client_sends_through_the_callers_client_and_leaves_it_open(app: FastAPI) -> None:
    creds = tenant_credentials()
    with TestClient(app) as http:  # starlette's in-process httpx.Client
        with Leeloo(creds.leeloo_token, http_client=http) as leeloo:
            tags = leeloo.tags.list()
        assert tags
        # The SDK did not close the caller's client, and added its headers only where it set none.
        assert http.get("/api/v2/tags", headers={"X-Leeloo-AuthToken": creds.leeloo_token}).status_code == 200
        assert http.headers["User-Agent"] != "leadbridge-sdk"


def test_callers_client_without_base_url_is_pointed_at_the_sdks(app: FastAPI) -> None:
    creds = tenant_credentials()
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=transport, timeout=TIMEOUT)
    leeloo = AsyncLeeloo(creds.leeloo_token, base_url="http://sandbox", http_client=client)
    assert str(client.base_url) == "http://sandbox" and client.headers["Accept"] == "application/json"
    assert leeloo.base_url == "http://sandbox"


async def test_sync_client_refuses_what_only_an_async_one_can_use() -> None:
    async with httpx.AsyncClient(timeout=TIMEOUT) as async_client:
        for given in (async_client, httpx.ASGITransport(app=FastAPI()), "x"):
            with pytest.raises(TypeError, match=r"http_client must be an httpx\.Client"):
                Leeloo("t", http_client=given)  # type: ignore[arg-type]


def test_async_client_refuses_a_sync_client() -> None:
    with httpx.Client(timeout=TIMEOUT) as sync_client, pytest.raises(TypeError, match=r"httpx\.AsyncClient"):
        AsyncLeeloo("t", http_client=sync_client)

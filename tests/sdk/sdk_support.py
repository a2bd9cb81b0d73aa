"""Helpers for running one SDK test body against the sync and the async client alike."""

from __future__ import annotations

import email.parser
import email.policy
import inspect
import json
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from leadbridge import AsyncDialog, AsyncLeeloo, AsyncNeiros, Dialog, Leeloo, Neiros
from leadbridge.sandbox.server import RunningSandbox

MODES = ["sync", "async"]

AnyClient = Leeloo | AsyncLeeloo | Neiros | AsyncNeiros | Dialog | AsyncDialog


async def resolve(value: Any) -> Any:
    """The call's result: awaited for an async client, as is for a sync one."""
    if inspect.isawaitable(value):
        return await value
    return value


async def collect(items: Iterable[Any] | AsyncIterator[Any]) -> list[Any]:
    """Every item of an ``iter*()`` result, sync or async."""
    if isinstance(items, AsyncIterator):
        return [item async for item in items]
    return list(items)


async def close(client: AnyClient) -> None:
    if isinstance(client, AsyncLeeloo | AsyncNeiros | AsyncDialog):
        await client.aclose()
    else:
        client.close()


def leeloo_client(mode: str, token: str, base_url: str, **options: Any) -> Leeloo | AsyncLeeloo:
    """A Leeloo client without the default rate limit (the sandbox and the stubs have none),
    unless the test gives one."""
    options.setdefault("rate_limit", None)
    return (AsyncLeeloo if mode == "async" else Leeloo)(token=token, base_url=base_url, **options)


def neiros_client(mode: str, base_url: str, **credentials: Any) -> Neiros | AsyncNeiros:
    return (AsyncNeiros if mode == "async" else Neiros)(base_url=base_url, **credentials)


def dialog_client(mode: str, base_url: str, **credentials: Any) -> Dialog | AsyncDialog:
    return (AsyncDialog if mode == "async" else Dialog)(base_url=base_url, **credentials)


def form_fields(request: httpx.Request) -> dict[str, str]:
    """The fields of a multipart/form-data request body."""
    content_type = request.headers["content-type"]
    assert content_type.startswith("multipart/form-data"), content_type
    raw = b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + request.content
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        assert isinstance(name, str)
        fields[name] = part.get_payload(decode=True).decode()
    return fields


def request_body(request: httpx.Request) -> tuple[str | None, Any]:
    """``("json", value)``, ``("form", fields)`` or ``(None, None)`` for a request without a body."""
    if not request.content:
        return None, None
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        return "json", json.loads(request.content)
    return "form", form_fields(request)


@contextmanager
def sandbox_control(running: RunningSandbox) -> Iterator[httpx.Client]:
    """The control API of ``running`` with its faults and request log cleared; afterwards its
    faults are cleared again and realistic mode is off."""
    with httpx.Client(base_url=running.url + "/_sandbox", timeout=30) as client:
        client.delete("/faults").raise_for_status()
        client.delete("/requests").raise_for_status()
        yield client
        client.delete("/faults").raise_for_status()
        client.post("/realistic", json={"enabled": False}).raise_for_status()


def control_fixture(sandbox_fixture: str) -> Any:
    """A ``control`` fixture: :func:`sandbox_control` of the sandbox the fixture named serves."""

    @pytest.fixture
    def control(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
        with sandbox_control(request.getfixturevalue(sandbox_fixture)) as client:
            yield client

    return control


def logged(control: httpx.Client, **filters: Any) -> list[dict[str, Any]]:
    """The sandbox's request log, filtered as ``GET /_sandbox/requests`` filters it."""
    entries: list[dict[str, Any]] = control.get("/requests", params={"limit": 100_000, **filters}).json()["data"]
    return entries

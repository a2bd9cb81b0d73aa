"""Helpers for running one SDK test body against the sync and the async client alike."""

from __future__ import annotations

import email.parser
import email.policy
import inspect
import json
from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpx

from leadbridge import AsyncDialog, AsyncLeeloo, AsyncNeiros, Dialog, Leeloo, Neiros

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

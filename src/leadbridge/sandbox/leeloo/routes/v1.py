"""Leeloo API v1: accounts (communication channels) with their person's tags, and chat history."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from leadbridge.contract.leeloo import DEFAULT_LIMIT
from leadbridge.sandbox.leeloo import backend
from leadbridge.sandbox.leeloo.routes._shared import (
    Company,
    Include,
    Limit,
    Offset,
    Tags,
    new_router,
    ok,
    page,
    parse_include,
    sandbox_of,
    split_tags,
)

router = new_router()


@router.get("/api/v1/accounts", summary="Accounts (v1), filter[tags]=a,b matches any tag")
async def list_accounts(request: Request, company: Company, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0,
                        tags: Tags = None) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    with sandbox.read() as session:
        items, total = backend.list_accounts_v1(sandbox, session, company, split_tags(tags), limit, offset)
    return page(items, limit, offset, total)


@router.get("/api/v1/accounts/{account_id}", summary="One account (v1), include=contactedUsers,orders")
async def get_account(request: Request, company: Company, account_id: str, include: Include = None) -> dict[str, Any]:
    wanted = parse_include(include, backend.PERSON_INCLUDES)
    with sandbox_of(request).read() as session:
        data, included = backend.account_v1(session, company, account_id, wanted)
    return ok(data, included=included)


@router.get("/api/v1/accounts/{account_id}/chat-messages", summary="Chat history of an account (v1), newest first")
async def chat_messages(request: Request, company: Company, account_id: str, limit: Limit = DEFAULT_LIMIT,
                        offset: Offset = 0) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    items, total = backend.chat_messages(sandbox, company, account_id, limit, offset, with_author=True)
    return page(items, limit, offset, total)

"""Leeloo API v1: accounts (communication channels) with their person's tags, and chat history."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from leadbridge.sandbox.leeloo.routes import api

router = api.new_router()


@api.route(router, "v1_accounts_list", summary="Accounts (v1), filter[tags]=a,b matches any tag")
async def list_accounts(request: Request, company: api.Company, limit: api.Limit = api.DEFAULT_LIMIT,
                        offset: api.Offset = 0, tags: api.Tags = None) -> dict[str, Any]:
    found = api.backend(request).list_accounts_v1(company, api.split_tags(tags), limit, offset)
    return api.page(found, limit, offset)


@api.route(router, "v1_accounts_get", summary="One account (v1), include=contactedUsers,orders")
async def get_account(request: Request, company: api.Company, account_id: str,
                      include: api.Include = None) -> dict[str, Any]:
    data, included = api.backend(request).account_v1(company, account_id, api.person_includes(include))
    return api.ok(data, included=included)


@api.route(router, "v1_accounts_chat_messages", summary="Chat history of an account (v1), newest first")
async def chat_messages(request: Request, company: api.Company, account_id: str, limit: api.Limit = api.DEFAULT_LIMIT,
                        offset: api.Offset = 0) -> dict[str, Any]:
    found = api.backend(request).chat_messages(company, account_id, limit, offset, with_author=True)
    return api.page(found, limit, offset)

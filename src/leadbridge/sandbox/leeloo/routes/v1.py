"""Leeloo API v1: accounts (communication channels) with their person's tags, and chat history."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from leadbridge.sandbox.leeloo.routes import api

router = api.new_router()


@api.route(router, "v1_accounts_list", summary="Accounts (v1), filter[tags]=a,b matches any tag")
async def list_accounts(request: Request, company: api.Company, page: api.Page,
                        tags: api.Tags = None) -> dict[str, Any]:
    return api.page(api.backend(request).list_accounts_v1(company, api.split_tags(tags), *page), page)


@api.route(router, "v1_accounts_get", summary="One account (v1), include=contactedUsers,orders")
async def get_account(request: Request, company: api.Company, account_id: str,
                      include: api.PersonIncludes) -> dict[str, Any]:
    data, included = api.backend(request).account_v1(company, account_id, include)
    return api.ok(data, included=included)


@api.route(router, "v1_accounts_chat_messages", summary="Chat history of an account (v1), newest first")
async def chat_messages(request: Request, company: api.Company, account_id: str, page: api.Page) -> dict[str, Any]:
    return api.page(api.backend(request).chat_messages(company, account_id, *page, with_author=True), page)

"""Leeloo v2 platform catalogue (tags, users, connections) and calls."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from leadbridge.sandbox.leeloo import bodies
from leadbridge.sandbox.leeloo.routes import api
from leadbridge.sandbox.wire import parse_body

router = api.new_router()


@api.route(router, "calls_create", summary="Add a call to a communication channel (form-data, all fields required)",
           openapi_extra=api.body(bodies.CreateCall, "create_call"))
async def create_call(request: Request, company: api.Company) -> dict[str, Any]:
    return api.ok(api.backend(request).create_call(company, await parse_body(request, bodies.CreateCall)))


@api.route(router, "tags_list", summary="Tags")
async def list_tags(request: Request, company: api.Company) -> dict[str, Any]:
    return api.ok(api.backend(request).list_tags(company))


@api.route(router, "users_list", summary="Platform users")
async def list_users(request: Request, company: api.Company, page: api.Page) -> dict[str, Any]:
    return api.page(api.backend(request).list_users(company, *page), page)


@api.route(router, "users_get", summary="One platform user")
async def get_user(request: Request, company: api.Company, user_id: str) -> dict[str, Any]:
    return api.ok(api.backend(request).get_user(company, user_id))


@api.route(router, "connections_list", summary="Connections (channels the company's bots talk through)")
async def list_connections(request: Request, company: api.Company) -> dict[str, Any]:
    return api.ok({"connections": api.backend(request).list_connections(company)})

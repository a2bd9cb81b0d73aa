"""Leeloo v2 platform catalogue (tags, users, connections) and calls."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from leadbridge.sandbox.leeloo import bodies
from leadbridge.sandbox.leeloo.backend import LeelooBackend
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


api.list_route(router, "users_list", LeelooBackend.list_users, summary="Platform users")
api.get_route(router, "users_get", LeelooBackend.get_user, summary="One platform user")


@api.route(router, "connections_list", summary="Connections (channels the company's bots talk through)")
async def list_connections(request: Request, company: api.Company) -> dict[str, Any]:
    return api.ok({"connections": api.backend(request).list_connections(company)})

"""Leeloo v2 platform catalogue (tags, users, connections) and calls."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from leadbridge.sandbox.leeloo import bodies
from leadbridge.sandbox.leeloo.routes import api
from leadbridge.sandbox.wire import parse_body

router = api.new_router()


@router.post("/api/v2/calls", summary="Add a call to a communication channel (form-data, all fields required)",
             openapi_extra=api.body(bodies.CreateCall, "create_call"))
async def create_call(request: Request, company: api.Company) -> dict[str, Any]:
    body = await parse_body(request, bodies.CreateCall)
    return api.ok(api.backend(request).create_call(company, body))


@router.get("/api/v2/tags", summary="Tags")
async def list_tags(request: Request, company: api.Company) -> dict[str, Any]:
    return api.ok(api.backend(request).list_tags(company))


@router.get("/api/v2/users", summary="Platform users")
async def list_users(request: Request, company: api.Company, page: api.Page) -> dict[str, Any]:
    return api.page(api.backend(request).list_users(company, *page), page)


@router.get("/api/v2/users/{user_id}", summary="One platform user")
async def get_user(request: Request, company: api.Company, user_id: str) -> dict[str, Any]:
    return api.ok(api.backend(request).get_user(company, user_id))


@router.get("/api/v2/connections", summary="Connections (channels the company's bots talk through)")
async def list_connections(request: Request, company: api.Company) -> dict[str, Any]:
    return api.ok({"connections": api.backend(request).list_connections(company)})

"""Leeloo v2 platform catalogue (tags, users, connections) and calls."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from leadbridge.contract.leeloo import DEFAULT_LIMIT
from leadbridge.sandbox.common import body_doc
from leadbridge.sandbox.leeloo import backend, bodies
from leadbridge.sandbox.leeloo.routes._shared import Company, Limit, Offset, new_router, ok, page, sandbox_of, write

router = new_router()


@router.post("/api/v2/calls", summary="Add a call to a communication channel (form-data, all fields required)",
             openapi_extra=body_doc(bodies.CreateCall, form=True, example=bodies.EXAMPLES["create_call"]))
async def create_call(request: Request, company: Company) -> dict[str, Any]:
    return ok(await write(request, company, bodies.CreateCall,
                          lambda sb, session, body: backend.create_call(session, company, body, sb.now())))


@router.get("/api/v2/tags", summary="Tags")
async def list_tags(request: Request, company: Company) -> dict[str, Any]:
    with sandbox_of(request).read() as session:
        return ok(backend.list_tags(session, company))


@router.get("/api/v2/users", summary="Platform users")
async def list_users(request: Request, company: Company, limit: Limit = DEFAULT_LIMIT,
                     offset: Offset = 0) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    with sandbox.read() as session:
        items, total = backend.list_users(sandbox, session, company, limit, offset)
    return page(items, limit, offset, total)


@router.get("/api/v2/users/{user_id}", summary="One platform user")
async def get_user(request: Request, company: Company, user_id: str) -> dict[str, Any]:
    with sandbox_of(request).read() as session:
        return ok(backend.get_user(session, company, user_id))


@router.get("/api/v2/connections", summary="Connections (channels the company's bots talk through)")
async def list_connections(request: Request, company: Company) -> dict[str, Any]:
    with sandbox_of(request).read() as session:
        return ok({"connections": backend.list_connections(session, company)})

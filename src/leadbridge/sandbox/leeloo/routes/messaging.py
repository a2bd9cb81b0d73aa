"""Leeloo v2 conversations: message templates, sending, communication channels and their chats."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from leadbridge.contract.leeloo import DEFAULT_LIMIT
from leadbridge.sandbox.common import body_doc, parse_body
from leadbridge.sandbox.leeloo import backend, bodies
from leadbridge.sandbox.leeloo.routes._shared import (
    Company,
    Include,
    LastMessageFrom,
    LastMessageTo,
    Limit,
    Offset,
    date_range,
    new_router,
    ok,
    page,
    parse_include,
    sandbox_of,
    write,
)

router = new_router()


@router.get("/api/v2/categories/templates", summary="Message template categories")
async def template_categories(request: Request, company: Company) -> dict[str, Any]:
    with sandbox_of(request).read() as session:
        return ok({"categories": backend.list_template_categories(session, company)})


@router.get("/api/v2/categories/templates/{category_id}", summary="Message templates of a category")
async def templates(request: Request, company: Company, category_id: str) -> dict[str, Any]:
    with sandbox_of(request).read() as session:
        return ok({"templates": backend.list_templates(session, company, category_id)})


@router.post("/api/v2/messages/send-template", summary="Send a message template to a communication channel",
             description="{name} placeholders in the template text are replaced by `variables`; the message "
                         "appears first in the channel's chat as YOUR_MESSAGE.",
             openapi_extra=body_doc(bodies.SendTemplate, form=True, example=bodies.EXAMPLES["send_template"]))
async def send_template(request: Request, company: Company) -> dict[str, Any]:
    def change(sb: Any, session: Any, body: bodies.SendTemplate) -> None:
        text = backend.render_template(session, company, body.template_id, body.variables)
        backend.append_message(session, company, body.account_id, text, "YOUR_MESSAGE", sb.now(),
                              created_by=backend.api_user(sb, session, company), template_id=body.template_id,
                              field="account_id")

    await write(request, company, bodies.SendTemplate, change)
    return ok({})


@router.post("/api/v2/messages/send-message", summary="Send a text message to a communication channel",
             openapi_extra=body_doc(bodies.SendMessage, form=True, example=bodies.EXAMPLES["send_message"]))
async def send_message(request: Request, company: Company) -> dict[str, Any]:
    body = await parse_body(request, bodies.SendMessage)
    sandbox = sandbox_of(request)
    with sandbox.raw_write(company) as transaction:
        backend.append_message(transaction, company, body.account_id, body.text, "YOUR_MESSAGE", sandbox.now(),
                              created_by=backend.api_user(sandbox, transaction, company), field="account_id")
    return ok({})


@router.get("/api/v2/communication-channels", summary="Communication channels (with UTM marks), latest first")
async def list_channels(
    request: Request,
    company: Company,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
    last_message_from: LastMessageFrom = None,
    last_message_to: LastMessageTo = None,
) -> dict[str, Any]:
    lower, upper = date_range(last_message_from, last_message_to)
    sandbox = sandbox_of(request)
    with sandbox.read() as session:
        items, total = backend.list_channels(sandbox, session, company, lower, upper, limit, offset)
    return page(items, limit, offset, total)


@router.get("/api/v2/communication-channels/{person_id}/chat-messages",
            summary="Chat history of a communication channel, newest first",
            description="The document names the parameter person_id but means the communication channel "
                        "(account) id.")
async def chat_messages(request: Request, company: Company, person_id: str, limit: Limit = DEFAULT_LIMIT,
                        offset: Offset = 0) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    items, total = backend.chat_messages(sandbox, company, person_id, limit, offset, with_author=False)
    return page(items, limit, offset, total)


@router.get("/api/v2/communication-channels/{account_id}/person",
            summary="The person behind a communication channel (include=contactedUsers,orders)")
async def channel_person(request: Request, company: Company, account_id: str,
                         include: Include = None) -> dict[str, Any]:
    wanted = parse_include(include, backend.PERSON_INCLUDES)
    with sandbox_of(request).read() as session:
        data, included = backend.person_of_account(session, company, account_id, wanted)
    return ok(data, included=included)


@router.post("/api/v2/communication-channels/{account_id}/manual-subscribe",
             summary="Subscribe a communication channel to a tunnel block",
             description="Adds an entry to the person's subscribeHistory (through the tunnel's first traffic "
                         "source) and sends the block's text as a BOT_MESSAGE. Block ids are listed by "
                         "GET /api/v2/tunnels/{id}?include=blocks (a sandbox extension).",
             openapi_extra=body_doc(bodies.ManualSubscribe, form=True, example=bodies.EXAMPLES["manual_subscribe"]))
async def manual_subscribe(request: Request, company: Company, account_id: str) -> dict[str, Any]:
    await write(request, company, bodies.ManualSubscribe,
                lambda sb, session, body: backend.manual_subscribe(session, company, account_id, body, sb.now()))
    return ok({})

"""Leeloo v2 conversations: message templates, sending, communication channels and their chats."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from leadbridge.sandbox.leeloo import bodies
from leadbridge.sandbox.leeloo.routes import api
from leadbridge.sandbox.wire import parse_body

router = api.new_router()


@api.route(router, "template_categories_list", summary="Message template categories")
async def template_categories(request: Request, company: api.Company) -> dict[str, Any]:
    return api.ok({"categories": api.backend(request).list_template_categories(company)})


@api.route(router, "category_templates_list", summary="Message templates of a category")
async def templates(request: Request, company: api.Company, category_id: str) -> dict[str, Any]:
    return api.ok({"templates": api.backend(request).list_templates(company, category_id)})


@api.route(router, "messages_send_template", summary="Send a message template to a communication channel",
           description="{name} placeholders in the template text are replaced by `variables`; the message "
                       "appears first in the channel's chat as YOUR_MESSAGE.",
           openapi_extra=api.body(bodies.SendTemplate, "send_template"))
async def send_template(request: Request, company: api.Company) -> dict[str, Any]:
    api.backend(request).send_template(company, await parse_body(request, bodies.SendTemplate))
    return api.ok({})


@api.route(router, "messages_send_message", summary="Send a text message to a communication channel",
           openapi_extra=api.body(bodies.SendMessage, "send_message"))
async def send_message(request: Request, company: api.Company) -> dict[str, Any]:
    api.backend(request).send_message(company, await parse_body(request, bodies.SendMessage))
    return api.ok({})


@api.route(router, "communication_channels_list", summary="Communication channels (with UTM marks), latest first")
async def list_channels(request: Request, company: api.Company, limit: api.Limit = api.DEFAULT_LIMIT,
                        offset: api.Offset = 0, last_message_from: api.LastMessageFrom = None,
                        last_message_to: api.LastMessageTo = None) -> dict[str, Any]:
    window = api.date_range(last_message_from, last_message_to)
    return api.page(api.backend(request).list_channels(company, *window, limit, offset), limit, offset)


@api.route(router, "chat_messages_list",
           summary="Chat history of a communication channel, newest first",
           description="The document names the parameter person_id but means the communication channel "
                       "(account) id.")
async def chat_messages(request: Request, company: api.Company, person_id: str, limit: api.Limit = api.DEFAULT_LIMIT,
                        offset: api.Offset = 0) -> dict[str, Any]:
    found = api.backend(request).chat_messages(company, person_id, limit, offset, with_author=False)
    return api.page(found, limit, offset)


@api.route(router, "communication_channel_person",
           summary="The person behind a communication channel (include=contactedUsers,orders)")
async def channel_person(request: Request, company: api.Company, account_id: str,
                         include: api.Include = None) -> dict[str, Any]:
    data, included = api.backend(request).person_of_account(company, account_id, api.person_includes(include))
    return api.ok(data, included=included)


@api.route(router, "communication_channels_manual_subscribe",
           summary="Subscribe a communication channel to a tunnel block",
           description="Adds an entry to the person's subscribeHistory (through the tunnel's first traffic "
                       "source) and sends the block's text as a BOT_MESSAGE. Block ids are listed by "
                       "GET /api/v2/tunnels/{id}?include=blocks (a sandbox extension).",
           openapi_extra=api.body(bodies.ManualSubscribe, "manual_subscribe"))
async def manual_subscribe(request: Request, company: api.Company, account_id: str) -> dict[str, Any]:
    api.backend(request).manual_subscribe(company, account_id, await parse_body(request, bodies.ManualSubscribe))
    return api.ok({})

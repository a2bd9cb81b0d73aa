"""Leeloo v2 people: list, card, create (by hand or for SMS), update, comments and tags."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request

from leadbridge.sandbox.leeloo import bodies
from leadbridge.sandbox.leeloo.backend.people import PeopleFilter
from leadbridge.sandbox.leeloo.routes import api
from leadbridge.sandbox.wire import parse_body

router = api.new_router()


@api.route(router, "people_list", summary="People list (filters by tags, last message, phone, email)")
async def list_people(
    request: Request,
    company: api.Company,
    limit: api.Limit = api.DEFAULT_LIMIT,
    offset: api.Offset = 0,
    last_message_from: api.LastMessageFrom = None,
    last_message_to: api.LastMessageTo = None,
    tags: api.Tags = None,
    phone: Annotated[str | None, Query(alias="filter[phone]")] = None,
    email: Annotated[str | None, Query(alias="filter[email]")] = None,
) -> dict[str, Any]:
    window = api.date_range(last_message_from, last_message_to)
    flt = PeopleFilter(
        tags=api.split_tags(tags),
        last_message_from=window[0],
        last_message_to=window[1],
        # "+" in a query string decodes to a space: the document's own example sends +380… unescaped.
        phone=("+" + phone.strip()) if phone and phone.startswith(" ") else phone,
        email=email,
    )
    return api.page(api.backend(request).list_people(company, flt, limit, offset), limit, offset)


@api.route(router, "people_sms", summary="Add people reachable by SMS (an SMS account each)",
           description="Each entry gets an SMS account on the given connection: on the person with that "
                       "phone if there is one, else on a new person. Every account is subscribed through the "
                       "leadgentool and the person gets the tags (ids).",
           openapi_extra=api.body(bodies.PeopleSms, "people_sms"))
async def people_sms(request: Request, company: api.Company) -> dict[str, Any]:
    body = await parse_body(request, bodies.PeopleSms)
    return api.ok({"count_to_process": api.backend(request).people_sms(company, body)})


@api.route(router, "people_create", summary="Add a person (a MANUAL account subscribed through a leadgentool)",
           openapi_extra=api.body(bodies.CreatePerson, "create_person"))
async def create_person(request: Request, company: api.Company) -> dict[str, Any]:
    return api.ok(api.backend(request).create_person(company, await parse_body(request, bodies.CreatePerson)))


@api.route(router, "people_get", summary="A person's card (include=contactedUsers,orders)")
async def get_person(request: Request, company: api.Company, person_id: str,
                     include: api.Include = None) -> dict[str, Any]:
    data, included = api.backend(request).person_view(company, person_id, api.person_includes(include))
    return api.ok(data, included=included)


@api.route(router, "people_update", summary="Update a person's phone, email and custom fields",
           description="Answers with the updated card (the document shows no response).",
           openapi_extra=api.body(bodies.UpdatePerson, "update_person"))
async def update_person(request: Request, company: api.Company, person_id: str) -> dict[str, Any]:
    body = await parse_body(request, bodies.UpdatePerson)
    return api.ok(api.backend(request).update_person(company, person_id, body), included={})


@api.route(router, "people_add_comment", summary="Comment on a person",
           openapi_extra=api.body(bodies.AddComment, "add_comment"))
async def add_comment(request: Request, company: api.Company, person_id: str) -> dict[str, Any]:
    body = await parse_body(request, bodies.AddComment)
    return api.ok(api.backend(request).add_comment(company, person_id, body.comment))


@api.route(router, "people_add_tag", summary="Tag a person (idempotent)",
           openapi_extra=api.body(bodies.TagRef, "tag"))
async def add_tag(request: Request, company: api.Company, person_id: str) -> dict[str, Any]:
    return await change_tag(request, company, person_id, add=True)


@api.route(router, "people_remove_tag", summary="Untag a person (idempotent)",
           openapi_extra=api.body(bodies.TagRef, "tag"))
async def remove_tag(request: Request, company: api.Company, person_id: str) -> dict[str, Any]:
    return await change_tag(request, company, person_id, add=False)


async def change_tag(request: Request, company: str, person_id: str, *, add: bool) -> dict[str, Any]:
    body = await parse_body(request, bodies.TagRef)
    api.backend(request).change_tag(company, person_id, body.tag_id, add=add)
    return api.ok({})

"""Leeloo v2 people: list, card, create (by hand or for SMS), update, comments and tags."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request

from leadbridge.contract.leeloo import DEFAULT_LIMIT
from leadbridge.sandbox.common import body_doc
from leadbridge.sandbox.leeloo import backend, bodies
from leadbridge.sandbox.leeloo.routes._shared import (
    Company,
    Include,
    LastMessageFrom,
    LastMessageTo,
    Limit,
    Offset,
    Tags,
    date_range,
    new_router,
    ok,
    page,
    parse_include,
    sandbox_of,
    split_tags,
    write,
)

router = new_router()


@router.get("/api/v2/people", summary="People list (filters by tags, last message, phone, email)")
async def list_people(
    request: Request,
    company: Company,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
    tags: Tags = None,
    last_message_from: LastMessageFrom = None,
    last_message_to: LastMessageTo = None,
    phone: Annotated[str | None, Query(alias="filter[phone]")] = None,
    email: Annotated[str | None, Query(alias="filter[email]")] = None,
) -> dict[str, Any]:
    lower, upper = date_range(last_message_from, last_message_to)
    flt = backend.PeopleFilter(
        tags=split_tags(tags),
        last_message_from=lower,
        last_message_to=upper,
        # "+" in a query string decodes to a space: the document's own example sends +380… unescaped.
        phone=("+" + phone.strip()) if phone and phone.startswith(" ") else phone,
        email=email,
    )
    sandbox = sandbox_of(request)
    items, total = backend.list_people(sandbox, company, flt, limit, offset)
    return page(items, limit, offset, total)


@router.post("/api/v2/people/sms", summary="Add people reachable by SMS (an SMS account each)",
             description="Each entry gets an SMS account on the given connection: on the person with that "
                         "phone if there is one, else on a new person. Every account is subscribed through the "
                         "leadgentool and the person gets the tags (ids).",
             openapi_extra=body_doc(bodies.PeopleSms, form=True, example=bodies.EXAMPLES["people_sms"]))
async def people_sms(request: Request, company: Company) -> dict[str, Any]:
    created = await write(request, company, bodies.PeopleSms,
                          lambda sb, session, body: backend.people_sms(session, company, body, sb.now()))
    return ok({"count_to_process": created})


@router.post("/api/v2/people", summary="Add a person (a MANUAL account subscribed through a leadgentool)",
             openapi_extra=body_doc(bodies.CreatePerson, form=True, example=bodies.EXAMPLES["create_person"]))
async def create_person(request: Request, company: Company) -> dict[str, Any]:
    return ok(await write(request, company, bodies.CreatePerson,
                          lambda sb, session, body: backend.create_person(session, company, body, sb.now())))


@router.get("/api/v2/people/{person_id}", summary="A person's card (include=contactedUsers,orders)")
async def get_person(request: Request, company: Company, person_id: str, include: Include = None) -> dict[str, Any]:
    wanted = parse_include(include, backend.PERSON_INCLUDES)
    with sandbox_of(request).read() as session:
        data, included = backend.person_view(session, company, person_id, wanted)
    return ok(data, included=included)


@router.put("/api/v2/people/{person_id}", summary="Update a person's phone, email and custom fields",
            description="Answers with the updated card (the document shows no response).",
            openapi_extra=body_doc(bodies.UpdatePerson, form=True, example=bodies.EXAMPLES["update_person"]))
async def update_person(request: Request, company: Company, person_id: str) -> dict[str, Any]:
    def change(sb: Any, session: Any, body: bodies.UpdatePerson) -> dict[str, Any]:
        backend.update_person(session, company, person_id, body, sb.now())
        return backend.person_view(session, company, person_id)[0]

    return ok(await write(request, company, bodies.UpdatePerson, change), included={})


@router.put("/api/v2/people/{person_id}/add-comment", summary="Comment on a person",
            openapi_extra=body_doc(bodies.AddComment, form=True, example=bodies.EXAMPLES["add_comment"]))
async def add_comment(request: Request, company: Company, person_id: str) -> dict[str, Any]:
    return ok(await write(
        request, company, bodies.AddComment,
        lambda sb, session, body: backend.add_comment(session, company, person_id, body.comment,
                                                     backend.api_user(sb, session, company), sb.now()),
    ))


@router.put("/api/v2/people/{person_id}/add-tag", summary="Tag a person (idempotent)",
            openapi_extra=body_doc(bodies.TagRef, form=True, example=bodies.EXAMPLES["tag"]))
async def add_tag(request: Request, company: Company, person_id: str) -> dict[str, Any]:
    await write(request, company, bodies.TagRef,
                lambda sb, session, body: backend.change_tag(session, company, person_id, body.tag_id, add=True,
                                                            now=sb.now()))
    return ok({})


@router.put("/api/v2/people/{person_id}/remove-tag", summary="Untag a person (idempotent)",
            openapi_extra=body_doc(bodies.TagRef, form=True, example=bodies.EXAMPLES["tag"]))
async def remove_tag(request: Request, company: Company, person_id: str) -> dict[str, Any]:
    await write(request, company, bodies.TagRef,
                lambda sb, session, body: backend.change_tag(session, company, person_id, body.tag_id, add=False,
                                                            now=sb.now()))
    return ok({})

"""The sandbox's world in a browser, under ``/_sandbox/ui``: tenants, clock, faults, people and
their chats, tags and templates, Dialog campaigns, Neiros deals, a live request log and the
webhooks (settings and delivery log).

Every page reads the sandbox's database directly (the console is part of the sandbox, like the
control API) with bounded queries: a page is at most one screen of rows, so it stays fast at
100k people. Every form posts to a route here that changes the world through the same functions
the control API uses, then redirects back to the page it came from.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Form, Path, Query, Request
from sqlalchemy import case, func, select
from starlette.responses import HTMLResponse, Response, StreamingResponse

from leadbridge.console.web import back, render
from leadbridge.contract.sandbox import TOKEN_HEADER
from leadbridge.sandbox import control, search, world
from leadbridge.sandbox import schema as s
from leadbridge.sandbox.cache import GLOBAL
from leadbridge.sandbox.control import _decode, _fault_dict
from leadbridge.sandbox.dependencies import sandbox_of
from leadbridge.sandbox.dialog import backend as dialog_backend
from leadbridge.sandbox.leeloo.backend import LeelooBackend
from leadbridge.sandbox.leeloo.backend.core import count
from leadbridge.sandbox.state import Fault, LoggedRequest, Sandbox
from leadbridge.sandbox.wire import JSON, ApiError, is_oid

PREFIX = "/_sandbox/ui"
TENANT_COOKIE = "leadbridge_tenant"
PEOPLE_PAGE = 25
NUMBERS_PAGE = 100
CHAT_LIMIT = 500
QUERY_MAX = 200
LOG_PAGE = 200
# A live log stream ends after this long; the browser's EventSource reconnects with Last-Event-ID.
STREAM_SECONDS = 300.0
STREAM_POLL_SECONDS = 0.5
MESSAGE_LABELS = {"FRIEND_MESSAGE": "человек", "BOT_MESSAGE": "бот", "YOUR_MESSAGE": "менеджер",
                  "SYSTEM_MESSAGE": "система"}
# CSS classes of Dialog's campaign states (Dialog names them in Russian).
CAMPAIGN_STATE_CLASSES = {dialog_backend.STATE_CREATED: "pending", dialog_backend.STATE_RUNNING: "running",
                          dialog_backend.STATE_FINISHED: "finished"}
OUTCOME_LABELS = {"answered": "ответил", "no_answer": "не ответил", "busy": "занято", "voicemail": "автоответчик",
                  "failed": "сбой"}


async def console_access(request: Request) -> None:
    """The console's protection: the control API's (open on loopback; beyond it, the control
    token). A browser cannot set a header on a link, so the console also takes the token as
    the ``sandbox_token`` cookie or a ``token`` query parameter (the request log redacts both)."""
    token = (request.headers.get(TOKEN_HEADER) or request.cookies.get("sandbox_token")
             or request.query_params.get("token"))
    await control.control_access(request, token)


router = APIRouter(prefix=PREFIX, include_in_schema=False, dependencies=[Depends(console_access)])


# --- helpers -----------------------------------------------------------------------------


def companies(sandbox: Sandbox) -> list[Any]:
    cache = sandbox.cache(GLOBAL)
    cached = cache.get("companies")
    if cached is None:
        with sandbox.read() as session:
            cached = session.execute(select(s.Company.id, s.Company.name).order_by(s.Company.name)).all()
        cache.put("companies", cached, values_of=("company",))
    return list(cached)


def tenant_of(request: Request) -> tuple[str, str]:
    """(company id, name) chosen in the tenant switch (a cookie), the demo company by default."""
    chosen = request.cookies.get(TENANT_COOKIE, world.DEFAULT_COMPANY)
    known = {row[0]: row[1] for row in companies(sandbox_of(request))}
    if chosen not in known:
        chosen = world.DEFAULT_COMPANY if world.DEFAULT_COMPANY in known else next(iter(known), "")
    return chosen, known.get(chosen, "")


def page(request: Request, template: str, section: str, **context: Any) -> HTMLResponse:
    sandbox = sandbox_of(request)
    company_id, company_name = tenant_of(request)
    return render(template, prefix=PREFIX, section=section, state_classes=CAMPAIGN_STATE_CLASSES,
                  company_id=company_id, company_name=company_name,
                  companies=companies(sandbox), clock=sandbox.now(), notice=request.query_params.get("notice"),
                  error=request.query_params.get("error"), **context)


def form_error(url: str, exc: ApiError) -> Response:
    return back(url, error=exc.message)


# --- overview ----------------------------------------------------------------------------


def tenant_counts(sandbox: Sandbox, company_id: str) -> dict[str, int]:
    """Each tenant's sizes; memoised until the company's next write (see leeloo.backend.core.count)."""
    tables: dict[str, Any] = {"people": s.Person, "accounts": s.Account, "messages": s.Message,
                              "orders": s.Order, "tags": s.Tag, "campaigns": s.Campaign, "deals": s.Deal}
    return {name: count(sandbox, company_id, ("ui", name), select(table.id).where(table.company_id == company_id),
                        rows_of=(table.__tablename__,))
            for name, table in tables.items()}


@router.get("")
async def overview(request: Request) -> HTMLResponse:
    sandbox = sandbox_of(request)
    tenants = [{"id": cid, "name": name, **tenant_counts(sandbox, cid)} for cid, name in companies(sandbox)]
    return page(request, "sandbox/overview.html", "overview", tenants=tenants,
                faults=[_fault_dict(f) for f in sandbox.faults], offset=sandbox.clock_offset.total_seconds(),
                requests_logged=sandbox.request_counter)


@router.post("/tenant")
async def choose_tenant(request: Request, company_id: Annotated[str, Form(max_length=24)]) -> Response:
    response = back(request.headers.get("referer") or PREFIX)
    if any(row[0] == company_id for row in companies(sandbox_of(request))):
        response.set_cookie(TENANT_COOKIE, company_id, httponly=True, samesite="strict", path=PREFIX)
    return response


@router.post("/clock")
async def move_clock(request: Request, seconds: Annotated[float, Form(ge=0, le=10 * 365 * 86400)]) -> Response:
    sandbox = sandbox_of(request)
    now = sandbox.advance_clock(seconds)
    if sandbox.activity is not None:
        sandbox.activity.run_until(now)  # the events of the skipped time, as clock/advance makes them
    return back(request.headers.get("referer") or PREFIX, notice=f"Часы песочницы: {now:%Y-%m-%d %H:%M:%S} UTC")


@router.post("/faults")
async def add_fault(
    request: Request,
    pattern: Annotated[str, Form(max_length=500)] = ".*",
    error_rate: Annotated[float, Form(ge=0, le=1)] = 0,
    error_status: Annotated[int, Form(ge=500, le=599)] = 503,
    rate_limit_rate: Annotated[float, Form(ge=0, le=1)] = 0,
    latency_ms: Annotated[float, Form(ge=0, le=60_000)] = 0,
) -> Response:
    import re

    try:
        fault = Fault(pattern=pattern or ".*", error_rate=error_rate, error_status=error_status,
                      rate_limit_rate=rate_limit_rate, latency_ms=latency_ms)
    except re.error as exc:
        return back(PREFIX, error=f"Шаблон пути — не регулярное выражение: {exc}")
    sandbox_of(request).add_fault(fault)
    return back(PREFIX, notice=f"Сбой добавлен для путей {fault.pattern}")


@router.post("/faults/clear")
async def clear_faults(request: Request) -> Response:
    sandbox_of(request).clear_faults()
    return back(PREFIX, notice="Все сбои сняты")


# --- people ------------------------------------------------------------------------------


def _tags(sandbox: Sandbox, company_id: str) -> list[dict[str, Any]]:
    """The company's tags with how many people carry each; memoised until the company's next write."""
    cache = sandbox.cache(company_id)
    cached = cache.get("ui-tags")
    if cached is None:
        cached = cache.put("ui-tags", world.tags(sandbox, company_id), values_of=("leeloo_tag", "leeloo_person_tag"))
    return list(cached)


@router.get("/people")
async def people(
    request: Request,
    q: Annotated[str, Query(max_length=QUERY_MAX)] = "",
    tag: Annotated[str, Query(max_length=24)] = "",
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    sandbox = sandbox_of(request)
    company_id, _ = tenant_of(request)
    text = q.strip()
    query = select(s.Person.id, s.Person.name, s.Person.phone, s.Person.email, s.Person.last_message_time).where(
        s.Person.company_id == company_id)
    if tag and is_oid(tag):
        query = query.where(s.Person.id.in_(select(s.PersonTag.person_id).where(s.PersonTag.tag_id == tag)))
    # One row more than a page tells whether a next page exists without counting every match.
    with sandbox.read() as session:
        if text:
            query = query.where(search.condition(session, company_id, text))
        rows = session.execute(query.order_by(s.Person.id.desc()).limit(PEOPLE_PAGE + 1)
                               .offset((page_number - 1) * PEOPLE_PAGE)).all()
        shown = rows[:PEOPLE_PAGE]
        ids = [row.id for row in shown]
        tag_rows = session.execute(select(s.PersonTag.person_id, s.Tag.name).join(s.Tag, s.Tag.id == s.PersonTag.tag_id)
                                   .where(s.PersonTag.person_id.in_(ids))).all() if ids else []
    tags_of: dict[str, list[str]] = {}
    for person_id, name in tag_rows:
        tags_of.setdefault(person_id, []).append(name)
    return page(request, "sandbox/people.html", "people", people=shown, tags_of=tags_of, q=text, tag=tag,
                page_number=page_number, has_next=len(rows) > PEOPLE_PAGE, all_tags=_tags(sandbox, company_id),
                short_search=0 < len(search.needle(text)) < search.TRIGRAM, short_window=search.SHORT_WINDOW)


@router.get("/people/{person_id}")
async def person(request: Request, person_id: Annotated[str, Path(max_length=24)]) -> HTMLResponse:
    sandbox = sandbox_of(request)
    company_id, _ = tenant_of(request)
    with sandbox.read() as session:
        row = session.execute(select(s.Person).where(s.Person.id == person_id, s.Person.company_id == company_id)
                              ).scalar_one_or_none() if is_oid(person_id) else None
        if row is None:
            return page(request, "sandbox/missing.html", "people", what="Человек не найден", status_code=404)
        accounts = session.execute(select(s.Account).where(s.Account.person_id == person_id)
                                   .order_by(s.Account.created_at)).scalars().all()
        chats: dict[str, list[Any]] = {}
        totals: dict[str, int] = {}
        for account in accounts:
            messages = session.execute(
                select(s.Message.id, s.Message.text, s.Message.type, s.Message.created_at)
                .where(s.Message.account_id == account.id)
                .order_by(s.Message.created_at.desc(), s.Message.id.desc()).limit(CHAT_LIMIT)).all()
            chats[account.id] = list(reversed(messages))
            totals[account.id] = session.scalar(select(func.count()).where(s.Message.account_id == account.id)) or 0
        person_tags = session.execute(select(s.Tag.id, s.Tag.name).join(s.PersonTag, s.PersonTag.tag_id == s.Tag.id)
                                      .where(s.PersonTag.person_id == person_id).order_by(s.Tag.name)).all()
        orders = session.execute(select(s.Order.id, s.Order.title, s.Order.price, s.Order.currency, s.Order.status,
                                        s.Order.created_at).where(s.Order.person_id == person_id)
                                 .order_by(s.Order.created_at.desc())).all()
        subscriptions = session.execute(
            select(s.Subscription.created_at, s.Tunnel.name, s.Subscription.account_id)
            .join(s.Tunnel, s.Tunnel.id == s.Subscription.tunnel_id)
            .where(s.Subscription.person_id == person_id).order_by(s.Subscription.created_at.desc())).all()
        offers = session.execute(select(s.Offer.id, s.Offer.title, s.Offer.price, s.Offer.currency)
                                 .where(s.Offer.company_id == company_id).order_by(s.Offer.title).limit(100)).all()
    all_tags = _tags(sandbox, company_id)
    own = {t.id for t in person_tags}
    return page(request, "sandbox/person.html", "people", person=row, accounts=accounts, chats=chats, totals=totals,
                person_tags=person_tags, free_tags=[t for t in all_tags if t["id"] not in own], orders=orders,
                calls=world.person_calls(sandbox, person_id), comments=world.person_comments(sandbox, person_id),
                subscriptions=subscriptions, labels=MESSAGE_LABELS, chat_limit=CHAT_LIMIT, offers=offers)


@router.post("/people/{person_id}/tags")
async def change_tag(request: Request, person_id: Annotated[str, Path(max_length=24)],
                     tag_id: Annotated[str, Form(max_length=24)],
                     action: Annotated[str, Form(max_length=10)]) -> Response:
    sandbox = sandbox_of(request)
    company_id, _ = tenant_of(request)
    url = f"{PREFIX}/people/{person_id}"
    try:
        LeelooBackend(sandbox).change_tag(company_id, person_id, tag_id, add=action == "add")
    except ApiError as exc:
        return form_error(url, exc)
    return back(url, notice="Тег добавлен" if action == "add" else "Тег снят")


@router.post("/people/{person_id}/messages")
async def write_as_person(request: Request, person_id: Annotated[str, Path(max_length=24)],
                          account_id: Annotated[str, Form(max_length=24)],
                          text: Annotated[str, Form(max_length=world.TEXT_MAX)] = "") -> Response:
    url = f"{PREFIX}/people/{person_id}#chat-{account_id}"
    try:
        world.add_incoming_message(sandbox_of(request), account_id, text)
    except ApiError as exc:
        return form_error(f"{PREFIX}/people/{person_id}", exc)
    return back(url)


@router.post("/people/{person_id}/orders")
async def create_order(request: Request, person_id: Annotated[str, Path(max_length=24)],
                       offer_id: Annotated[str, Form(max_length=24)]) -> Response:
    """An OPENED manual order for the person, as POST /api/v2/orders makes it (its ORDER webhook too)."""
    from leadbridge.sandbox.leeloo import bodies

    sandbox = sandbox_of(request)
    company_id, _ = tenant_of(request)
    url = f"{PREFIX}/people/{person_id}"
    with sandbox.read() as session:
        credits_id = session.scalar(select(s.PaymentCredits.id).where(
            s.PaymentCredits.company_id == company_id, s.PaymentCredits.payment_method == "MANUAL")
            .order_by(s.PaymentCredits.id).limit(1))
    if credits_id is None or not is_oid(offer_id) or not is_oid(person_id):
        return form_error(url, ApiError(422, "Нет ручной платёжной системы или предложения", field="offer_id"))
    try:
        LeelooBackend(sandbox).create_order(company_id, bodies.CreateOrder(
            personId=person_id, offerId=offer_id, paymentCreditsId=credits_id))
    except ApiError as exc:
        return form_error(url, exc)
    return back(url, notice="Заказ создан")


# --- webhooks ------------------------------------------------------------------------------

WEBHOOK_LOG_PAGE = 200


@router.get("/webhooks")
async def webhooks_page(request: Request) -> HTMLResponse:
    from leadbridge.contract.leeloo import WEBHOOK_EVENTS as EVENT_TYPES

    sandbox = sandbox_of(request)
    company_id, _ = tenant_of(request)
    settings = sandbox.webhooks.settings(company_id)
    return page(request, "sandbox/webhooks.html", "webhooks", event_types=EVENT_TYPES,
                settings=settings[0] if settings else None, pending=sandbox.webhooks.pending(),
                deliveries=sandbox.webhooks.deliveries(company_id, WEBHOOK_LOG_PAGE), page_size=WEBHOOK_LOG_PAGE,
                activity=sandbox.activity.status() if sandbox.activity else None)


@router.post("/webhooks")
async def set_webhooks(request: Request) -> Response:
    """Leeloo's API settings: Webhook enabled, the URL and the events (checkboxes)."""
    from leadbridge.contract.leeloo import WEBHOOK_EVENTS as EVENT_TYPES
    from leadbridge.sandbox.webhooks import URL_MAX

    form = await request.form(max_files=0, max_fields=20)
    url = str(form.get("url") or "")[:URL_MAX + 1]
    events = [kind for kind in EVENT_TYPES if form.get(f"event_{kind}")]
    company_id, _ = tenant_of(request)
    try:
        sandbox_of(request).webhooks.configure(company_id, enabled=bool(form.get("enabled")), url=url,
                                                events=events)
    except ApiError as exc:
        return form_error(f"{PREFIX}/webhooks", exc)
    return back(f"{PREFIX}/webhooks", notice="Настройки вебхука сохранены")


@router.post("/webhooks/{delivery_id}/redeliver")
async def redeliver(request: Request, delivery_id: Annotated[str, Path(max_length=24)]) -> Response:
    """A failed delivery's event sent again, as the control API's redeliver does."""
    try:
        sandbox_of(request).webhooks.redeliver(delivery_id)
    except ApiError as exc:
        return form_error(f"{PREFIX}/webhooks", exc)
    return back(f"{PREFIX}/webhooks", notice="Событие отправлено ещё раз")


# --- tags and templates ------------------------------------------------------------------


@router.get("/tags")
async def tags_page(request: Request) -> HTMLResponse:
    sandbox = sandbox_of(request)
    company_id, _ = tenant_of(request)
    return page(request, "sandbox/tags.html", "tags", tags=_tags(sandbox, company_id),
                templates=world.templates(sandbox, company_id))


@router.post("/tags")
async def create_tag(request: Request, name: Annotated[str, Form(max_length=world.NAME_MAX)] = "") -> Response:
    company_id, _ = tenant_of(request)
    try:
        tag = world.create_tag(sandbox_of(request), company_id, name)
    except ApiError as exc:
        return form_error(f"{PREFIX}/tags", exc)
    return back(f"{PREFIX}/tags", notice=f"Тег «{tag['name']}» " + ("создан" if tag["created"] else "уже был"))


@router.post("/templates")
async def create_template(request: Request, message_name: Annotated[str, Form(max_length=world.NAME_MAX)] = "",
                          text: Annotated[str, Form(max_length=world.TEXT_MAX)] = "",
                          category: Annotated[str, Form(max_length=world.NAME_MAX)] = "Шаблоны") -> Response:
    company_id, _ = tenant_of(request)
    try:
        template = world.create_template(sandbox_of(request), company_id, category, message_name, text)
    except ApiError as exc:
        return form_error(f"{PREFIX}/tags", exc)
    return back(f"{PREFIX}/tags", notice=f"Шаблон «{template['message_name']}» создан")


# --- Dialog ------------------------------------------------------------------------------


@router.get("/dialog")
async def campaigns(request: Request) -> HTMLResponse:
    sandbox = sandbox_of(request)
    company_id, _ = tenant_of(request)
    # Reading a campaign places the calls whose time has come, as Dialog's own reads do.
    with sandbox.write(company_id) as session:
        rows = session.execute(select(s.Campaign).where(s.Campaign.company_id == company_id)
                               .order_by(s.Campaign.id.desc()).limit(200)).scalars().all()
        for campaign in rows:
            dialog_backend.materialise(sandbox.seed, session, campaign, sandbox.now())
        ids = [c.id for c in rows]
        numbers = dict(session.execute(select(s.CampaignPhone.campaign_id, func.count()).where(
            s.CampaignPhone.campaign_id.in_(ids)).group_by(s.CampaignPhone.campaign_id)).all()) if ids else {}
        stats = {r[0]: r[1:] for r in session.execute(
            select(s.DialogCall.campaign_id, func.count(), func.count(func.distinct(s.DialogCall.campaign_phone_id)),
                   func.sum(case((s.DialogCall.outcome == "answered", 1), else_=0)),
                   func.sum(case((s.DialogCall.goal_reached, 1), else_=0)))
            .where(s.DialogCall.campaign_id.in_(ids)).group_by(s.DialogCall.campaign_id)).all()} if ids else {}
    return page(request, "sandbox/campaigns.html", "dialog", campaigns=rows, numbers=numbers, stats=stats)


@router.get("/dialog/{campaign_id}")
async def campaign_page(request: Request, campaign_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
                        page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1) -> HTMLResponse:
    sandbox = sandbox_of(request)
    company_id, _ = tenant_of(request)
    with sandbox.write(company_id) as session:
        campaign = session.get(s.Campaign, campaign_id)
        if campaign is None or campaign.company_id != company_id:
            return page(request, "sandbox/missing.html", "dialog", what="Обзвон не найден", status_code=404)
        dialog_backend.materialise(sandbox.seed, session, campaign, sandbox.now())
        total_numbers = session.scalar(select(func.count()).where(s.CampaignPhone.campaign_id == campaign_id)) or 0
        numbers = session.execute(select(s.CampaignPhone.id, s.CampaignPhone.position, s.CampaignPhone.phone,
                                         s.CampaignPhone.add_data)
                                  .where(s.CampaignPhone.campaign_id == campaign_id)
                                  .order_by(s.CampaignPhone.position).limit(NUMBERS_PAGE)
                                  .offset((page_number - 1) * NUMBERS_PAGE)).all()
        span = session.execute(select(func.min(s.DialogCall.started_at), func.max(s.DialogCall.started_at),
                                      func.count(), func.sum(case((s.DialogCall.outcome == "answered", 1), else_=0)),
                                      func.sum(case((s.DialogCall.goal_reached, 1), else_=0)),
                                      func.count(func.distinct(s.DialogCall.campaign_phone_id)))
                               .where(s.DialogCall.campaign_id == campaign_id)).one()
        phone_ids = [n.id for n in numbers]
        calls = session.execute(select(s.DialogCall.campaign_phone_id, s.DialogCall.attempt, s.DialogCall.started_at,
                                       s.DialogCall.outcome, s.DialogCall.duration, s.DialogCall.goal_reached,
                                       s.DialogCall.transcript)
                                .where(s.DialogCall.campaign_id == campaign_id,
                                       s.DialogCall.campaign_phone_id.in_(phone_ids))
                                .order_by(s.DialogCall.started_at)).all() if phone_ids else []
    attempts: dict[int, list[Any]] = {}
    for call in calls:
        attempts.setdefault(call.campaign_phone_id, []).append(call)
    first, last = span[0], span[1]
    width = (last - first).total_seconds() if first and last and last > first else 0.0

    def position(at: datetime) -> float:
        """Where on the number's timeline (0–100 %) a call started."""
        return 0.0 if not width or first is None else round(100 * (at - first).total_seconds() / width, 2)

    return page(request, "sandbox/campaign.html", "dialog", campaign=campaign, numbers=numbers, attempts=attempts,
                total_numbers=total_numbers, placed=span[2], answered=span[3] or 0, goals=span[4] or 0,
                called=span[5], first=first, last=last, position=position, page_number=page_number,
                has_next=page_number * NUMBERS_PAGE < total_numbers, outcomes=OUTCOME_LABELS)


# --- Neiros ------------------------------------------------------------------------------


@router.get("/neiros")
async def neiros(request: Request, site: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
                 paid: Annotated[bool, Query()] = False) -> HTMLResponse:
    sandbox = sandbox_of(request)
    company_id, _ = tenant_of(request)
    with sandbox.read() as session:
        sites = session.execute(
            select(s.Site.id, s.Site.name, func.count(s.Deal.id), func.coalesce(func.sum(s.Deal.summ), 0))
            .outerjoin(s.Deal, s.Deal.site_id == s.Site.id).where(s.Site.company_id == company_id)
            .group_by(s.Site.id, s.Site.name).order_by(s.Site.id)).all()
        query = select(s.Deal.id, s.Deal.site_id, s.Deal.created_at, s.Deal.phone, s.Deal.canal, s.Deal.traffic,
                       s.Deal.summ, s.Deal.status).where(s.Deal.company_id == company_id)
        if site:
            query = query.where(s.Deal.site_id == site)
        if paid:
            query = query.where(s.Deal.summ > 0)
        deals = session.execute(query.order_by(s.Deal.created_at.desc(), s.Deal.id.desc()).limit(100)).all()
    return page(request, "sandbox/neiros.html", "neiros", sites=sites, deals=deals, site=site, paid=paid)


# --- request log -------------------------------------------------------------------------


def _entry(entry: LoggedRequest) -> dict[str, Any]:
    """A log line for the browser; the body (redacted) is fetched only when opened."""
    item = entry.as_dict()
    item.pop("body")
    item["has_body"] = bool(entry.body)
    return item


@router.get("/log")
async def log_page(request: Request) -> HTMLResponse:
    sandbox = sandbox_of(request)
    recent = [_entry(e) for e in sandbox.requests.recent(LOG_PAGE)]
    return page(request, "sandbox/log.html", "log", entries=recent, last_id=sandbox.request_counter,
                companies_by_id=dict(companies(sandbox)))


@router.get("/log/stream")
async def log_stream(request: Request,
                     after: Annotated[int, Query(ge=0)] = 0) -> StreamingResponse:
    """Server-sent events: each new request log entry as one ``data:`` line of JSON."""
    sandbox = sandbox_of(request)
    resume = request.headers.get("last-event-id", "")
    last = int(resume) if resume.isdigit() else after

    async def events() -> AsyncIterator[bytes]:
        nonlocal last
        deadline = time.monotonic() + STREAM_SECONDS
        idle = 0
        yield b"retry: 1000\n\n"
        while time.monotonic() < deadline and not await request.is_disconnected():
            if sandbox.request_counter > last:
                fresh = sandbox.requests.recent(LOG_PAGE, after=last)
                for entry in fresh:
                    yield b"id: %d\ndata: %s\n\n" % (entry.id, orjson.dumps(_entry(entry)))
                last = sandbox.request_counter
            else:
                idle += 1
                if idle % 30 == 0:
                    yield b": idle\n\n"  # a comment now and then keeps proxies from closing the stream
            await asyncio.sleep(STREAM_POLL_SECONDS)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.get("/log/{entry_id}")
async def log_entry(request: Request, entry_id: Annotated[int, Path(ge=1)]) -> Response:
    """One entry with its body, secrets shown as ***."""
    for entry in reversed(sandbox_of(request).requests):
        if entry.id == entry_id:
            item = entry.as_dict()
            item["body"] = _decode(entry.body)
            return JSON(item)
    return JSON({"message": "No such entry in the log (it may have rotated out)"}, status_code=404)


def install(app: Any) -> None:
    """Mount the console's pages and its own static files, and the offline API docs, on the sandbox app."""
    from leadbridge.console import apidocs
    from leadbridge.console.web import static_files

    app.include_router(router)
    app.mount(f"{PREFIX}/static", static_files(), name="console-static")
    apidocs.install(app)

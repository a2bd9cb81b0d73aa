"""call-leads: Leeloo people → Dialog call campaigns.

Units: one ``lead`` per Leeloo person (key: person id, unique phone: its E.164 number)
and one ``campaign`` per batch of leads. A campaign is created by one POST that no
Dialog call can look up afterwards, so if a runner dies during that POST the campaign
and its leads become ``uncertain``: shown, never called again automatically.

When Dialog refuses a campaign (a 4xx: nothing was created) its leads wait for the next
run, which builds their ``add_data`` again from the configuration of that run (so fixing
``flows.call-leads.add_data`` is enough); after ``MAX_ATTEMPTS`` refusals a lead is
``failed`` and waits for ``leadbridge flows resolve ID --retry``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from leadbridge.errors import (
    APIConnectionError,
    APIStatusError,
    LeadbridgeError,
    NotFoundError,
    ResponseValidationError,
)
from leadbridge.flows.config import CallLeadsConfig, parse_duration
from leadbridge.flows.context import FlowContext
from leadbridge.flows.engine import (
    READ_CONCURRENCY,
    READ_PAGE,
    RECORD_CHUNK,
    FlowReport,
    Step,
    chunked,
    parallel,
    perform_steps,
    settle,
    unreadable_detail,
)
from leadbridge.flows.ledger import MAX_ATTEMPTS, NewUnit, RetryRule, Unit, retry_rule
from leadbridge.flows.phones import normalise

FLOW = "call-leads"
# A campaign retried by hand is not created again as such: its leads are queued again, and
# a lead retried by hand leaves its campaign to be gathered into a new one.
retry_rule(FLOW, "campaign", RetryRule(requeues_children=True, requeued_note="not created; its leads are queued again"))
retry_rule(FLOW, "lead", RetryRule(leaves_batch=True))


def _config(ctx: FlowContext) -> CallLeadsConfig:
    section = ctx.config.flows.call_leads
    assert section is not None
    return section


def _add_data(cfg: CallLeadsConfig, person: Any, phone: str) -> dict[str, str]:
    custom = {field.name: field.value for field in getattr(person, "custom_fields", []) or []}
    values = {"id": person.id, "name": person.name or "", "phone": phone, "email": person.email or ""}
    data = {}
    for parameter, source in cfg.add_data.items():
        value = custom.get(source[7:]) if source.startswith("custom:") else values[source]
        data[parameter] = "" if value is None else str(value)
    return data


def _mapping_key(cfg: CallLeadsConfig) -> str:
    """A short fingerprint of the ``add_data`` mapping a lead's ``add_data`` was built with."""
    text = json.dumps(sorted(cfg.add_data.items()), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def lead_unit(cfg: CallLeadsConfig, person: Any, region: str) -> NewUnit:
    """The lead of a person with a phone: pending, or skipped when the phone is not a valid number."""
    phone = normalise(person.phone, region)
    account = person.accounts[0].account_id if person.accounts else None
    payload: dict[str, Any] = {"person_id": person.id, "name": person.name, "phone": phone.e164 or phone.raw,
                               "account_id": account}
    if phone.e164 is None:
        return NewUnit(person.id, payload, state="skipped", error=phone.problem)
    payload["add_data"] = _add_data(cfg, person, phone.e164)
    payload["add_data_mapping"] = _mapping_key(cfg)
    return NewUnit(person.id, payload, dedupe=phone.e164)


def mismatch(cfg: CallLeadsConfig, person: Any, since: datetime, last_message: datetime | None) -> str | None:
    """Why a person is not a lead by the filter (tags, excluded tags, last message, phone), or None if they are.

    The same selection as :func:`discover`'s, for one person read by itself (``flows serve``).
    A single person's card does not carry their last message time, so the caller gives it
    (the time of the message or subscription the person was seen by).
    """
    excluded = set(cfg.exclude_tags) | ({cfg.queued_tag} if cfg.queued_tag else set())
    if cfg.tags and not set(cfg.tags).intersection(person.tags):
        return f"has none of the tags {', '.join(cfg.tags)}"
    if hit := excluded.intersection(person.tags):
        return f"excluded by the tag {', '.join(sorted(hit))}"
    last_message = max((t for t in (person.last_message_time, last_message) if t is not None), default=None)
    if last_message is None or last_message < since:
        return f"no message since {since:%Y-%m-%d %H:%M} UTC"
    if not person.phone:
        return "no phone"
    return None


def discover(ctx: FlowContext, cfg: CallLeadsConfig, report: FlowReport) -> None:
    """Record every matching person not yet in the ledger as a lead (or as skipped, with why)."""
    now = ctx.now()
    since = now - parse_duration(cfg.last_message_within)
    excluded = set(cfg.exclude_tags) | ({cfg.queued_tag} if cfg.queued_tag else set())
    region = ctx.config.phones.default_region
    bar = ctx.bar("call-leads: reading Leeloo people")
    people = ctx.leeloo.people.iter(tags=cfg.tags or None, last_message_from=since, last_message_to=now,
                                    page_size=READ_PAGE, concurrency=READ_CONCURRENCY)
    for chunk in chunked(bar.track(people), RECORD_CHUNK):
        units = []
        for person in chunk:
            if excluded.intersection(person.tags):
                report.count("people excluded by tag")
                continue
            if not person.phone:
                report.count("people without a phone")
                continue
            units.append(lead_unit(cfg, person, region))
        if ctx.dry_run:
            known = ctx.ledger.known_keys(FLOW, "lead", [u.key for u in units])
            fresh = [u for u in units if u.key not in known]
            report.count("leads to queue", sum(1 for u in fresh if u.state == "pending"))
            report.count("invalid phones", sum(1 for u in fresh if u.state == "skipped"))
            continue
        added = ctx.ledger.add_units(FLOW, "lead", units)
        report.count("people already known", added.known)
        for unit in added.added:
            if unit.state == "pending":
                report.count("new leads")
            elif unit.duplicate_of is not None:
                report.count("duplicate phones")
                report.note("warning", f"person {unit.key} ({unit.payload['name']}): phone {unit.dedupe} "
                                       f"already belongs to lead {unit.duplicate_of}; not called twice")
            else:
                report.count("invalid phones")
                report.note("warning", f"person {unit.key} ({unit.payload['name']}): {unit.error}")
    bar.done()


def _tag_step(ctx: FlowContext, unit: Unit, tag_id: str | None) -> list[Step]:
    if tag_id is None:
        return []
    person = unit.payload["person_id"]
    return [Step(f"tag:{tag_id}", lambda: ctx.leeloo.people.add_tag(person, tag_id), repeatable=True,
                 label="people tagged as queued")]


def _finish_lead(ctx: FlowContext, unit: Unit, campaign_id: int, tag_id: str | None, report: FlowReport) -> str:
    def work() -> dict[str, Any]:
        perform_steps(ctx.ledger, unit, _tag_step(ctx, unit, tag_id), report)
        return {"campaign_id": campaign_id}

    return settle(ctx.ledger, unit, report, work, f"person {unit.key}")


def recover(ctx: FlowContext, tag_id: str | None, report: FlowReport) -> None:
    """Settle what an interrupted run left behind, before anything new is started."""
    ledger = ctx.ledger
    while campaigns := ledger.claim(FLOW, "campaign", 50):
        for campaign in campaigns:
            effect = ledger.effects(campaign.id).get("create")
            if effect is not None and effect.state == "done":
                ledger.finish(campaign.id, "done", result={"campaign_id": effect.detail["campaign_id"],
                                                           "phones": campaign.payload.get("phones", 0),
                                                           "attempts": campaign.payload.get("attempts")})
            else:
                reason = "the runner stopped while Dialog was creating this campaign; Dialog offers no call " \
                         "to check whether it exists, so its phones are not called again automatically"
                ledger.mark(campaign.id, "create", "uncertain", effect.detail if effect else {}, reason)
                ledger.finish(campaign.id, "uncertain", error=reason)
                report.count("campaigns uncertain")
                report.note("uncertain", f"campaign batch {campaign.key} ({campaign.payload.get('phones')} phones): "
                                         f"{reason}")
    ledger.retry_failed(FLOW, "lead", MAX_ATTEMPTS)
    while leads := ledger.claim(FLOW, "lead", 200, parent="some"):
        parents: dict[int, Unit | None] = {}
        for lead in leads:
            assert lead.parent_id is not None
            if lead.parent_id not in parents:
                parents[lead.parent_id] = ledger.get(lead.parent_id)
            parent = parents[lead.parent_id]
            if parent is not None and parent.state == "done" and parent.result:
                _finish_lead(ctx, lead, int(parent.result["campaign_id"]), tag_id, report)
            elif parent is not None and parent.state == "uncertain":
                ledger.finish(lead.id, "uncertain", error=f"in campaign batch {parent.key}, whose creation is "
                                                          "uncertain")
                report.count("uncertain")
            else:
                ledger.release([lead.id], detach=True)


def refresh_payloads(ctx: FlowContext, cfg: CallLeadsConfig, leads: list[Unit], report: FlowReport) -> list[Unit]:
    """Leads recorded under another ``add_data`` mapping get theirs built again from the current one.

    The person is read again from Leeloo (a GET, harmless); a person deleted since is skipped.
    Returns the leads still to queue.
    """
    key = _mapping_key(cfg)
    stale = [lead for lead in leads if lead.payload.get("add_data_mapping") != key]
    if not stale:
        return leads

    def fetch(lead: Unit) -> tuple[Unit, Any]:
        try:
            return lead, ctx.leeloo.people.get(lead.key)
        except NotFoundError:
            return lead, None

    gone: list[int] = []
    payloads: dict[int, dict[str, Any]] = {}
    for lead, person in parallel(stale, fetch, ctx.parallelism):
        if person is None:
            gone.append(lead.id)
            continue
        lead.payload["add_data"] = _add_data(cfg, person, lead.payload["phone"])
        lead.payload["add_data_mapping"] = key
        payloads[lead.id] = lead.payload
    ctx.ledger.set_payloads(payloads)
    report.count("leads rebuilt from the current add_data", len(payloads))
    if gone:
        ctx.ledger.finish(gone, "skipped", error="the person is no longer in Leeloo")
        report.count("skipped", len(gone))
        report.note("warning", f"{len(gone)} queued people are no longer in Leeloo; skipped")
    return [lead for lead in leads if lead.id not in set(gone)]


def create_campaign(ctx: FlowContext, cfg: CallLeadsConfig, leads: list[Unit], tag_id: str | None,
                    report: FlowReport) -> bool:
    """One Dialog campaign for ``leads``; False when Dialog refused it (the leads wait for the next run)."""
    ledger = ctx.ledger
    leads = refresh_payloads(ctx, cfg, leads, report)
    if not leads:
        return True
    today = ctx.now().date()
    name = cfg.campaign_name.format(date=today.isoformat(), count=len(leads))
    batch = ledger.create_claimed(FLOW, "campaign", uuid.uuid4().hex,
                                  {"name": name, "phones": len(leads), "attempts": cfg.attempts},
                                  children=[lead.id for lead in leads], effect="create")
    phones = [{"phone": lead.payload["phone"], "add_data": lead.payload.get("add_data", {})} for lead in leads]
    try:
        campaign_id = ctx.dialog.campaigns.create(
            cfg.project_id, name, cfg.start_block_id, cfg.phone_id, phones, today, cfg.start_time, cfg.end_time,
            attempts=cfg.attempts, interval=cfg.interval_minutes, description=f"leadbridge batch {batch.key}")
    except APIStatusError as exc:
        if not exc.refused:
            _campaign_uncertain(ctx, batch, leads, exc, {}, report)
            return True
        _campaign_refused(ctx, batch, leads, exc, report)
        return False
    except APIConnectionError as exc:
        _campaign_uncertain(ctx, batch, leads, exc, {}, report)
        return True
    except ResponseValidationError as exc:
        # Dialog answered success, so the campaign exists, but its id could not be read:
        # its phones must not be queued again, and call-results cannot follow it by itself.
        _campaign_uncertain(ctx, batch, leads, exc, unreadable_detail(exc), report)
        return True
    ledger.mark(batch.id, "create", "done", {"campaign_id": campaign_id})
    ledger.finish(batch.id, "done", result={"campaign_id": campaign_id, "phones": len(leads),
                                            "attempts": cfg.attempts})
    report.count("campaigns created")
    report.count("phones queued in campaigns", len(leads))
    bar = ctx.bar(f"call-leads: campaign {campaign_id}", len(leads))
    if tag_id is None:  # no step per lead: all are settled in one write, not one worker's turn each
        ledger.finish([lead.id for lead in leads], "done", result={"campaign_id": campaign_id})
        report.count("done", len(leads))
        bar.done()
        return True
    for _ in parallel(leads, lambda lead: _finish_lead(ctx, lead, campaign_id, tag_id, report), ctx.parallelism,
                      ctx.ledger.flush):
        bar.advance()
    bar.done()
    return True


def _campaign_uncertain(ctx: FlowContext, batch: Unit, leads: list[Unit], exc: LeadbridgeError,
                        detail: dict[str, Any], report: FlowReport) -> None:
    ledger = ctx.ledger
    ledger.mark(batch.id, "create", "uncertain", detail, str(exc))
    ledger.finish(batch.id, "uncertain", error=str(exc))
    ledger.finish([lead.id for lead in leads], "uncertain", error=f"campaign creation uncertain: {exc}")
    report.count("campaigns uncertain")
    report.count("uncertain", len(leads))
    report.note("uncertain", f"campaign batch {batch.key} (unit #{batch.id}, {len(leads)} phones): {exc}")


def _campaign_refused(ctx: FlowContext, batch: Unit, leads: list[Unit], exc: APIStatusError,
                      report: FlowReport) -> None:
    """Nothing was created: the leads wait for the next run, or fail once they have had their attempts."""
    ledger = ctx.ledger
    ledger.mark(batch.id, "create", "failed", {}, str(exc))
    ledger.finish(batch.id, "failed", error=str(exc))
    spent = [lead.id for lead in leads if lead.attempts >= MAX_ATTEMPTS]
    waiting = [lead.id for lead in leads if lead.attempts < MAX_ATTEMPTS]
    ledger.release(waiting, detach=True)
    if spent:
        ledger.finish(spent, "failed", error=f"Dialog refused its campaign {MAX_ATTEMPTS} times, last: {exc}; "
                                             "after fixing the cause: leadbridge flows resolve ID --retry", detach=True)
        report.count("failed", len(spent))
    report.count("campaigns refused")
    report.note("error", f"Dialog refused the campaign ({len(waiting)} phones wait for the next run, "
                         f"{len(spent)} failed after {MAX_ATTEMPTS} attempts): {exc}")


def run(ctx: FlowContext) -> FlowReport:
    cfg = _config(ctx)
    report = ctx.report(FLOW)
    tag_id = ctx.tag_ids([cfg.queued_tag], "flows.call-leads.queued_tag")[cfg.queued_tag] if cfg.queued_tag else None
    if ctx.dry_run:
        discover(ctx, cfg, report)
        waiting = sum(1 for _ in ctx.ledger.units(FLOW, "lead", ["pending"]))
        total = report.counts["leads to queue"] + waiting
        report.count("campaigns to create", -(-total // cfg.batch_size))
        report.count("leads waiting from earlier runs", waiting)
        return report
    report.count("claims of stopped runners recovered", ctx.ledger.reclaim_stale(FLOW))
    recover(ctx, tag_id, report)
    discover(ctx, cfg, report)
    while leads := ctx.ledger.claim(FLOW, "lead", cfg.batch_size, parent="none"):
        if not create_campaign(ctx, cfg, leads, tag_id, report):
            break
    return report


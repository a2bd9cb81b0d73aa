"""deals-to-leeloo: Neiros deals → the Leeloo person (found by phone or created), a call and a comment.

Units: one ``deal`` per Neiros deal (key: site and deal id). Creating the person is
checked by searching Leeloo by phone, so it is never doubled; the call and the comment
cannot be looked up afterwards (uncertain if interrupted mid-call).
"""

from __future__ import annotations

from typing import Any

from leadbridge.flows import deal_index
from leadbridge.flows.config import DealsToLeelooConfig, parse_duration
from leadbridge.flows.context import FlowContext
from leadbridge.flows.engine import RECORD_CHUNK, FlowReport, Skip, Step, chunked, perform_steps
from leadbridge.flows.ledger import NewUnit, Unit
from leadbridge.flows.phones import normalise

FLOW = "deals-to-leeloo"


def _config(ctx: FlowContext) -> DealsToLeelooConfig:
    section = ctx.config.flows.deals_to_leeloo
    assert section is not None
    return section


def site_names(ctx: FlowContext) -> dict[int, str]:
    return {site.id: site.name or str(site.id) for site in ctx.neiros.sites.list()}


def discover(ctx: FlowContext, cfg: DealsToLeelooConfig, sites: dict[int, str], report: FlowReport) -> None:
    now = ctx.now()
    start = (now - parse_duration(cfg.window)).date()
    bar = ctx.bar("deals-to-leeloo: reading Neiros deals")
    for site_id in cfg.sites or sorted(sites):
        if site_id not in sites:
            report.note("error", f"flows.deals-to-leeloo.sites: Neiros has no site {site_id}")
            report.count("unknown sites")
            continue
        deals = ctx.neiros.deals.iter(site_id, start, now.date())
        for chunk in chunked(bar.track(deals), RECORD_CHUNK):
            units = [NewUnit(f"{site_id}:{deal.id}", {"site_id": site_id, "deal_id": deal.id}) for deal in chunk]
            ctx.record(FLOW, "deal", units, report, new="new deals", dry_run="deals to bring to Leeloo")
    bar.done()


def find_person(ctx: FlowContext, phone: str) -> dict[str, Any] | None:
    """The Leeloo person with this phone (and their first channel), if any."""
    for person in ctx.leeloo.people.list(limit=1, phone=phone):
        account = person.accounts[0].account_id if person.accounts else None
        return {"person_id": person.id, "account_id": account, "created": False}
    return None


def _comment(deal: Any, site: str) -> str:
    return (f"Сделка Neiros №{deal.id} (сайт {site}): канал «{deal.canal or '—'}», "
            f"источник трафика «{deal.traffic or '—'}», этап «{deal.status or '—'}».")


def _find_or_create(ctx: FlowContext, cfg: DealsToLeelooConfig, unit: Unit, e164: str,
                    report: FlowReport) -> dict[str, Any]:
    person = find_person(ctx, e164)
    if person is not None:
        return person

    def create() -> dict[str, Any]:
        name = cfg.person_name.format(phone=e164, deal=unit.payload["deal_id"])
        channel = ctx.leeloo.people.create(name, cfg.leadgentool_id, phone=e164)
        return {"person_id": channel.person_id or channel.id, "account_id": channel.id}

    perform_steps(ctx.ledger, unit, [Step("person", create, check=lambda _: find_person(ctx, e164) is not None,
                                          label="people created")], report)
    person = find_person(ctx, e164)
    if person is None:
        raise Skip(f"the person created for {e164} cannot be found by phone")
    return person


def process(ctx: FlowContext, cfg: DealsToLeelooConfig, unit: Unit, sites: dict[int, str],
            report: FlowReport) -> dict[str, Any]:
    site_id, deal_id = unit.payload["site_id"], unit.payload["deal_id"]
    deal = ctx.neiros.deals.get(deal_id, site_id)
    phone = normalise(deal.phone, ctx.config.phones.default_region)
    if deal.created_at is not None:
        deal_index.add(ctx.ledger, [(site_id, deal_id, phone.e164, deal.created_at.replace(tzinfo=None))])
    if phone.e164 is None:
        raise Skip("deal has no phone number" if not deal.phone else phone.problem or "bad phone")
    e164 = phone.e164
    leeloo = ctx.leeloo
    # Two deals with one phone must not create two people: one creator at a time per phone.
    with ctx.ledger.mutex(f"leeloo-person:{e164}"):
        person = _find_or_create(ctx, cfg, unit, e164, report)
    steps = []
    if person["account_id"]:
        user = ctx.leeloo_user_id()
        date = deal.created_at or ctx.now()
        status = "SUCCESS" if (deal.duration or 0) > 0 else "NO_ANSWER"
        steps.append(Step("call", lambda: {"call_id": leeloo.calls.create(
            user, e164, sites.get(site_id, str(site_id)), date, person["account_id"], deal.record or "NOT_DEFINED",
            status, int(deal.duration or 0), "INBOUND").id}, label="calls added"))
    else:
        report.note("warning", f"deal {unit.key}: person {person['person_id']} has no channel; no call added")
    steps.append(Step("comment", lambda: {"comment_id": leeloo.people.add_comment(
        person["person_id"], _comment(deal, sites.get(site_id, str(site_id)))).id}, label="comments added"))
    perform_steps(ctx.ledger, unit, steps, report)
    return {"person_id": person["person_id"], "phone": e164}


def run(ctx: FlowContext) -> FlowReport:
    cfg = _config(ctx)
    report = ctx.report(FLOW)
    sites = site_names(ctx)
    if not ctx.dry_run:
        report.count("claims of stopped runners recovered", ctx.ledger.reclaim_stale(FLOW))
        ctx.ledger.retry_failed(FLOW, "deal")
    discover(ctx, cfg, sites, report)
    if ctx.dry_run:
        report.count("deals waiting from earlier runs", sum(1 for _ in ctx.ledger.units(FLOW, "deal", ["pending"])))
        return report
    ctx.settle_claims(FLOW, "deal", "deals-to-leeloo: writing deals to Leeloo", report,
                      lambda unit: process(ctx, cfg, unit, sites, report), lambda unit: f"deal {unit.key}", 100)
    return report

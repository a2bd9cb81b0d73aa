"""call-results: Dialog campaign reports → calls, comments, tags (and a message) in Leeloo.

Units: one ``campaign`` per Dialog campaign created by call-leads (open until every
number has a final outcome) and one ``result`` per finished dialog (key: campaign and
dialog id). A result's side effects are separate steps: the call and the comment cannot
be looked up in Leeloo afterwards (uncertain if interrupted mid-call); tags are repeatable;
the template message is checked in the chat history.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from leadbridge.contract.dialog import is_true
from leadbridge.flows.config import CallResultsConfig, ConfigError
from leadbridge.flows.context import FlowContext
from leadbridge.flows.engine import FlowReport, Skip, Step, perform_steps
from leadbridge.flows.ledger import NewUnit, Unit

FLOW = "call-results"
LEADS_FLOW = "call-leads"
SUMMARY_CHARS = 300


def _config(ctx: FlowContext) -> CallResultsConfig:
    section = ctx.config.flows.call_results
    assert section is not None
    return section


def track_campaigns(ctx: FlowContext, report: FlowReport) -> None:
    """Every campaign call-leads created becomes an open campaign of this flow (once)."""
    units = [NewUnit(str(c.result["campaign_id"]), {"campaign_id": int(c.result["campaign_id"]),
                                                   "phones": int(c.result.get("phones", 0)),
                                                   "batch_unit": c.id, "attempts": c.result.get("attempts")})
             for c in ctx.ledger.units(LEADS_FLOW, "campaign", ["done"]) if c.result]
    ctx.record(FLOW, "campaign", units, report, new="new campaigns followed", dry_run="new campaigns to follow")


def _people_by_phone(ctx: FlowContext, batch_unit: int) -> dict[str, dict[str, Any]]:
    return {lead.payload["phone"]: lead.payload for lead in ctx.ledger.children(batch_unit)}


def _result_payload(row: dict[str, Any], lead: dict[str, Any] | None) -> dict[str, Any]:
    started = row.get("started_at")
    return {
        "campaign_id": row.get("campaign_id"), "dialog_id": row.get("dialog_id"),
        "phone": row.get("phone_number"), "attempt": row.get("attempt"),
        "started_at": started.isoformat() if isinstance(started, datetime) else started,
        "duration": int(row.get("duration") or 0), "outcome": row.get("outcome"),
        "goal": is_true(row.get("goal")), "transcript": row.get("transcript") or "",
        "record_link": row.get("record_link") or row.get("record") or "NOT_DEFINED",
        "person_id": (lead or {}).get("person_id") or row.get("person_id"),
        "account_id": (lead or {}).get("account_id"),
        "name": (lead or {}).get("name") or row.get("name"),
    }


def read_campaign(ctx: FlowContext, cfg: CallResultsConfig, campaign: Unit, report: FlowReport) -> bool:
    """Record the campaign's finished dialogs as results; True when every number has a final outcome."""
    leads_cfg = ctx.config.flows.call_leads
    if leads_cfg is None:
        raise ConfigError("flows.call-leads: section is missing (call-results reads its campaigns)")
    campaign_id = campaign.payload["campaign_id"]
    now = ctx.now()
    dialogs = ctx.dialog.analytics.report(leads_cfg.project_id, cfg.scenario_id, leads_cfg.start_block_id,
                                          campaign_id, now - timedelta(days=400), now + timedelta(days=3650))
    people = _people_by_phone(ctx, campaign.payload["batch_unit"])
    attempts = int(campaign.payload.get("attempts") or leads_cfg.attempts)
    finals: set[str] = set()
    units = []
    for row in dialogs.rows:
        phone = row.get("phone_number")
        if row.get("dialog_id") is None or not phone:
            continue
        outcome = cfg.outcomes.get(str(row.get("outcome")))
        if (outcome is not None and outcome.final) or int(row.get("attempt") or 1) >= attempts:
            finals.add(phone)
        units.append(NewUnit(f"{campaign_id}:{row['dialog_id']}", _result_payload(row, people.get(phone))))
    ctx.record(FLOW, "result", units, report, new="new dialog results", dry_run="dialog results to write back")
    expected = campaign.payload.get("phones") or len(people)
    return len(finals) >= expected > 0


def _comment(result: dict[str, Any], status: str) -> str:
    summary = " ".join(line.strip() for line in result["transcript"].splitlines() if line.strip())
    if len(summary) > SUMMARY_CHARS:
        summary = summary[: SUMMARY_CHARS - 1].rstrip() + "…"
    lines = [f"Звонок голосового ассистента Dialog (обзвон {result['campaign_id']}, попытка {result['attempt']}): "
             f"{result['outcome']} → {status}, {result['duration']} с."]
    if result["goal"]:
        lines.append("Цель диалога достигнута.")
    if summary:
        lines.append(f"Диалог: {summary}")
    return "\n".join(lines)


def _steps(ctx: FlowContext, cfg: CallResultsConfig, result: dict[str, Any], tags: dict[str, str]) -> list[Step]:
    outcome = cfg.outcomes.get(str(result["outcome"]))
    if outcome is None:
        raise Skip(f"dialog outcome {result['outcome']!r} is not in flows.call-results.outcomes")
    person, account = result["person_id"], result["account_id"]
    if not person:
        raise Skip(f"no Leeloo person for {result['phone']} in campaign {result['campaign_id']}")
    leeloo = ctx.leeloo
    steps = []
    if account:
        user = ctx.leeloo_user_id()
        steps.append(Step("call", lambda: {"call_id": leeloo.calls.create(
            user, cfg.call_from, result["phone"], result["started_at"], account, result["record_link"],
            outcome.status, result["duration"], "OUTBOUND").id}, label="calls added"))
    steps.append(Step("comment", lambda: {"comment_id": leeloo.people.add_comment(
        person, _comment(result, outcome.status)).id}, label="comments added"))
    wanted = list(outcome.tags) + ([cfg.goal_tag] if cfg.goal_tag and result["goal"] else [])
    steps.extend(_tag_step(ctx, person, tags[name]) for name in wanted)
    if cfg.template_id and account and result["outcome"] in cfg.template_outcomes:
        steps.append(_template_step(ctx, cfg.template_id, account, result))
    return steps


def _tag_step(ctx: FlowContext, person: str, tag_id: str) -> Step:
    return Step(f"tag:{tag_id}", lambda: ctx.leeloo.people.add_tag(person, tag_id), repeatable=True,
                label="tags set")


def _sent_since(ctx: FlowContext, account: str, detail: dict[str, Any]) -> bool:
    """Whether a message from our side reached the chat after the count recorded with the intention."""
    before = int(detail.get("messages_before", 0))
    messages = list(ctx.leeloo.channels.iter_messages(account))
    newest = sorted(messages, key=lambda m: (m.created_at is None, m.created_at), reverse=False)[before:]
    return any(m.type is not None and str(getattr(m.type, "value", m.type)) != "FRIEND_MESSAGE" for m in newest)


def _template_step(ctx: FlowContext, template_id: str, account: str, result: dict[str, Any]) -> Step:
    leeloo = ctx.leeloo

    def before() -> dict[str, Any]:
        return {"messages_before": leeloo.channels.messages(account, limit=1).total}

    def send() -> dict[str, Any]:
        leeloo.messages.send_template(account, template_id, variables={"name": result.get("name") or ""})
        return {}

    return Step("template", send, check=lambda detail: _sent_since(ctx, account, detail), before=before,
                label="template messages sent")


def run(ctx: FlowContext) -> FlowReport:
    cfg = _config(ctx)
    report = ctx.report(FLOW)
    names = sorted({t for o in cfg.outcomes.values() for t in o.tags} | ({cfg.goal_tag} if cfg.goal_tag else set()))
    tags = ctx.tag_ids(names, "flows.call-results.outcomes.*.tags / goal_tag")
    if not ctx.dry_run:
        report.count("claims of stopped runners recovered", ctx.ledger.reclaim_stale(FLOW))
    track_campaigns(ctx, report)
    if ctx.dry_run:
        for campaign in list(ctx.ledger.units(FLOW, "campaign", ["pending"])):
            read_campaign(ctx, cfg, campaign, report)
        return report
    ctx.ledger.retry_failed(FLOW, "result")
    _process_results(ctx, cfg, tags, report)  # results an earlier run recorded but did not finish
    # One campaign at a time, so a second runner on the ledger takes the next one; a campaign still
    # running stays claimed until the end of this run (read once per run), then goes back to pending.
    still_running: list[int] = []
    bar = ctx.bar("call-results: reading campaign reports")
    try:
        while campaigns := ctx.ledger.claim(FLOW, "campaign", 1):
            campaign = campaigns[0]
            try:
                closed = read_campaign(ctx, cfg, campaign, report)
            except Exception:
                ctx.ledger.release([campaign.id])
                raise
            if closed:
                ctx.ledger.finish(campaign.id, "done", result={"closed": True})
                report.count("campaigns closed")
            else:
                still_running.append(campaign.id)
                report.count("campaigns still running")
            bar.advance()
            _process_results(ctx, cfg, tags, report)
    finally:
        ctx.ledger.release(still_running)
    bar.done()
    return report


def _process_results(ctx: FlowContext, cfg: CallResultsConfig, tags: dict[str, str], report: FlowReport) -> None:
    def write_back(unit: Unit) -> None:
        perform_steps(ctx.ledger, unit, _steps(ctx, cfg, unit.payload, tags), report)

    ctx.settle_claims(FLOW, "result", "call-results: writing results to Leeloo", report, write_back,
                      lambda unit: f"dialog {unit.key} ({unit.payload.get('phone')})")

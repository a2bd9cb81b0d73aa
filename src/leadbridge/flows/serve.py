"""``leadbridge flows serve``: Leeloo webhooks in, the flows' units out, within seconds.

The receive path is kept small: an event is parsed (:mod:`leadbridge.webhooks`), queued,
and committed to the ledger's event table with the others that arrived meanwhile (one
transaction for the lot: a group commit); each delivery is answered 200 only once its
event is committed, so an acknowledged event survives any crash. A redelivery finds its
first delivery by the event's deduplication key and adds nothing.

A trigger thread then reads the events committed and not yet processed:

* INCOMING_MESSAGE and SUBSCRIPTION: the person is read from Leeloo and, when they match
  call-leads' filter, recorded as a lead (the same unit polling would record: one per
  person and per phone). Leads gather for ``flows.call-leads.batch_window`` and then go
  into one campaign, exactly as ``flows run call-leads`` makes campaigns;
* SALE: the order's person's paid total is recorded as revenue-to-neiros' unit for that
  person, which is then claimed and processed alone (not the whole flow);
* ORDER and unknown types are recorded and trigger nothing.

Everything that happens on a platform goes through the ledger's units and effects, as in
``flows run``: a unit is claimed by one runner at a time, and an effect recorded done is
never made again. So the scheduled polling (the catch-up, run here every
``schedule.every``, or ``flows watch`` beside it) fills in what a lost webhook missed and
never does a unit twice. After a crash, events committed but not processed are processed
on the next start; processing one twice only finds its units already known.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from sqlalchemy import update

from leadbridge import webhooks
from leadbridge.errors import LeadbridgeError, NotFoundError
from leadbridge.flows import call_leads, revenue_to_neiros
from leadbridge.flows.config import WORKERS, Config, parse_duration
from leadbridge.flows.context import FlowContext
from leadbridge.flows.engine import FlowReport, parallel, settle
from leadbridge.flows.events import EventStore, NewEvent, StoredEvent
from leadbridge.flows.ledger import Ledger, NewUnit, Unit, UnitRow, utcnow

log = logging.getLogger("leadbridge.flows.serve")
# Events read per round of the trigger thread.
EVENTS_PER_ROUND = 100
# A person read that fails (a 5xx, a broken connection) leaves the event waiting for the next
# round; after this many rounds it is set aside for the catch-up polling, with the error.
MAX_EVENT_TRIES = 5
# The deal index (revenue-to-neiros) is refreshed at most this often for SALE events.
DEAL_INDEX_SECONDS = 2.0


def claim_unit(ledger: Ledger, flow: str, kind: str, key: str) -> Unit | None:
    """Claim one pending unit by its key (a guarded UPDATE: safe beside other runners on both databases)."""
    if ledger.stopping.is_set():
        return None
    with ledger.transaction() as session:
        ids = list(session.scalars(
            update(UnitRow).where(UnitRow.flow == flow, UnitRow.kind == kind, UnitRow.key == key,
                                  UnitRow.state == "pending")
            .values(state="claimed", owner=ledger.runner, updated_at=utcnow(), attempts=UnitRow.attempts + 1)
            .returning(UnitRow.id)))
    return ledger.get(ids[0]) if ids else None


class LiveFlows:
    """The receiver, the trigger thread and the catch-up polling of ``flows serve`` (one ledger runner)."""

    def __init__(self, config: Config, *, workers: int = WORKERS, catch_up: bool = True, every: float | None = None,
                 console: Console | None = None) -> None:
        self.config = config
        self.console = console or Console(stderr=True)
        self.ledger = Ledger(config.ledger.url)
        self.store = EventStore(self.ledger)
        self.ctx = FlowContext(config, self.ledger, workers=workers)
        self.catch_up = catch_up
        self.every = every if every is not None else parse_duration(config.schedule.every).total_seconds()
        self.stats: Counter[str] = Counter()
        self.stop = threading.Event()
        self.wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._queue: list[tuple[NewEvent, asyncio.Future[None]]] = []
        self._queued = asyncio.Event()
        self._committer: asyncio.Task[None] | None = None
        self._tries: Counter[int] = Counter()
        self._lead_deadline: float | None = None
        self._deals_indexed_at = 0.0
        self._sites: list[int] = []
        self.leads_cfg = config.flows.call_leads if "call-leads" in config.enabled_flows() else None
        self.revenue_cfg = config.flows.revenue_to_neiros \
            if "revenue-to-neiros" in config.enabled_flows() else None
        try:
            for name in ("call-leads", "revenue-to-neiros"):
                if name in config.enabled_flows():
                    config.require(name)
            self.window = parse_duration(self.leads_cfg.batch_window).total_seconds() if self.leads_cfg else 0.0
            cfg = self.leads_cfg
            self.tag_id = self.ctx.tag_ids([cfg.queued_tag], "flows.call-leads.queued_tag")[cfg.queued_tag] \
                if cfg is not None and cfg.queued_tag else None
        except BaseException:
            self.close()
            raise
        self.app = webhooks.Receiver(self.receive, on_startup=self.start, on_shutdown=self.shutdown)

    # --- the receive path ---------------------------------------------------------------

    async def receive(self, event: webhooks.Event) -> None:
        """Queue the event for the next group commit and return once it is committed."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        triggers = (self.leads_cfg is not None and isinstance(
            event, webhooks.IncomingMessageEvent | webhooks.SubscriptionEvent)) or (
            self.revenue_cfg is not None and isinstance(event, webhooks.SaleEvent))
        outcome = None if triggers else "nothing to trigger"
        self._queue.append((NewEvent(event.dedupe_key, event.type, event.raw, outcome), done))
        self._queued.set()
        await done

    async def _commit_loop(self) -> None:
        while True:
            await self._queued.wait()
            self._queued.clear()
            batch, self._queue = self._queue, []
            if not batch:
                continue
            try:
                new = await asyncio.to_thread(self.store.record, [event for event, _ in batch])
            except Exception as exc:  # the ledger failed: every delivery of the batch is answered 500
                log.warning("flows serve: could not record %d events: %s", len(batch), exc)
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            self.stats["deliveries"] += len(batch)
            self.stats["events recorded"] += new
            for _, done in batch:
                if not done.done():
                    done.set_result(None)
            self.wake.set()

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        self._committer = asyncio.create_task(self._commit_loop())
        self._spawn(self._trigger_loop, "serve-trigger")
        if self.catch_up:
            self._spawn(self._catch_up_loop, "serve-catch-up")

    async def shutdown(self) -> None:
        self.stop.set()
        self.wake.set()
        if self._committer is not None:
            while self._queue:  # deliveries already queued are committed and answered first
                await asyncio.sleep(0.01)
            self._committer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._committer
        await asyncio.to_thread(self._join)
        self.close()

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _join(self) -> None:
        for thread in self._threads:
            thread.join()

    def close(self) -> None:
        self.ctx.close()
        with contextlib.suppress(Exception):
            self.ledger.release_claims()
        self.ledger.close()

    # --- the trigger thread -------------------------------------------------------------

    def _trigger_loop(self) -> None:
        self.ledger.stopping = self.stop
        self._recover()
        while not self.stop.is_set():
            wait = 0.5 if self._lead_deadline is None else max(0.0, self._lead_deadline - time.monotonic())
            self.wake.wait(min(wait, 0.5))
            self.wake.clear()
            try:
                while not self.stop.is_set() and (events := self.store.waiting(EVENTS_PER_ROUND)):
                    self._process(events)
                    if self._lead_deadline is not None and time.monotonic() >= self._lead_deadline:
                        break
                if self._lead_deadline is not None and time.monotonic() >= self._lead_deadline:
                    self._make_campaigns()
            except Exception as exc:  # the ledger or a platform failed: the events wait, the loop goes on
                log.warning("flows serve: a round of events failed (%s: %s); retrying", type(exc).__name__, exc)
                self.console.print(f"[yellow]a round of events failed ({type(exc).__name__}: "
                                   f"{str(exc).splitlines()[0][:200] if str(exc) else ''}); retrying[/]",
                                   highlight=False)
                self.stop.wait(1.0)
        self.ledger.flush()

    def _recover(self) -> None:
        """What a killed serve (or run) left: campaigns mid-creation settled, waiting leads batched soon."""
        if self.leads_cfg is None:
            return
        report = self.ctx.report(call_leads.FLOW)
        self.ledger.reclaim_stale(call_leads.FLOW)
        call_leads.recover(self.ctx, self.tag_id, report)
        if any(True for _ in self.ledger.units(call_leads.FLOW, "lead", ["pending"])):
            self._lead_deadline = time.monotonic() + self.window

    def _process(self, events: list[StoredEvent]) -> None:
        outcomes: dict[int, str] = {}
        leads: dict[str, list[int]] = {}
        seen: dict[str, datetime] = {}  # person → the latest time an event saw them write or subscribe
        sales: list[tuple[int, webhooks.SaleEvent]] = []
        for stored in events:
            try:
                event = webhooks.parse(stored.body)
            except webhooks.WebhookError as exc:
                outcomes[stored.id] = f"not an event: {exc}"
                continue
            if isinstance(event, webhooks.IncomingMessageEvent | webhooks.SubscriptionEvent):
                if self.leads_cfg is None:
                    outcomes[stored.id] = "nothing to trigger: call-leads is not configured"
                elif not event.person_id:
                    outcomes[stored.id] = "nothing to trigger: the event names no person"
                else:
                    leads.setdefault(event.person_id, []).append(stored.id)
                    when = event.data.created_at or stored.received_at.replace(tzinfo=UTC)
                    seen[event.person_id] = max(when, seen.get(event.person_id, when))
            elif isinstance(event, webhooks.SaleEvent):
                if self.revenue_cfg is None:
                    outcomes[stored.id] = "nothing to trigger: revenue-to-neiros is not configured"
                else:
                    sales.append((stored.id, event))
            else:
                outcomes[stored.id] = "nothing to trigger"
        if leads:
            outcomes.update(self._leads(leads, seen))
        if sales:
            outcomes.update(self._sales(sales))
        self.store.processed(outcomes)
        for kind, count in Counter(outcome.split(":", 1)[0] for outcome in outcomes.values()).items():
            self.stats[kind] += count

    def _failed_read(self, event_ids: list[int], exc: Exception, outcomes: dict[int, str]) -> None:
        """A read that may work next round: the events wait, until they have had their tries."""
        for event_id in event_ids:
            self._tries[event_id] += 1
            if self._tries[event_id] >= MAX_EVENT_TRIES:
                outcomes[event_id] = f"set aside for the catch-up polling after {MAX_EVENT_TRIES} tries: {exc}"
                del self._tries[event_id]

    def _leads(self, people: dict[str, list[int]], seen: dict[str, datetime]) -> dict[int, str]:
        """INCOMING_MESSAGE and SUBSCRIPTION: the people who match call-leads' filter become leads."""
        cfg = self.leads_cfg
        assert cfg is not None
        flow = call_leads.FLOW
        outcomes: dict[int, str] = {}
        known = self.ledger.known_keys(flow, "lead", list(people))
        for person_id, state in known.items():
            for event_id in people[person_id]:
                outcomes[event_id] = f"call-leads: already a lead ({state})"
        since = datetime.now(UTC) - parse_duration(cfg.last_message_within)
        region = self.config.phones.default_region

        def read(person_id: str) -> tuple[str, Any]:
            try:
                return person_id, self.ctx.leeloo.people.get(person_id)
            except NotFoundError:
                return person_id, None
            except LeadbridgeError as exc:
                return person_id, exc

        fresh = [person_id for person_id in people if person_id not in known]
        units: list[NewUnit] = []
        for person_id, person in parallel(fresh, read, self.ctx.parallelism):
            event_ids = people[person_id]
            if isinstance(person, Exception):
                self._failed_read(event_ids, person, outcomes)
                continue
            reason = "the person is not in Leeloo" if person is None else \
                call_leads.mismatch(cfg, person, since, seen.get(person_id))
            if reason is not None:
                for event_id in event_ids:
                    outcomes[event_id] = f"nothing to trigger: not a lead for call-leads ({reason})"
                continue
            units.append(call_leads.lead_unit(cfg, person, region))
        added = self.ledger.add_units(flow, "lead", units)
        states = {unit.key: unit for unit in added.added}
        for unit in units:
            new = states.get(unit.key)
            for event_id in people[unit.key]:
                if new is None:
                    outcomes[event_id] = "call-leads: already a lead"
                elif new.state == "pending":
                    outcomes[event_id] = f"call-leads: lead {new.payload['phone']} queued"
                else:
                    outcomes[event_id] = f"call-leads: lead skipped ({new.error})"
        if any(unit.state == "pending" for unit in added.added) and self._lead_deadline is None:
            self._lead_deadline = time.monotonic() + self.window
        return outcomes

    def _make_campaigns(self) -> None:
        """The leads gathered during the batching window (and any other waiting lead) into campaigns."""
        cfg = self.leads_cfg
        assert cfg is not None
        self._lead_deadline = None
        report = self.ctx.report(call_leads.FLOW)
        while leads := self.ledger.claim(call_leads.FLOW, "lead", cfg.batch_size, parent="none"):
            if not call_leads.create_campaign(self.ctx, cfg, leads, self.tag_id, report):
                self._lead_deadline = time.monotonic() + max(self.window, 5.0)  # refused: try again later
                break
        self.ledger.flush()
        self._report(report)

    def _sales(self, sales: list[tuple[int, webhooks.SaleEvent]]) -> dict[int, str]:
        """SALE: the order's person's paid total goes to revenue-to-neiros' unit for that person, processed now."""
        cfg = self.revenue_cfg
        assert cfg is not None
        flow = revenue_to_neiros.FLOW
        report = self.ctx.report(flow)
        outcomes: dict[int, str] = {}
        if time.monotonic() - self._deals_indexed_at >= DEAL_INDEX_SECONDS:
            self._sites = revenue_to_neiros.index_deals(self.ctx, cfg, report)
            self._deals_indexed_at = time.monotonic()
        for event_id, event in sales:
            if not event.data.account_id:
                outcomes[event_id] = "nothing to trigger: the sale names no account (the catch-up polling sees it)"
                continue
            try:
                # The sale names the buyer's messenger account; its person's card links their orders, and
                # each order's own read gives what polling's list gives (status, price, creation time).
                person = self.ctx.leeloo.channels.person(event.data.account_id)
                linked = [link.id for link in person.links.get("orders", [])]
                orders = revenue_to_neiros.paid_orders(
                    cfg, list(parallel(linked, self.ctx.leeloo.orders.get, self.ctx.parallelism)))
            except NotFoundError:
                outcomes[event_id] = "nothing to trigger: the sale's account is not in Leeloo"
                continue
            except LeadbridgeError as exc:
                self._failed_read([event_id], exc, outcomes)
                continue
            if not orders:
                outcomes[event_id] = "nothing to trigger: Leeloo shows no paid order of the person yet"
                continue
            total = revenue_to_neiros.person_total(orders)
            self.ledger.add_units(flow, "order", [NewUnit(o.id, {"person_id": person.id, "price": o.price},
                                                          state="done") for o in orders if o.id])
            added = self.ledger.add_units(flow, "person", [NewUnit(person.id, total)])
            if not added.added:
                self.ledger.reopen(flow, "person", person.id, total)
            unit = claim_unit(self.ledger, flow, "person", person.id)
            if unit is None:
                outcomes[event_id] = f"revenue-to-neiros: total {total['total']} already sent (or being sent)"
                continue
            state = settle(self.ledger, unit, report, lambda unit=unit: revenue_to_neiros.process(  # type: ignore
                self.ctx, cfg, unit, self._sites, report), f"person {unit.key}")
            self.ledger.flush()
            outcomes[event_id] = f"revenue-to-neiros: total {total['total']} {state}"
        self._report(report)
        return outcomes

    def _report(self, report: FlowReport) -> None:
        counts = ", ".join(f"{what} {count}" for what, count in report.counts.items() if count)
        if counts:
            stamp = datetime.now(UTC).strftime("%H:%M:%S")
            self.console.print(f"{stamp} {report.flow}: {counts}", highlight=False, soft_wrap=True)
        for level, message in report.messages[:20]:
            self.console.print(f"{report.flow} {level}: {message}", highlight=False, soft_wrap=True, markup=False)

    # --- the catch-up polling -----------------------------------------------------------

    def _catch_up_loop(self) -> None:
        from leadbridge.flows.runner import failures, run_flows

        names = self.config.enabled_flows()
        while not self.stop.is_set():
            try:
                reports = run_flows(self.config, names, console=self.console, workers=self.ctx.workers,
                                    show_progress=False, stop=self.stop)
            except Exception as exc:  # whatever failed, the next round tries again
                self.console.print(f"[yellow]catch-up run failed ({type(exc).__name__}: {exc}); next in "
                                   f"{self.every:.0f}s[/]", highlight=False)
            else:
                done = sum(sum(v for k, v in r.counts.items() if k not in ("seconds",)) for r in reports)
                problem = failures(reports)
                self.console.print(f"{datetime.now(UTC):%H:%M:%S} catch-up run: {len(reports)} flows, "
                                   f"{done} things counted{'; ' + problem if problem else ''}", highlight=False)
            self.stop.wait(self.every)

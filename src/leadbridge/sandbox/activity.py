"""A living sandbox: the demo tenant's world moves on its own, on the sandbox clock.

``leadbridge sandbox --activity calm|busy|N`` (N events a minute of sandbox time): new
people subscribe through the tunnels' lead-generation tools, people write to the bot,
orders are created and paid, and Neiros deals arrive with call records, part of their
phones those of Leeloo people. Every event goes through the same state functions as the
API, the console and the control API (so its webhooks are indistinguishable from theirs).

Deterministic from the seed: the times (exponential gaps from the start, in sandbox time),
kinds and choices of the events are drawn from one RNG seeded by the sandbox's seed, and
the candidates (accounts, people, offers, open orders) are kept in lists in a fixed order:
the seeded rows by id, then the rows the activity made in the order it made them. Only the
generated ids (which carry the time they were made) differ between two runs.

Time: events are produced up to the sandbox clock's "now", each with its own timestamp.
A task on the server's event loop catches up a few times a second (real-time clock);
``POST /_sandbox/clock/advance`` produces the events of the skipped time before it answers.
One catch-up makes at most :data:`MAX_CATCH_UP` events: the rest of a longer gap is skipped
(a ten-year jump does not hold the server for hours).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from leadbridge.sandbox import schema as s
from leadbridge.sandbox.leeloo import bodies
from leadbridge.sandbox.leeloo.backend import LeelooBackend
from leadbridge.sandbox.wire import ApiError, iso

if TYPE_CHECKING:
    from leadbridge.sandbox.state import Sandbox

PRESETS = {"calm": 6.0, "busy": 400.0}  # events a minute of sandbox time
MAX_RATE = 6000.0  # events a minute at most (N)
MAX_CATCH_UP = 20_000  # events one catch-up makes at most; a longer gap is skipped beyond them
TICK_SECONDS = 0.2  # how often the real-time task catches up
EVENTS_PER_YIELD = 25  # the task gives requests a turn after this many events
# The share of each kind of event. "busy" (400 a minute) feeds ~250 incoming messages a minute.
MIX = (("message", 0.62), ("subscribe", 0.14), ("order", 0.10), ("pay", 0.08), ("deal", 0.06))
MATCHING_DEAL_PHONES = 0.4  # the share of new deals whose phone is a Leeloo person's
MESSAGES = (
    "Здравствуйте! Сколько стоит?", "Добрый день, хочу записаться", "Какие есть варианты оплаты?",
    "Перезвоните мне, пожалуйста", "А доставка в мой город есть?", "Спасибо, подумаю", "Когда старт?",
    "Есть скидка?", "Можно подробнее?", "Хочу купить", "Не пришла ссылка на оплату", "Да, интересно",
)
NEIROS_CHANNELS = (("Звонок", "Яндекс.Директ"), ("Звонок", "Google Ads"), ("Звонок", "Органика"),
                   ("Звонок", "ВКонтакте"))


def parse_rate(value: str | float) -> float:
    """``calm``, ``busy`` or a number of events a minute (0 < N <= MAX_RATE); ValueError otherwise."""
    if isinstance(value, str):
        preset = PRESETS.get(value.strip().lower())
        if preset is not None:
            return preset
        try:
            value = float(value)
        except ValueError:
            raise ValueError(f"activity must be calm, busy or a number of events a minute, not {value!r}") from None
    if not (math.isfinite(value) and 0 < value <= MAX_RATE):
        raise ValueError(f"activity must be between 0 and {MAX_RATE:g} events a minute")
    return float(value)


class Activity:
    def __init__(self, sandbox: Sandbox, rate: str | float) -> None:
        self.sandbox = sandbox
        self.leeloo = LeelooBackend(sandbox)
        self.per_minute = parse_rate(rate)
        self.produced = 0
        self.skipped = 0
        self.next_at: datetime | None = None
        self._rng = random.Random()
        self._task: asyncio.Task[None] | None = None
        self.company_id = ""
        self.accounts: list[str] = []
        self.people: list[tuple[str, str | None]] = []  # (id, phone)
        self.leadgentools: list[str] = []
        self.offers: list[str] = []
        self.credits: list[str] = []
        self.open_orders: list[str] = []
        self.sites: list[int] = []

    # --- set-up --------------------------------------------------------------------------

    def begin(self) -> None:
        """Start (or restart, after a reset) from the sandbox clock's now, with a fresh RNG."""
        from leadbridge.sandbox.seed import TENANTS

        self._rng = random.Random(f"activity:{self.sandbox.seed}")
        self.company_id = cid = TENANTS[0].company_id
        with self.sandbox.read() as session:
            self.accounts = list(session.scalars(select(s.Account.id).where(s.Account.company_id == cid)
                                                 .order_by(s.Account.id)))
            self.people = [(r.id, r.phone) for r in session.execute(
                select(s.Person.id, s.Person.phone).where(s.Person.company_id == cid).order_by(s.Person.id))]
            self.leadgentools = list(session.scalars(
                select(s.TrafficSource.leadgentool_id).where(s.TrafficSource.company_id == cid)
                .group_by(s.TrafficSource.leadgentool_id).order_by(s.TrafficSource.leadgentool_id)))
            self.offers = list(session.scalars(select(s.Offer.id).where(s.Offer.company_id == cid)
                                               .order_by(s.Offer.id)))
            self.credits = list(session.scalars(select(s.PaymentCredits.id).where(
                s.PaymentCredits.company_id == cid, s.PaymentCredits.payment_method == "MANUAL")
                .order_by(s.PaymentCredits.id)))
            self.open_orders = list(session.scalars(select(s.Order.id).where(
                s.Order.company_id == cid, s.Order.status == "OPENED", s.Order.payment_method == "MANUAL")
                .order_by(s.Order.id)))
            self.sites = list(session.scalars(select(s.Site.id).where(s.Site.company_id == cid).order_by(s.Site.id)))
        self.produced = self.skipped = 0
        self.next_at = self.sandbox.now() + self._gap()

    def _gap(self) -> timedelta:
        return timedelta(seconds=self._rng.expovariate(self.per_minute / 60.0))

    # --- running ---------------------------------------------------------------------------

    def run_until(self, until: datetime, limit: int = MAX_CATCH_UP, *, skip: bool = True) -> int:
        """Produce every event due at or before ``until`` (sandbox time), in order; at most
        ``limit`` of them, then skip the rest of the gap (or, with ``skip`` false, leave it for
        the next call). Returns how many were produced."""
        if self.next_at is None:
            self.begin()
        assert self.next_at is not None
        made = 0
        while self.next_at <= until:
            if made >= limit:
                if skip:
                    self._skip_to(until)
                break
            self._one(self.next_at)
            made += 1
            self.next_at += self._gap()
        return made

    def _skip_to(self, until: datetime) -> None:
        """Skip the events of the rest of the gap: the next one comes a gap after ``until``."""
        assert self.next_at is not None
        expected = (until - self.next_at).total_seconds() / 60 * self.per_minute
        self.skipped += int(expected)
        self.next_at = until + self._gap()

    async def run(self) -> None:
        """The real-time task: catch up with the clock a few times a second, giving requests
        a turn between small batches (handlers and this task share one event loop, so the
        database is never used by two at once)."""
        while True:
            now = self.sandbox.now()
            if self.next_at is not None and (now - self.next_at).total_seconds() * self.per_minute / 60 > MAX_CATCH_UP:
                self._skip_to(now)
            while self.run_until(now, EVENTS_PER_YIELD, skip=False) == EVENTS_PER_YIELD:
                await asyncio.sleep(0)
            await asyncio.sleep(TICK_SECONDS)

    def start_task(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run(), name="sandbox-activity")

    async def stop_task(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- events ----------------------------------------------------------------------------

    def _one(self, at: datetime) -> None:
        roll = self._rng.random()
        kind = MIX[-1][0]
        for name, share in MIX:
            if roll < share:
                kind = name
                break
            roll -= share
        # A refused event (e.g. the API resolved that order meanwhile) is rolled back: no webhook.
        with contextlib.suppress(ApiError):
            getattr(self, f"_{kind}")(at)
        self.produced += 1

    def _pick(self, items: list[Any]) -> Any:
        return items[self._rng.randrange(len(items))] if items else None

    def _message(self, at: datetime) -> None:
        from leadbridge.sandbox import world

        account_id = self._pick(self.accounts)
        text = self._rng.choice(MESSAGES)
        if account_id is not None:
            world.add_incoming_message(self.sandbox, account_id, text, now=at)

    def _subscribe(self, at: datetime) -> None:
        from faker.providers.person.ru_RU import Provider as PersonProvider

        rng = self._rng
        leadgentool_id = self._pick(self.leadgentools)
        pool = (PersonProvider.first_names_male, PersonProvider.last_names_male) if rng.random() < 0.5 else \
            (PersonProvider.first_names_female, PersonProvider.last_names_female)
        name = f"{rng.choice(pool[0])} {rng.choice(pool[1])}"
        phone = f"+79{rng.randrange(10**9):09d}" if rng.random() < 0.85 else None
        email = f"lead{rng.randrange(10**8):08d}@example.ru" if rng.random() < 0.6 else None
        if leadgentool_id is None:
            return
        body = bodies.CreatePerson(name=name, phone=phone, email=email, leadgentool_id=leadgentool_id)
        made = self.leeloo.at(at).create_person(self.company_id, body)
        self.accounts.append(made["id"])
        self.people.append((made["person_id"], phone))

    def _order(self, at: datetime) -> None:
        person = self._pick(self.people)
        offer_id, credits_id = self._pick(self.offers), self._pick(self.credits)
        if person is None or offer_id is None or credits_id is None:
            return
        body = bodies.CreateOrder(personId=person[0], offerId=offer_id, paymentCreditsId=credits_id)
        made = self.leeloo.at(at).create_order(self.company_id, body)
        self.open_orders.append(made["id"])

    def _pay(self, at: datetime) -> None:
        if not self.open_orders:
            return
        order_id = self.open_orders.pop(self._rng.randrange(len(self.open_orders)))
        self.leeloo.at(at).update_manual_order(self.company_id, order_id, bodies.UpdateManualOrder(status="RESOLVED"))

    def _deal(self, at: datetime) -> None:
        from leadbridge.sandbox.neiros.backend import add_deal

        rng = self._rng
        site_id = self._pick(self.sites)
        person = self._pick([p for p in self.people[-500:] if p[1]]) if rng.random() < MATCHING_DEAL_PHONES else None
        phone = person[1].lstrip("+") if person else f"79{rng.randrange(10**9):09d}"
        canal, traffic = rng.choice(NEIROS_CHANNELS)
        duration = rng.randrange(5, 600)
        record = f"https://audio.neiros.ru/{rng.getrandbits(128):032x}.mp3"
        visit = f"{rng.getrandbits(96):024x}"
        if site_id is not None:
            with self.sandbox.write(self.company_id) as session:
                add_deal(session, self.company_id, site_id, at, phone=phone, duration=duration, record=record,
                         canal=canal, traffic=traffic, neiros_visit=visit)

    def status(self) -> dict[str, Any]:
        return {"per_minute": self.per_minute, "produced": self.produced, "skipped": self.skipped,
                "next_at": iso(self.next_at)}


"""Dialog's state: campaigns that really run on the sandbox clock, and their report.

A campaign's calls are a pure function of its schedule, its phone list and the sandbox
seed (:func:`plan_calls`), so nothing runs in the background: whenever a campaign is
read, the planned calls whose start time has come are stored (:func:`materialise`),
once, in the reader's transaction. Reading twice gives the same calls.

Schedule rules (all times UTC):

- calls are placed only inside the daily window ``start_time``–``end_time``, on the
  campaign's ``date`` and the days after it; a window that closes carries on in the next
  day's window;
- a campaign whose window has already passed when it is created (the document's example
  uses 2000-01-01) starts at the next window from its creation time, or at once if it is
  created inside a window;
- numbers are called in the order of the phone list, one call every
  :data:`CALL_PACE_SECONDS`; a number whose call was not answered (no answer, busy,
  voicemail) is called again ``interval`` minutes after that call's start, at the first
  free slot, up to ``attempts`` calls in all.
"""

from __future__ import annotations

import heapq
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from leadbridge.sandbox import fastsql
from leadbridge.sandbox import schema as s
from leadbridge.sandbox.dialog import report
from leadbridge.sandbox.seed import DIALOG_CAMPAIGN_BASE_KEY, DIALOG_FIRST_CAMPAIGN_ID
from leadbridge.sandbox.state import RawTransaction, Sandbox, db_json, db_time, from_db_json, run_sql, run_sql_many
from leadbridge.sandbox.wire import ApiError, not_found

CALL_PACE_SECONDS = 30
STATE_CREATED = "Создано"
STATE_RUNNING = "В работе"
STATE_FINISHED = "Завершено"
# Outcome weights of one call attempt.
OUTCOMES = (("answered", 55), ("no_answer", 25), ("busy", 10), ("voicemail", 10))
RETRIED_OUTCOMES = frozenset({"no_answer", "busy", "voicemail"})
GOAL_SHARE = 0.4


@dataclass(frozen=True)
class Schedule:
    day: date
    start: time
    end: time
    attempts: int
    interval: timedelta

    def window(self, day: date) -> tuple[datetime, datetime]:
        return datetime.combine(day, self.start), datetime.combine(day, self.end)

    def slot_at_or_after(self, moment: datetime) -> datetime:
        """The earliest instant at or after ``moment`` inside a window of the campaign."""
        day = max(moment.date(), self.day)
        while True:
            opens, closes = self.window(day)
            if moment < closes:
                return max(moment, opens)
            day += timedelta(days=1)

    @classmethod
    def of(cls, campaign: s.Campaign) -> Schedule:
        return cls(
            day=date.fromisoformat(campaign.date),
            start=time.fromisoformat(campaign.start_time),
            end=time.fromisoformat(campaign.end_time),
            attempts=campaign.attempts,
            interval=timedelta(minutes=campaign.interval_minutes),
        )


@dataclass(frozen=True)
class PlannedCall:
    campaign_phone_id: int
    phone: str
    attempt: int
    started_at: datetime
    outcome: str
    duration: int
    goal_reached: bool
    transcript: str


def first_call_at(schedule: Schedule, created_at: datetime) -> datetime:
    not_before = created_at.replace(microsecond=0) + timedelta(seconds=1 if created_at.microsecond else 0)
    return schedule.slot_at_or_after(max(not_before, datetime.combine(schedule.day, schedule.start)))


def draw_call(seed: int, campaign_id: int, phone: str, attempt: int, add_data: dict[str, Any]) -> tuple[
    str, int, bool, str
]:
    """Outcome, duration (s), goal reached and transcript of one attempt: the same for the same inputs."""
    rng = random.Random(f"dialog:{seed}:{campaign_id}:{phone}:{attempt}")
    outcome = rng.choices([name for name, _ in OUTCOMES], weights=[weight for _, weight in OUTCOMES])[0]
    name = str(add_data.get("name") or "").strip()
    greeting = f"Здравствуйте, {name}!" if name else "Здравствуйте!"
    if outcome == "answered":
        goal = rng.random() < GOAL_SHARE
        rating = rng.choice(("5", "4", "Пять", "Наверное, четыре", "Три"))
        meeting = str(add_data.get("time") or rng.choice(("10:00", "12:30", "15:00", "17:30")))
        lines = [
            f"Бот: {greeting} Это голосовой помощник. Удобно сейчас говорить?",
            rng.choice(("Клиент: Да, слушаю.", "Клиент: Да, удобно.", "Клиент: Говорите.")),
            "Бот: Оцените, пожалуйста, качество нашего сервиса от 1 до 5.",
            f"Клиент: {rating}.",
            f"Бот: Спасибо! Можем назначить встречу с менеджером на {meeting}?",
            f"Клиент: Да, {meeting} подходит." if goal else "Клиент: Нет, спасибо, не нужно.",
            "Бот: Отлично, ждём вас. До свидания!" if goal else "Бот: Поняла вас. Хорошего дня!",
        ]
        return outcome, rng.randrange(20, 301), goal, "\n".join(lines)
    if outcome == "voicemail":
        lines = [
            "Автоответчик: Абонент не может ответить. Оставьте сообщение после сигнала.",
            f"Бот: {greeting} Мы перезвоним вам позже.",
        ]
        return outcome, rng.randrange(8, 31), False, "\n".join(lines)
    return outcome, 0, False, ""


def plan_calls(seed: int, campaign: s.Campaign, phones: list[s.CampaignPhone]) -> list[PlannedCall]:
    """Every call the campaign will place, in the order placed (see the module's rules)."""
    schedule = Schedule.of(campaign)
    pace = timedelta(seconds=CALL_PACE_SECONDS)
    first = first_call_at(schedule, campaign.created_at)
    # (due, position, attempt): first attempts fall due one pace apart, in list order;
    # a retry falls due `interval` after the previous attempt started.
    due: list[tuple[datetime, int, int]] = [(first + pace * i, i, 1) for i in range(len(phones))]
    heapq.heapify(due)
    calls: list[PlannedCall] = []
    previous: datetime | None = None
    while due:
        due_at, position, attempt = heapq.heappop(due)
        earliest = due_at if previous is None else max(due_at, previous + pace)
        started = schedule.slot_at_or_after(earliest)
        phone = phones[position]
        outcome, duration, goal, transcript = draw_call(seed, campaign.id, phone.phone, attempt, phone.add_data)
        calls.append(PlannedCall(phone.id, phone.phone, attempt, started, outcome, duration, goal, transcript))
        previous = started
        if outcome in RETRIED_OUTCOMES and attempt < schedule.attempts:
            heapq.heappush(due, (started + schedule.interval, position, attempt + 1))
    return calls


def campaign_phones(session: Session, campaign_id: int) -> list[s.CampaignPhone]:
    return list(session.scalars(
        select(s.CampaignPhone).where(s.CampaignPhone.campaign_id == campaign_id).order_by(s.CampaignPhone.position)
    ))


def materialise(seed: int, session: Session, campaign: s.Campaign, now: datetime) -> None:
    """Store the planned calls that have started by ``now`` and move the campaign's state."""
    if campaign.state == STATE_FINISHED:
        return
    plan = plan_calls(seed, campaign, campaign_phones(session, campaign.id))
    stored = session.scalar(select(func.count()).where(s.DialogCall.campaign_id == campaign.id)) or 0
    started = [call for call in plan[stored:] if call.started_at <= now]
    if started:
        session.execute(insert(s.DialogCall), [
            {
                "company_id": campaign.company_id, "campaign_id": campaign.id,
                "campaign_phone_id": call.campaign_phone_id, "attempt": call.attempt,
                "started_at": call.started_at, "outcome": call.outcome, "duration": call.duration,
                "goal_reached": call.goal_reached, "transcript": call.transcript,
            }
            for call in started
        ])
    placed = stored + len(started)
    campaign.simulated_until = now
    campaign.state = STATE_FINISHED if placed == len(plan) else STATE_RUNNING if placed else STATE_CREATED


def next_campaign_id(transaction: RawTransaction, company_id: str) -> int:
    """The tenant's next id in its own range (the demo tenant's starts at 12345), globally unique."""
    base_row = run_sql(transaction, fastsql.SANDBOX_STATE_VALUE, {"key": DIALOG_CAMPAIGN_BASE_KEY + company_id})
    global_top: int | None = run_sql(transaction, fastsql.TOP_CAMPAIGN, {})[0][0]
    if not base_row:
        return max(global_top or 0, DIALOG_FIRST_CAMPAIGN_ID - 1) + 1
    base = int(base_row[0][0])
    own_top: int | None = run_sql(transaction, fastsql.TOP_CAMPAIGN_OF_COMPANY,
                                  {"company": company_id, "base": base})[0][0]
    candidate = (own_top + 1) if own_top is not None else base
    if run_sql(transaction, fastsql.CAMPAIGN_EXISTS, {"campaign": candidate}):
        candidate = (global_top or 0) + 1
    return candidate


def campaign_summary(session: Session, campaign: s.Campaign) -> dict[str, Any]:
    placed = session.scalar(select(func.count()).where(s.DialogCall.campaign_id == campaign.id)) or 0
    numbers = session.scalar(select(func.count()).where(s.CampaignPhone.campaign_id == campaign.id)) or 0
    return {
        "id": campaign.id,
        "project_id": campaign.project_id,
        "name": campaign.name,
        "description": campaign.description,
        "start_block_id": campaign.start_block_id,
        "phone_id": campaign.phone_id,
        "schedule": {
            "date": campaign.date,
            "start_time": campaign.start_time,
            "end_time": campaign.end_time,
            "periods": {"id": 1, "title": "Однократно"},
            "attempts": {"id": campaign.attempts, "title": str(campaign.attempts)},
            "interval": str(campaign.interval_minutes),
        },
        "state": campaign.state,
        "phones_count": numbers,
        "calls_count": placed,
    }


# --- the backend the routes call: each method one transaction -----------------------------


@dataclass(frozen=True)
class NewCampaign:
    """A campaign as the create call describes it, already checked for form (routes)."""

    project_id: int
    name: str | None
    description: str | None
    start_block_id: int
    phone_id: int
    date: str
    start_time: str
    end_time: str
    attempts: int
    interval_minutes: int
    phones: Sequence[tuple[str, dict[str, Any]]] = field(default=())  # (number, add_data) in call order


@dataclass(frozen=True)
class ReportFilter:
    """The report's ``analytics_filter``, its instants already read (UTC, both inclusive)."""

    project_id: int
    scenario_id: int
    start_block_id: int
    campaign_id: int
    start: datetime
    end: datetime


class DialogBackend:
    """Dialog's state of one sandbox: what the routes ask, each in its own transaction.

    A read of a campaign writes (the calls whose time has come are stored), so the reads of
    campaigns and reports open a write transaction of the tenant.
    """

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def login(self, login: str, password: str) -> tuple[str, str]:
        """``(company id, a fresh Bearer token)`` of a login, or a 401 as FastAPI's OAuth2 tutorial words it."""
        with self.sandbox.read() as session:
            company = session.scalar(select(s.Company).where(s.Company.dialog_login == login.strip()))
            if company is None or not secrets.compare_digest(company.dialog_password.encode(), password.encode()):
                raise ApiError(401, "Incorrect username or password", headers={"WWW-Authenticate": "Bearer"})
            company_id = company.id
        return company_id, self.sandbox.issue_token(s.DialogToken, company_id)

    def create_campaign(self, company_id: str, new: NewCampaign) -> int:
        """Store the campaign and its phone list, in one transaction on the sandbox's write path
        (``Sandbox.raw_write``); returns its id."""
        with self.sandbox.raw_write(company_id) as transaction:
            params = _start_block_params(transaction, company_id, new)
            _check_add_data(params, new)
            campaign_id = next_campaign_id(transaction, company_id)
            run_sql(transaction, fastsql.INSERT_CAMPAIGN, {
                "campaign": campaign_id, "company": company_id, "dialog_project": new.project_id, "name": new.name,
                "description": new.description, "start_block": new.start_block_id, "caller_phone": new.phone_id,
                "date": new.date, "start_time": new.start_time, "end_time": new.end_time, "attempts": new.attempts,
                "interval_minutes": new.interval_minutes, "state": STATE_CREATED,
                "now": db_time(transaction, self.sandbox.now()),
            })
            # One executemany rather than a statement per number: a list of 10,000 numbers (the
            # bound) takes a fraction of a second instead of holding the server for many.
            run_sql_many(transaction, fastsql.INSERT_CAMPAIGN_PHONE, [
                {"campaign": campaign_id, "position": position, "phone": phone,
                 "add_data": db_json(transaction, add_data)}
                for position, (phone, add_data) in enumerate(new.phones)
            ])
            return campaign_id

    def campaign(self, company_id: str, campaign_id: int) -> dict[str, Any]:
        """A campaign's schedule, state and progress, its due calls placed first."""
        with self.sandbox.write(company_id) as session:
            campaign = _campaign(session, company_id, campaign_id)
            materialise(self.sandbox.seed, session, campaign, self.sandbox.now())
            return campaign_summary(session, campaign)

    def report(self, company_id: str, wanted: ReportFilter, columns: list[report.ColumnRequest]) -> dict[str, Any]:
        """The analytics report of a campaign's dialogs; each id of the filter must be the tenant's and
        belong to the one before it (a 404 naming it otherwise)."""
        with self.sandbox.write(company_id) as session:
            project = session.get(s.DialogProject, wanted.project_id)
            if project is None or project.company_id != company_id:
                raise not_found(f"Project {wanted.project_id}")
            scenario = session.get(s.DialogScenario, wanted.scenario_id)
            if scenario is None or scenario.project_id != project.id:
                raise not_found(f"Scenario {wanted.scenario_id}")
            block = session.get(s.DialogStartBlock, wanted.start_block_id)
            if block is None or block.scenario_id != scenario.id:
                raise not_found(f"Start block {wanted.start_block_id}")
            campaign = _campaign(session, company_id, wanted.campaign_id)
            if campaign.project_id != project.id:
                raise not_found(f"Campaign {wanted.campaign_id}")
            materialise(self.sandbox.seed, session, campaign, self.sandbox.now())
            found, rows = report.load_rows(session, report.Window(campaign.id, wanted.start, wanted.end))
            if campaign.start_block_id != block.id:
                rows = []
            return report.build_report(found, rows, columns)


def _campaign(session: Session, company_id: str, campaign_id: int) -> s.Campaign:
    campaign = session.get(s.Campaign, campaign_id)
    if campaign is None or campaign.company_id != company_id:
        raise not_found(f"Campaign {campaign_id}")
    return campaign


def _start_block_params(transaction: RawTransaction, company_id: str, new: NewCampaign) -> list[str]:
    """The parameters of the campaign's start block, once the project, start block and caller
    phone are found to be the tenant's and to belong together (a 422 naming the field otherwise)."""
    project = run_sql(transaction, fastsql.DIALOG_PROJECT_COMPANY, {"dialog_project": new.project_id})
    if not project or project[0][0] != company_id:
        raise ApiError(422, f"project {new.project_id} not found", field="campaign.project_id")
    block = run_sql(transaction, fastsql.DIALOG_START_BLOCK_PARAMS,
                    {"start_block": new.start_block_id, "dialog_project": new.project_id})
    if not block:
        raise ApiError(422, f"start block {new.start_block_id} is not a start block of project {new.project_id}'s "
                       "scenarios", field="campaign.start_block_id")
    phone = run_sql(transaction, fastsql.DIALOG_CALLER_PHONE_PROJECT, {"caller_phone": new.phone_id})
    if not phone or phone[0][0] != new.project_id:
        raise ApiError(422, f"caller phone {new.phone_id} not found in project {new.project_id}",
                       field="campaign.phone_id")
    return list(from_db_json(block[0][0]) or [])


def _check_add_data(params: list[str], new: NewCampaign) -> None:
    """Each number's ``add_data`` may only name parameters of the start block."""
    known = set(params)
    for index, (_, add_data) in enumerate(new.phones):
        for key in add_data:
            if key not in known:
                field = f"phones.{index}.add_data.{key}"
                raise ApiError(422, f"{field}: not a parameter of start block {new.start_block_id} "
                               f"(its parameters: {', '.join(sorted(known))})", field=field)

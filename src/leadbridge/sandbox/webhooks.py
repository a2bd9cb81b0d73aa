"""Leeloo's webhooks: per-company settings, emission after commit, delivery in the background.

A company turns webhooks on with one URL and a set of events (ORDER, SALE, SUBSCRIPTION,
INCOMING_MESSAGE), as Leeloo's API settings do. The state code calls :func:`emit` where
each cause happens; the event is queued only once its transaction has committed, so a
refused or rolled-back write never sends anything. Delivery runs on a few worker threads
owned by the :class:`Webhooks` of the sandbox, never on the request path:

- at least once: a failed attempt (connection error, timeout, any non-2xx answer) is
  retried with exponential backoff, up to :attr:`RetryPolicy.max_attempts` attempts;
- bounded: at most :data:`QUEUE_MAX` deliveries wait at once; an event that finds the queue
  full is not queued but logged at once as ``failed`` ("queue full"), the write itself is
  never held up;
- logged: the newest :data:`LOG_MAX` deliveries, pending or done, in :attr:`Webhooks.log`;
- disturbed on demand: faults with ``target: "webhooks"`` (``POST /_sandbox/faults``)
  delay, drop, duplicate or fail deliveries whose event type matches their pattern.

With no company's webhook enabled, :func:`emit` costs one dictionary lookup and nothing
else: no thread is started, no event built.
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from leadbridge.contract.leeloo import WEBHOOK_EVENTS as EVENT_TYPES
from leadbridge.sandbox import schema as s
from leadbridge.sandbox.state import RawTransaction, Sandbox
from leadbridge.sandbox.wire import ApiError, iso, new_oid

URL_MAX = 2048
QUEUE_MAX = 10_000  # deliveries waiting (first attempts and retries together)
LOG_MAX = 10_000  # deliveries kept in the log, newest first
WORKERS = 4  # concurrent deliveries: one slow receiver does not hold up the rest
ERROR_MAX = 300  # characters of an error kept in the log
DELIVERY_HEADER = "X-Sandbox-Delivery"
SESSION_KEY = "webhooks"  # where a sandbox session finds the Webhooks (sessionmaker info)
_PENDING_KEY = "webhook_events"


@dataclass
class RetryPolicy:
    """Attempt n (1-based) that fails is retried after ``base * 2**(n-1)`` seconds, at most ``cap``."""

    base_seconds: float = 0.5
    cap_seconds: float = 60.0
    max_attempts: int = 8
    timeout_seconds: float = 5.0

    def backoff(self, attempts: int) -> float:
        return float(min(self.cap_seconds, self.base_seconds * 2 ** (attempts - 1)))


@dataclass
class Delivery:
    id: str
    company_id: str
    event_type: str
    url: str
    body: bytes
    created_at: datetime  # sandbox time of the event
    attempts: int = 0
    state: str = "pending"  # pending | delivered | failed
    last_status: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    duplicate: bool = field(default=False, repr=False)  # a copy an injected fault sends

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "company_id": self.company_id, "event_type": self.event_type, "url": self.url,
            "attempts": self.attempts, "state": self.state, "last_status": self.last_status,
            "last_error": self.last_error, "created_at": iso(self.created_at),
            "delivered_at": iso(self.delivered_at), "body": orjson.loads(self.body),
        }


def check_url(url: str) -> str:
    url = url.strip()
    if len(url) > URL_MAX:
        raise ApiError(422, f"url is longer than {URL_MAX} characters", field="url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApiError(422, "url must be an http or https URL with a host", field="url")
    import httpx

    try:
        # The host as a delivery meets it: read by httpx both ways (its IDNA form, and back, as
        # the Host header is made), then as the socket layer looks it up (which refuses an empty
        # label, as in "a..b").
        parsed = httpx.URL(url)
        _ = parsed.host
        parsed.raw_host.decode("ascii").encode("idna")
    except (httpx.InvalidURL, UnicodeError) as exc:
        raise ApiError(422, f"url has no valid host name: {exc}"[:200], field="url") from exc
    return url


def check_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise ApiError(422, f"events: unknown {', '.join(unknown)} (allowed: {', '.join(EVENT_TYPES)})",
                       field="events")
    return [kind for kind in EVENT_TYPES if kind in events]


def emit(target: Session | RawTransaction, company_id: str, event_type: str,
         build: Callable[[], dict[str, Any]]) -> None:
    """Send ``{"type": event_type, "data": build()}`` to the company's webhook once ``target`` (a
    session or a hand-written SQL transaction) commits, never if it rolls back. ``build`` runs
    now, inside the transaction, and only when the company listens for this event."""
    if isinstance(target, RawTransaction):
        if target.listens(company_id, event_type):
            target.events.append((company_id, event_type, build()))
        return
    hooks: Webhooks | None = target.info.get(SESSION_KEY)
    if hooks is None or not hooks.wants(company_id, event_type):
        return
    pending: list[tuple[str, str, dict[str, Any]]] | None = target.info.get(_PENDING_KEY)
    if pending is None:
        pending = target.info[_PENDING_KEY] = []
        event.listen(target, "after_commit", _after_commit)
    pending.append((company_id, event_type, build()))


def _after_commit(session: Session) -> None:
    hooks: Webhooks | None = session.info.get(SESSION_KEY)
    pending = session.info.pop(_PENDING_KEY, None) or []
    if hooks is not None:
        for company_id, event_type, data in pending:
            hooks.enqueue(company_id, event_type, data)


@dataclass(frozen=True)
class Listening:
    url: str
    events: frozenset[str]


class Webhooks:
    """The webhook settings (cached), the delivery queue, its workers and the delivery log."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.policy = RetryPolicy()
        # company id -> what it listens for; only enabled companies with events are here.
        self.listening: dict[str, Listening] = {}
        self.log: deque[Delivery] = deque(maxlen=LOG_MAX)
        self._queue: list[tuple[float, int, Delivery]] = []  # (due, order, delivery): a heap
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._workers: list[threading.Thread] = []
        self._stopping = False
        self._rng = random.Random(f"webhooks:{sandbox.seed}")

    # --- settings ------------------------------------------------------------------------

    def wants(self, company_id: str, event_type: str) -> bool:
        listening = self.listening.get(company_id)
        return listening is not None and event_type in listening.events

    def load(self) -> None:
        """Read every company's settings into the cache (at start and after a reset)."""
        with self.sandbox.read() as session:
            rows = session.execute(select(s.WebhookSetting.company_id, s.WebhookSetting.enabled,
                                          s.WebhookSetting.url, s.WebhookSetting.events)).all()
        self.listening = {
            company_id: Listening(url, frozenset(events.split(",")) - {""})
            for company_id, enabled, url, events in rows if enabled and url and events
        }

    def settings(self, company_id: str | None = None) -> list[dict[str, Any]]:
        with self.sandbox.read() as session:
            query = select(s.Company.id, s.WebhookSetting.enabled, s.WebhookSetting.url, s.WebhookSetting.events) \
                .outerjoin(s.WebhookSetting, s.WebhookSetting.company_id == s.Company.id).order_by(s.Company.id)
            if company_id is not None:
                query = query.where(s.Company.id == company_id)
            rows = session.execute(query).all()
        return [_settings_dict(cid, enabled, url, events) for cid, enabled, url, events in rows]

    def configure(self, company_id: str, *, enabled: bool, url: str, events: list[str]) -> dict[str, Any]:
        url = check_url(url)
        chosen = check_events(events)
        with self.sandbox.write(company_id) as session:
            if session.get(s.Company, company_id) is None:
                raise ApiError(404, "Company not found", field="company_id")
            session.merge(s.WebhookSetting(company_id=company_id, enabled=enabled, url=url, events=",".join(chosen)))
            if self.sandbox.shared:  # the other processes reload the settings at their next request
                from leadbridge.sandbox.state import WEBHOOKS_KEY  # state imports this module

                session.merge(s.SandboxState(key=WEBHOOKS_KEY, value=new_oid()))
        if enabled and chosen:
            self.listening[company_id] = Listening(url, frozenset(chosen))
        else:
            self.listening.pop(company_id, None)
        return _settings_dict(company_id, enabled, url, ",".join(chosen))

    # --- queue -----------------------------------------------------------------------------

    def enqueue(self, company_id: str, event_type: str, data: dict[str, Any]) -> None:
        listening = self.listening.get(company_id)
        if listening is None:
            return
        delivery = Delivery(id=new_oid(), company_id=company_id, event_type=event_type, url=listening.url,
                            body=orjson.dumps({"type": event_type, "data": data}), created_at=self.sandbox.now())
        self._schedule(delivery)

    def _schedule(self, delivery: Delivery) -> None:
        delay_ms, drop, duplicate = self._faults(delivery.event_type)
        with self._wake:
            self.log.appendleft(delivery)
            if drop:
                delivery.state, delivery.last_error = "failed", "dropped by an injected fault"
                return
            if len(self._queue) >= QUEUE_MAX:
                delivery.state, delivery.last_error = "failed", f"queue full ({QUEUE_MAX} deliveries waiting)"
                return
            due = time.monotonic() + delay_ms / 1000
            heapq.heappush(self._queue, (due, next(self._order), delivery))
            if duplicate:
                copy = Delivery(id=new_oid(), company_id=delivery.company_id, event_type=delivery.event_type,
                                url=delivery.url, body=delivery.body, created_at=delivery.created_at, duplicate=True)
                self.log.appendleft(copy)
                heapq.heappush(self._queue, (due + 0.05, next(self._order), copy))
            self._start_workers()
            self._wake.notify()

    def _faults(self, event_type: str) -> tuple[float, bool, bool]:
        """Injected delay (ms), drop and duplicate for a new delivery of ``event_type``."""
        delay, drop, duplicate = 0.0, False, False
        for fault in self.sandbox.faults:
            if fault.target != "webhooks" or fault.compiled.search(event_type) is None:
                continue
            delay += fault.latency_ms
            drop = drop or (fault.drop_rate > 0 and self._rng.random() < fault.drop_rate)
            duplicate = duplicate or (fault.duplicate_rate > 0 and self._rng.random() < fault.duplicate_rate)
        return delay, drop, duplicate

    def _injected_error(self, event_type: str) -> int | None:
        for fault in self.sandbox.faults:
            if fault.target == "webhooks" and fault.error_rate > 0 and fault.compiled.search(event_type) is not None:
                with self._wake:
                    roll = self._rng.random()
                if roll < fault.error_rate:
                    return fault.error_status
        return None

    def pending(self) -> int:
        with self._wake:
            return len(self._queue)

    def deliveries(self, company_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        with self._wake:
            chosen = [d for d in self.log if company_id is None or d.company_id == company_id][:limit]
            return [d.as_dict() for d in chosen]

    def redeliver(self, delivery_id: str) -> dict[str, Any]:
        """Send a logged delivery's event again: a new delivery (its own id, faults applied) to the
        company's webhook as it is set now, so a receiver that was down or misconfigured gets
        what it missed. A pending delivery is refused (it is retried on its own), and so is an
        event the company no longer listens for."""
        with self._wake:
            original = next((d for d in self.log if d.id == delivery_id), None)
            if original is None:
                raise ApiError(404, f"Delivery {delivery_id} not found", field="delivery_id")
            if original.state == "pending":
                raise ApiError(409, f"delivery {delivery_id} is still pending: it is retried on its own",
                               field="delivery_id")
            listening = self.listening.get(original.company_id)
            if listening is None or original.event_type not in listening.events:
                raise ApiError(409, f"company {original.company_id}'s webhook does not send "
                               f"{original.event_type} events now", field="delivery_id")
            again = Delivery(id=new_oid(), company_id=original.company_id, event_type=original.event_type,
                             url=listening.url, body=original.body, created_at=original.created_at)
            self._schedule(again)
            return again.as_dict()

    def clear(self) -> None:
        """Forget queued deliveries and the log (a reset)."""
        with self._wake:
            self._queue.clear()
            self.log.clear()

    # --- workers ---------------------------------------------------------------------------

    def _start_workers(self) -> None:
        """Start the delivery threads on first use (called holding the lock)."""
        if self._workers or self._stopping:
            return
        for n in range(WORKERS):
            worker = threading.Thread(target=self._work, name=f"sandbox-webhooks-{n}", daemon=True)
            self._workers.append(worker)
            worker.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the workers; deliveries still queued stay pending (the sandbox is closing)."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.join(timeout)
        with self._wake:
            self._stopping = False

    def _next(self) -> Delivery | None:
        with self._wake:
            while not self._stopping:
                if self._queue:
                    wait = self._queue[0][0] - time.monotonic()
                    if wait <= 0:
                        return heapq.heappop(self._queue)[2]
                    self._wake.wait(wait)
                else:
                    self._wake.wait()
            return None

    def _work(self) -> None:
        import httpx

        with httpx.Client(timeout=self.policy.timeout_seconds, follow_redirects=False, trust_env=False) as client:
            while (delivery := self._next()) is not None:
                self._attempt(client, delivery)

    def _attempt(self, client: Any, delivery: Delivery) -> None:
        import httpx

        delivery.attempts += 1
        status = self._injected_error(delivery.event_type)
        error: str | None = None
        if status is not None:
            error = f"HTTP {status} (injected fault)"
        else:
            try:
                response = client.post(delivery.url, content=delivery.body,
                                       headers={"Content-Type": "application/json",
                                                DELIVERY_HEADER: delivery.id})
                status = response.status_code
                if not 200 <= status < 300:
                    error = f"HTTP {status}"
            except httpx.TimeoutException:
                status, error = None, f"timed out after {self.policy.timeout_seconds:g} s"
            except httpx.HTTPError as exc:
                status, error = None, (f"{type(exc).__name__}: {exc}")[:ERROR_MAX]
            except Exception as exc:  # anything else fails this attempt, not the worker that makes it
                status, error = None, (f"{type(exc).__name__}: {exc}")[:ERROR_MAX]
        with self._wake:
            delivery.last_status, delivery.last_error = status, error
            if error is None:
                delivery.state, delivery.delivered_at = "delivered", self.sandbox.now()
            elif delivery.attempts >= self.policy.max_attempts:
                delivery.state = "failed"
            else:
                due = time.monotonic() + self.policy.backoff(delivery.attempts)
                heapq.heappush(self._queue, (due, next(self._order), delivery))
                self._wake.notify()


def _settings_dict(company_id: str, enabled: bool | None, url: str | None, events: str | None) -> dict[str, Any]:
    return {"company_id": company_id, "enabled": bool(enabled), "url": url or "",
            "events": [kind for kind in (events or "").split(",") if kind]}

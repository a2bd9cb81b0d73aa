"""Running units of work: guarded side effects, worker threads and the run report.

Every external side effect goes through :func:`perform_steps`: its ``intended`` state is
committed to the ledger before the call and ``done`` after it. When a unit is picked up
again (a re-run, or after its runner was killed) each step is decided from the ledger:

* ``done`` — never repeated;
* ``intended`` — the call may or may not have happened. A *repeatable* step (setting a
  tag, setting a sum) is simply made again; a *checkable* step asks the platform whether
  it happened; any other step becomes ``uncertain`` and the unit is shown to a person,
  never repeated and never dropped.

How a call ends decides the same way: only a refusal (``APIStatusError.refused``: a 4xx,
or an error envelope on a success status) means it did not happen, and the step may be
made again by a later run. A 5xx or a broken connection may have happened (checked, or
uncertain). A success whose answer the SDK cannot read (``ResponseValidationError``) did
happen: the step is recorded done with the raw answer, never made again.
"""

from __future__ import annotations

import json
import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from leadbridge.errors import APIConnectionError, APIStatusError, LeadbridgeError, ResponseValidationError
from leadbridge.flows.ledger import Effect, Ledger, Unit

T = TypeVar("T")
R = TypeVar("R")
MAX_MESSAGES = 200
# A flow reads a platform's list in pages of READ_PAGE, READ_CONCURRENCY at a time, and
# records what it found in the ledger RECORD_CHUNK units to a transaction.
READ_PAGE = 500
READ_CONCURRENCY = 4
RECORD_CHUNK = 500
RAW_BODY_CHARS = 2000


class Uncertain(Exception):
    """A side effect whose outcome cannot be known; the unit is marked uncertain."""


class StepFailed(Exception):
    """A side effect the platform refused (so it did not happen)."""


class Skip(Exception):
    """The unit cannot be processed for a reason a person should read (no phone, no person…)."""


@dataclass
class Step:
    """One external side effect of a unit.

    ``do`` makes the call and returns details worth keeping (ids); ``check`` answers
    whether an earlier, interrupted attempt took effect, given what ``before`` recorded
    with the intention; ``repeatable`` steps are safe to make twice. An unreadable success
    raised by ``do`` is taken for its write having happened, so a ``do`` that reads first
    turns an unreadable read into :class:`StepFailed`.
    """

    name: str
    do: Callable[[], dict[str, Any] | None]
    check: Callable[[dict[str, Any]], bool] | None = None
    before: Callable[[], dict[str, Any]] | None = None
    repeatable: bool = False
    label: str | None = None


@dataclass
class FlowReport:
    """What one flow did (or, on a dry run, would do)."""

    flow: str
    dry_run: bool = False
    counts: Counter[str] = field(default_factory=Counter)
    messages: list[tuple[str, str]] = field(default_factory=list)
    hidden_messages: int = 0
    seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, what: str, n: int = 1) -> None:
        with self._lock:
            self.counts[what] += n

    def note(self, level: str, text: str) -> None:
        """Record a message for the person running the flow (``warning``, ``error``, ``uncertain``…)."""
        with self._lock:
            if len(self.messages) < MAX_MESSAGES:
                self.messages.append((level, text))
            else:
                self.hidden_messages += 1


def _describe_error(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def perform_steps(ledger: Ledger, unit: Unit, steps: Iterable[Step], report: FlowReport) -> None:
    """Make each step of ``unit`` at most once, as the ledger decides (see module docstring)."""
    effects: dict[str, Effect] | None = None
    for step in steps:
        if effects is None:
            # A unit on its first claim has no effects yet: no need to ask the ledger.
            effects = {} if unit.attempts <= 1 else ledger.effects(unit.id)
        known = effects.get(step.name)
        if known is not None and known.state == "done":
            continue
        if known is not None and known.state == "uncertain":
            raise Uncertain(f"{step.name}: outcome unknown since an earlier run")
        if known is not None and known.state == "intended" and not step.repeatable:
            if step.check is None:
                ledger.mark(unit.id, step.name, "uncertain", known.detail,
                            "interrupted while calling the platform, which offers no way to check")
                raise Uncertain(f"{step.name}: interrupted mid-call and not checkable")
            if step.check(known.detail):
                ledger.mark(unit.id, step.name, "done", {**known.detail, "verified": True})
                report.count(f"{step.label or step.name} (verified after interruption)")
                continue
        detail = step.before() if step.before else {}
        ledger.mark(unit.id, step.name, "intended", detail)
        try:
            outcome = step.do()
        except APIStatusError as exc:
            if exc.refused:  # the platform said no: nothing happened, the next run may try again
                ledger.mark(unit.id, step.name, "failed", detail, _describe_error(exc))
                raise StepFailed(f"{step.name}: {_describe_error(exc)}") from exc
            _settle_maybe_happened(ledger, unit, step, detail, exc, report)
        except APIConnectionError as exc:
            _settle_maybe_happened(ledger, unit, step, detail, exc, report)
        except ResponseValidationError as exc:
            _settle_unreadable(ledger, unit, step, detail, exc, report)
        else:
            ledger.mark(unit.id, step.name, "done", {**detail, **(outcome or {})}, defer=True)
            report.count(step.label or step.name)


def _settle_maybe_happened(ledger: Ledger, unit: Unit, step: Step, detail: dict[str, Any], exc: LeadbridgeError,
                           report: FlowReport) -> None:
    """A server error or a broken connection: the call may have reached the platform.

    Returns when a check shows it did (the step is done); otherwise raises: a repeatable
    or checked-absent step failed (the next run makes it again), any other step is uncertain.
    """
    if step.repeatable:
        ledger.mark(unit.id, step.name, "failed", detail, _describe_error(exc))
        raise StepFailed(f"{step.name}: {_describe_error(exc)}") from exc
    if step.check is not None:
        if step.check(detail):
            ledger.mark(unit.id, step.name, "done", {**detail, "verified": True})
            report.count(step.label or step.name)
            return
        ledger.mark(unit.id, step.name, "failed", detail, _describe_error(exc))
        raise StepFailed(f"{step.name}: {_describe_error(exc)}") from exc
    ledger.mark(unit.id, step.name, "uncertain", detail, _describe_error(exc))
    raise Uncertain(f"{step.name}: {_describe_error(exc)}") from exc


def unreadable_detail(exc: ResponseValidationError) -> dict[str, Any]:
    """What the ledger keeps of a success the SDK could not read: its status, the problem, the raw body (cut)."""
    body = exc.body if isinstance(exc.body, str) else json.dumps(exc.body, ensure_ascii=False, default=str)
    return {"unreadable_response": exc.message[:300], "status": exc.status, "raw": body[:RAW_BODY_CHARS]}


def _settle_unreadable(ledger: Ledger, unit: Unit, step: Step, detail: dict[str, Any], exc: ResponseValidationError,
                       report: FlowReport) -> None:
    """A success status with a body the SDK could not read: the call happened, so it is never made again.

    A checkable step is checked (an answer that contradicts the success is uncertain); any
    other step is done, with the raw answer kept in the ledger for a person to read.
    """
    raw = {**detail, **unreadable_detail(exc)}
    if step.check is not None and not step.check(detail):
        ledger.mark(unit.id, step.name, "uncertain", raw, _describe_error(exc))
        raise Uncertain(f"{step.name}: the platform answered success ({exc.status}) but the effect "
                        f"cannot be found: {_describe_error(exc)}") from exc
    ledger.mark(unit.id, step.name, "done", raw)
    report.count(step.label or step.name)
    report.count("answers not readable (recorded as done)")
    report.note("warning", f"unit #{unit.id} {step.name}: the platform answered success but the answer could not "
                           f"be read ({_describe_error(exc)}); recorded as done, not repeated")


def settle(ledger: Ledger, unit: Unit, report: FlowReport, work: Callable[[], dict[str, Any] | None],
           describe: str) -> str:
    """Run ``work`` for a claimed unit and record the unit's final state from how it ended."""
    try:
        result = work()
    except Skip as exc:
        ledger.finish(unit.id, "skipped", error=str(exc))
        report.count("skipped")
        report.note("warning", f"{describe}: {exc}")
        return "skipped"
    except Uncertain as exc:
        ledger.finish(unit.id, "uncertain", error=str(exc))
        report.count("uncertain")
        report.note("uncertain", f"{describe}: {exc}")
        return "uncertain"
    except (StepFailed, LeadbridgeError) as exc:
        ledger.finish(unit.id, "failed", error=str(exc))
        report.count("failed")
        report.note("error", f"{describe}: {exc}")
        return "failed"
    ledger.finish(unit.id, "done", result=result, defer=True)
    report.count("done")
    return "done"


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of up to ``size`` items, so a stream is written to the ledger in batches."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def claimed(ledger: Ledger, flow: str, kind: str, batch: int = 200) -> Iterator[Unit]:
    """This runner's claims, one batch after another, taken only as the consumer needs them
    (so workers never idle between batches, and a second runner finds the rest unclaimed)."""
    while units := ledger.claim(flow, kind, batch):
        for unit in units:
            if ledger.stopping.is_set():  # the rest of the batch goes back to pending (Ledger.release_claims)
                return
            yield unit


def parallel(items: Iterable[T], work: Callable[[T], R], workers: int,
             finish: Callable[[], None] | None = None) -> Iterator[R]:
    """Apply ``work`` to ``items`` on ``workers`` threads, holding only ``workers`` items in flight.

    Results come back as they complete. Each worker takes its next item from ``items`` itself
    (one at a time, under a lock), so no thread hands items out: with a feeding thread, every
    item cost a wake-up of that thread and a turn of the interpreter lock. ``finish`` runs on
    each worker thread before it ends (the ledger commits what the thread deferred). Once the
    consumer stops (an error, or it leaves early) no worker takes another item.
    """
    if workers <= 1:
        try:
            for item in items:
                yield work(item)
        finally:
            if finish is not None:
                finish()
        return
    source = iter(items)
    taking = threading.Lock()
    stopped = threading.Event()
    # (True, result), (False, error) or (None, None) when a worker ends.
    outbox: queue.SimpleQueue[tuple[bool | None, Any]] = queue.SimpleQueue()

    def worker() -> None:
        try:
            while True:
                with taking:
                    if stopped.is_set():
                        return
                    try:
                        item = next(source)
                    except StopIteration:
                        return
                    except BaseException as exc:  # the items' own failure (a claim the ledger refused)
                        stopped.set()
                        outbox.put((False, exc))
                        return
                try:
                    outbox.put((True, work(item)))
                except BaseException as exc:  # handed to the consumer, which raises it
                    outbox.put((False, exc))
        finally:
            try:
                if finish is not None:
                    finish()
            except BaseException as exc:
                outbox.put((False, exc))
            outbox.put((None, None))

    threads = [threading.Thread(target=worker, name=f"flow-{n}", daemon=True) for n in range(workers)]
    for thread in threads:
        thread.start()
    running = len(threads)
    try:
        while running:
            ok, value = outbox.get()
            if ok is None:
                running -= 1
            elif not ok:
                raise value
            else:
                yield value
    finally:
        stopped.set()
        for thread in threads:
            thread.join()


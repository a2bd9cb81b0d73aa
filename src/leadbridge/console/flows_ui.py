"""The flows dashboard (``leadbridge flows ui``): what the flows did, read from the ledger.

Per flow, units by state; the history of runs; the end-to-end funnel (leads found → queued →
called → answered → goal reached → orders paid → revenue sent to Neiros) with the drop at
each step; the units needing attention with their effects on a timeline, and the buttons of
``flows resolve``. The page refreshes itself while a run is going.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Form, Path, Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from leadbridge.console.web import back, render, static_files
from leadbridge.flows.events import EventStore
from leadbridge.flows.funnel import figures as funnel_figures
from leadbridge.flows.ledger import UNIT_STATES, Effect, Ledger

log = logging.getLogger("leadbridge.console")
STATIC = "/static"
ATTENTION_LIMIT = 30
RUNS_SHOWN = 20
EVENTS_SHOWN = 20
FLOW_TITLES = {"call-leads": "Лиды → обзвон", "call-results": "Итоги звонков → Leeloo",
               "deals-to-leeloo": "Сделки Neiros → Leeloo", "revenue-to-neiros": "Выручка → Neiros"}


@dataclass
class FunnelStep:
    label: str
    value: int
    note: str = ""


def funnel(ledger: Ledger) -> list[FunnelStep]:
    """The end-to-end funnel (see :func:`flows.funnel.figures`): people by phone at each step, orders one by one."""
    figures = funnel_figures(ledger)
    revenue = f"{figures['revenue']:,.2f} ₽".replace(",", "\u202f")
    return [
        FunnelStep("Лиды найдены", int(figures["leads"])),
        FunnelStep("В обзвоне", int(figures["queued"])),
        FunnelStep("Звонили", int(figures["called"])),
        FunnelStep("Ответили", int(figures["answered"])),
        FunnelStep("Цель достигнута", int(figures["goal"])),
        FunnelStep("Заказы оплачены", int(figures["orders_paid"])),
        FunnelStep("Выручка передана в Neiros", int(figures["revenue_people"]), revenue),
    ]


def summary(ledger: Ledger) -> dict[str, Any]:
    """Everything the page shows, as data (also served as JSON for the live refresh)."""
    counts = ledger.counts()
    runs = ledger.runs(RUNS_SHOWN)
    running = [r for r in runs if r.finished_at is None and ledger.runner_alive(r.runner)]
    return {
        "counts": {f"{flow}/{kind}": states for (flow, kind), states in sorted(counts.items())},
        "runs": runs,
        "running": bool(running),
        "funnel": funnel(ledger),
        "attention": ledger.attention(ATTENTION_LIMIT),
        # What `flows serve` received and what each event triggered.
        "event_counts": {f"{kind}/{state}": n for (kind, state), n in sorted(EventStore(ledger).counts().items())},
        "events": EventStore(ledger).latest(EVENTS_SHOWN),
    }


def signature(data: dict[str, Any]) -> str:
    """Changes whenever the page would: the live refresh compares it."""
    last = data["runs"][0] if data["runs"] else None
    return repr((data["counts"], last and (last.id, last.finished_at), [u.id for u in data["attention"]],
                 data["event_counts"]))


@dataclass
class Snapshot:
    data: dict[str, Any]
    effects: dict[int, list[Effect]]
    taken_at: datetime
    signature: str = field(init=False)

    def __post_init__(self) -> None:
        self.signature = signature(self.data)


class Snapshots:
    """The dashboard's figures, taken by a background thread while someone is looking.

    Aggregating a large ledger (the funnel reads every dialog result) takes longer than a page
    may; pages are rendered from the latest snapshot at once and say when it was taken. A new
    one is taken every ``every`` seconds, or less often when taking one is slow, and only while
    pages were asked for in the last ``idle_after`` seconds.
    """

    def __init__(self, ledger: Ledger, every: float = 1.0, idle_after: float = 30.0) -> None:
        self.ledger = ledger
        self.every = every
        self.idle_after = idle_after
        self.latest: Snapshot | None = None
        self.asked_at = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def take(self) -> Snapshot:
        with self._lock:
            data = summary(self.ledger)
            effects = {unit.id: sorted(self.ledger.effects(unit.id).values(),
                                       key=lambda e: (e.updated_at is None, e.updated_at))
                       for unit in data["attention"]}
            self.latest = Snapshot(data, effects, datetime.now(UTC))
            return self.latest

    def get(self) -> Snapshot:
        self.asked_at = time.monotonic()
        return self.latest or self.take()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="dashboard-snapshots", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        pause = self.every
        while not self._stop.wait(pause):
            if time.monotonic() - self.asked_at > self.idle_after:
                continue
            started = time.monotonic()
            try:
                self.take()
            except Exception as exc:  # a ledger busy or briefly unreachable: the next round tries again
                log.warning("dashboard: reading the ledger failed (%s); trying again", type(exc).__name__)
            # Never more than a third of the time spent aggregating, on a large ledger.
            pause = max(self.every, 2 * (time.monotonic() - started))


def create_dashboard(ledger_url: str, *, title: str = "") -> FastAPI:
    """The dashboard app over the ledger at ``ledger_url`` (opened once, for the app's lifetime)."""
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> Any:
        snapshots()
        try:
            yield
        finally:
            state.pop("snapshots").stop()
            state.pop("ledger").close()

    app = FastAPI(title="leadbridge flows dashboard", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.mount(STATIC, static_files(), name="static")

    def snapshots() -> Snapshots:
        if "snapshots" not in state:
            state["ledger"] = Ledger(ledger_url)
            state["snapshots"] = Snapshots(state["ledger"])
            state["snapshots"].take()  # the first page is served from a snapshot already taken
            state["snapshots"].start()
        snapshots_: Snapshots = state["snapshots"]
        return snapshots_

    @app.get("/", response_class=HTMLResponse)
    async def dashboard(request: Request) -> HTMLResponse:
        snapshot = snapshots().get()
        data = snapshot.data
        top = max((step.value for step in data["funnel"]), default=0)
        ledger: Ledger = state["ledger"]
        return render("flows/dashboard.html", static=STATIC, home="/", product="потоки", title=title,
                      ledger_url=ledger.engine.url.render_as_string(hide_password=True), states=UNIT_STATES,
                      titles=FLOW_TITLES, effects=snapshot.effects, top=top, signature=snapshot.signature,
                      taken_at=snapshot.taken_at, notice=request.query_params.get("notice"),
                      error=request.query_params.get("error"), **data)

    @app.get("/api/summary")
    async def summary_json() -> JSONResponse:
        snapshot = snapshots().get()
        data = snapshot.data
        return JSONResponse({
            "signature": snapshot.signature,
            "taken_at": snapshot.taken_at.isoformat(),
            "running": data["running"],
            "counts": data["counts"],
            "funnel": [{"label": s.label, "value": s.value} for s in data["funnel"]],
            "attention": [{"id": u.id, "flow": u.flow, "kind": u.kind, "key": u.key, "state": u.state}
                          for u in data["attention"]],
            "events": data["event_counts"],
        })

    @app.post("/units/{unit_id}/resolve")
    async def resolve(unit_id: Annotated[int, Path(ge=1)],
                      action: Annotated[Literal["done", "retry"], Form()]) -> Response:
        book = snapshots()
        try:
            outcome = book.ledger.resolve(unit_id, action)
        except (KeyError, ValueError) as exc:
            return back("/", error=str(exc.args[0]))
        book.take()  # the page the button returns to shows the verdict
        return back("/", notice=outcome)

    return app

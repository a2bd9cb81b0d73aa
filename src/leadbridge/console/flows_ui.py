"""The flows dashboard (``leadbridge flows ui``): what the flows did, read from the ledger.

Per flow, units by state; the history of runs; the end-to-end funnel (leads found → queued →
called → answered → goal reached → orders paid → revenue sent to Neiros) with the drop at
each step; the units needing attention with their effects on a timeline, and the buttons of
``flows resolve``. The page refreshes itself while a run is going.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Form, Path, Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from leadbridge.console.web import back, render, static_files
from leadbridge.flows.ledger import UNIT_STATES, Ledger

STATIC = "/static"
ATTENTION_LIMIT = 30
RUNS_SHOWN = 20
FLOW_TITLES = {"call-leads": "Лиды → обзвон", "call-results": "Итоги звонков → Leeloo",
               "deals-to-leeloo": "Сделки Neiros → Leeloo", "revenue-to-neiros": "Выручка → Neiros"}


@dataclass
class FunnelStep:
    label: str
    value: int
    note: str = ""


def funnel(ledger: Ledger) -> list[FunnelStep]:
    """The end-to-end funnel (see :meth:`Ledger.funnel`): people by phone at each step, orders one by one."""
    figures = ledger.funnel()
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
    }


def signature(data: dict[str, Any]) -> str:
    """Changes whenever the page would: the live refresh compares it."""
    last = data["runs"][0] if data["runs"] else None
    return repr((data["counts"], last and (last.id, last.finished_at), [u.id for u in data["attention"]]))


def create_dashboard(ledger_url: str, *, title: str = "") -> FastAPI:
    """The dashboard app over the ledger at ``ledger_url`` (opened once, for the app's lifetime)."""
    state: dict[str, Ledger] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> Any:
        state["ledger"] = Ledger(ledger_url)
        try:
            yield
        finally:
            state.pop("ledger").close()

    app = FastAPI(title="leadbridge flows dashboard", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.mount(STATIC, static_files(), name="static")

    def ledger() -> Ledger:
        if "ledger" not in state:  # served without lifespan events (a bare ASGI test client)
            state["ledger"] = Ledger(ledger_url)
        return state["ledger"]

    @app.get("/", response_class=HTMLResponse)
    async def dashboard(request: Request) -> HTMLResponse:
        book = ledger()
        data = summary(book)
        effects = {unit.id: sorted(book.effects(unit.id).values(), key=lambda e: (e.updated_at is None, e.updated_at))
                   for unit in data["attention"]}
        top = max((step.value for step in data["funnel"]), default=0)
        return render("flows/dashboard.html", static=STATIC, home="/", product="потоки", title=title,
                      ledger_url=book.engine.url.render_as_string(hide_password=True), states=UNIT_STATES,
                      titles=FLOW_TITLES, effects=effects, top=top, signature=signature(data),
                      notice=request.query_params.get("notice"), error=request.query_params.get("error"), **data)

    @app.get("/api/summary")
    async def summary_json() -> JSONResponse:
        data = summary(ledger())
        return JSONResponse({
            "signature": signature(data),
            "running": data["running"],
            "counts": data["counts"],
            "funnel": [{"label": s.label, "value": s.value} for s in data["funnel"]],
            "attention": [{"id": u.id, "flow": u.flow, "kind": u.kind, "key": u.key, "state": u.state}
                          for u in data["attention"]],
        })

    @app.post("/units/{unit_id}/resolve")
    async def resolve(unit_id: Annotated[int, Path(ge=1)],
                      action: Annotated[Literal["done", "retry"], Form()]) -> Response:
        try:
            outcome = ledger().resolve(unit_id, action)
        except (KeyError, ValueError) as exc:
            return back("/", error=str(exc.args[0]))
        return back("/", notice=outcome)

    return app

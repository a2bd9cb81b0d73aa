"""The flows' end-to-end funnel, read from the ledger's units: leads → calls → paid orders → revenue.

The figures are aggregated in the database (a large ledger is never loaded) from the units
of call-leads, call-results and revenue-to-neiros; the ledger itself knows no flow.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, select

from leadbridge.flows.ledger import Ledger, UnitRow


def figures(ledger: Ledger) -> dict[str, float]:
    """The end-to-end funnel's figures, aggregated in the database (a large ledger is never loaded).

    People are counted by phone: leads found, phones queued in created campaigns, phones
    called, answered and reaching the goal; then paid orders, and the people whose revenue
    was sent to Neiros with its total.
    """
    unit = UnitRow
    phone = unit.payload["phone"].as_string()

    def of(flow: str, kind: str, *where: Any) -> Any:
        return and_(unit.flow == flow, unit.kind == kind, *where)

    # One pass over the dialog results: called, answered and goal phones together.
    calls = select(phone.label("phone"), unit.payload["outcome"].as_string().label("outcome"),
                   unit.payload["goal"].as_boolean().label("goal")).where(
        of("call-results", "result")).subquery()
    paid_people = of("revenue-to-neiros", "person", unit.state == "done")
    with ledger.reading() as session:
        called, answered, goal = session.execute(select(
            func.count(calls.c.phone.distinct()),
            func.count(case((calls.c.outcome == "answered", calls.c.phone)).distinct()),
            func.count(case((calls.c.goal.is_(True), calls.c.phone)).distinct()))).one()
        revenue_people, revenue = session.execute(select(
            func.count(), func.sum(unit.payload["total"].as_float())).where(paid_people)).one()
        figures = {
            "leads": session.scalar(select(func.count()).where(of("call-leads", "lead"))),
            "queued": session.scalar(select(func.sum(unit.result["phones"].as_integer()))
                                     .where(of("call-leads", "campaign", unit.state == "done"))),
            "called": called, "answered": answered, "goal": goal,
            "orders_paid": session.scalar(select(func.count()).where(
                of("revenue-to-neiros", "order", unit.state == "done"))),
            "revenue_people": revenue_people, "revenue": revenue,
        }
    return {key: value or 0 for key, value in figures.items()}

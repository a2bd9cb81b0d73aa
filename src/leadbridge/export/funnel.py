"""``leadbridge report funnel``: the end-to-end funnel, read from the warehouse the export fills.

The SQL lives in ``sql/funnel_leads.sql`` (one row per lead with each step of its path)
and ``sql/funnel.sql`` (the steps summed per group). Both read ``lb_*`` temporary views
laid over the exported tables here, so a table that was never exported (no Dialog
campaign yet) or a column no record carried yet reads as empty instead of failing.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any, Literal

Dimension = Literal["source", "tunnel", "campaign", "all"]
DIMENSIONS: dict[str, str] = {
    "source": "source", "tunnel": "tunnel", "campaign": "campaign",
    # A constant written as an expression of a column: PostgreSQL refuses a bare literal in GROUP BY.
    "all": "CASE WHEN lead_key IS NULL THEN '' ELSE '(all)' END",
}
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)

# The views the SQL reads: table → its columns and their SQL types.
INPUTS: dict[str, tuple[str, dict[str, str]]] = {
    "lb_people": ("people", {"id": "VARCHAR", "phone_e164": "VARCHAR", "created_at": "TIMESTAMP WITH TIME ZONE",
                             "last_message_time": "TIMESTAMP WITH TIME ZONE"}),
    "lb_channels": ("channels", {"person_id": "VARCHAR", "created_at": "TIMESTAMP WITH TIME ZONE",
                                 "utm_marks__utm_source": "VARCHAR", "messenger": "VARCHAR"}),
    "lb_subscribe_history": ("people__subscribe_history", {"person_id": "VARCHAR", "idx": "BIGINT",
                                                           "tunnel_name": "VARCHAR", "traffic_source": "VARCHAR"}),
    "lb_orders": ("orders", {"person_id": "VARCHAR", "status": "VARCHAR", "price": "DOUBLE PRECISION"}),
    "lb_deals": ("deals", {"id": "BIGINT", "phone_e164": "VARCHAR", "created_at": "TIMESTAMP WITH TIME ZONE",
                           "date": "DATE", "canal": "VARCHAR", "traffic": "VARCHAR", "summ": "DOUBLE PRECISION"}),
    "lb_dialog_results": ("dialog_results", {"campaign_id": "BIGINT", "person_id": "VARCHAR",
                                             "phone_e164": "VARCHAR", "outcome": "VARCHAR", "goal": "BOOLEAN"}),
}
# Names the SQL uses for columns whose exported name carries the record's own structure.
RENAMED = {"utm_marks__utm_source": "utm_source"}
STEPS = ("leads", "called", "answered", "goal_reached", "ordered", "paid")
# The step each conversion is taken against: orders need no call (the bot sells too), so they count from the leads.
CONVERSION_BASE = {"called": "leads", "answered": "called", "goal_reached": "answered", "ordered": "leads",
                   "paid": "ordered"}
COLUMNS = ("leads", "leeloo_people", "neiros_deals", "called", "answered", "goal_reached", "ordered", "paid",
           "revenue", "neiros_revenue")
TITLES = {"leads": "leads", "leeloo_people": "Leeloo people", "neiros_deals": "Neiros deals", "called": "called",
          "answered": "answered", "goal_reached": "goal reached", "ordered": "ordered", "paid": "paid",
          "revenue": "revenue (Leeloo)", "neiros_revenue": "revenue (Neiros)"}


@dataclass(frozen=True)
class FunnelRow:
    group: str
    values: dict[str, float]

    def conversion(self, step: str) -> float | None:
        """This step's share of the step it follows (None for leads, or when that step is zero)."""
        base = CONVERSION_BASE.get(step)
        if base is None:
            return None
        before = self.values[base]
        return self.values[step] / before if before else None


@dataclass(frozen=True)
class Funnel:
    dimension: str
    date_from: datetime
    date_to: datetime
    total: FunnelRow
    groups: list[FunnelRow]


def sql_text(name: str) -> str:
    return resources.files("leadbridge.export").joinpath("sql", name).read_text(encoding="utf-8")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _timestamp(moment: datetime) -> str:
    # Values are datetimes made here, never user text: a literal is safe and reads the same in both databases.
    return f"CAST('{moment.astimezone(UTC).isoformat()}' AS TIMESTAMP WITH TIME ZONE)"


def _existing_columns(client: Any, dataset: str) -> dict[str, set[str]]:
    rows = client.execute_sql(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = "
        f"'{dataset}'")
    found: dict[str, set[str]] = {}
    for table, column in rows or []:
        found.setdefault(table, set()).add(column)
    return found


def _input_views(client: Any, dataset: str) -> list[str]:
    existing = _existing_columns(client, dataset)
    statements = []
    for view, (table, columns) in INPUTS.items():
        present = existing.get(table, set())
        parts = [(_quote(column) if column in present else f"CAST(NULL AS {kind})")
                 + f" AS {RENAMED.get(column, column)}" for column, kind in columns.items()]
        source = f" FROM {_quote(dataset)}.{_quote(table)}" if present else " WHERE 1 = 0"
        statements.append(f"CREATE OR REPLACE TEMPORARY VIEW {view} AS SELECT {', '.join(parts)}{source}")
    return statements


def read_funnel(pipeline: Any, *, by: Dimension = "all", date_from: datetime | None = None,
                date_to: datetime | None = None) -> Funnel:
    """The funnel of the leads that arrived in ``[date_from, date_to)`` (UTC), in total and per group."""
    start, end = date_from or EARLIEST, date_to or LATEST
    template = sql_text("funnel.sql").replace(":date_from", _timestamp(start)).replace(":date_to", _timestamp(end))
    with pipeline.sql_client() as client:
        for statement in _input_views(client, pipeline.dataset_name):
            client.execute_sql(statement)
        client.execute_sql(f"CREATE OR REPLACE TEMPORARY VIEW lb_funnel_leads AS {sql_text('funnel_leads.sql')}")
        results = {}
        for dimension in {"all", by}:
            rows = client.execute_sql(template.replace(":dimension", DIMENSIONS[dimension])) or []
            results[dimension] = [FunnelRow(str(row[0]), {name: float(value or 0) for name, value in
                                                          zip(COLUMNS, row[1:], strict=True)}) for row in rows]
    totals = results["all"] or [FunnelRow("(all)", dict.fromkeys(COLUMNS, 0.0))]
    return Funnel(by, start, end, totals[0], results[by] if by != "all" else [])


def _number(name: str, value: float) -> str:
    return f"{value:,.2f}" if "revenue" in name else f"{int(value):,}"


def render_funnel(console: Any, funnel: Funnel) -> None:
    """The funnel as tables: the steps with their conversions, then one row per group."""
    from rich.table import Table

    span = ""
    if funnel.date_from != EARLIEST or funnel.date_to != LATEST:
        span = f" (leads from {funnel.date_from:%Y-%m-%d} to {funnel.date_to:%Y-%m-%d})"
    steps = Table(title=f"End-to-end funnel{span}", title_justify="left")
    steps.add_column("step", style="bold")
    steps.add_column("count", justify="right")
    steps.add_column("conversion", justify="right")
    for name in COLUMNS:
        conversion = funnel.total.conversion(name) if name in STEPS else None
        steps.add_row(TITLES[name], _number(name, funnel.total.values[name]),
                      "" if conversion is None else f"{conversion:.1%}")
    console.print(steps)
    if funnel.groups:
        if _one_line_width(funnel, COLUMNS) <= console.width:
            console.print(_group_table(funnel, f"By {funnel.dimension}", COLUMNS))
            return
        # Too narrow for every column at once (eleven need about 130): the path in one table,
        # the leads' platforms and the revenue in another, each row starting with its group.
        for title, columns in ((f"By {funnel.dimension}: the path", PATH_COLUMNS),
                               (f"By {funnel.dimension}: leads' platforms and revenue", SPLIT_COLUMNS)):
            console.print(_group_table(funnel, title, columns, narrow=console.width))


# The group tables' columns when all of them do not fit: the funnel's steps, then the rest.
PATH_COLUMNS = ("leads", "called", "answered", "goal_reached", "ordered", "paid")
SPLIT_COLUMNS = ("leads", "leeloo_people", "neiros_deals", "revenue", "neiros_revenue")
GROUP_WIDTH = (8, 24)  # the group column's narrowest and widest: a longer name wraps in its cell


def _one_line_width(funnel: Funnel, columns: tuple[str, ...]) -> int:
    """The width of the group table with each header and cell on one line."""
    group = max(len(funnel.dimension), *(len(row.group) for row in funnel.groups))
    cells = sum(max(len(TITLES[name]), *(len(_number(name, row.values[name])) for row in funnel.groups))
                for name in columns)
    return group + cells + 3 * (len(columns) + 1) + 1


def _group_table(funnel: Funnel, title: str, columns: tuple[str, ...], narrow: int | None = None) -> Any:
    """One row per group; ``narrow``: fit that width, each number column as wide as its longest
    number or header word (headers wrap at their spaces: "goal / reached"), the group column
    taking the room left, between its narrowest and widest (a longer name wraps in its cell)."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    if narrow is None:
        table.add_column(funnel.dimension, style="bold")
        for name in columns:
            table.add_column(TITLES[name], justify="right")
    else:
        numbers = {name: max(max(len(word) for word in TITLES[name].split()),
                             *(len(_number(name, row.values[name])) for row in funnel.groups)) for name in columns}
        room = narrow - 3 * (len(columns) + 1) - 1 - sum(numbers.values())
        longest = max(len(funnel.dimension), *(len(row.group) for row in funnel.groups))
        table.add_column(funnel.dimension, style="bold", overflow="fold",
                         width=max(GROUP_WIDTH[0], min(GROUP_WIDTH[1], longest, room)))
        for name in columns:
            table.add_column(TITLES[name], justify="right", width=numbers[name])
    for row in funnel.groups:
        table.add_row(row.group, *(_number(name, row.values[name]) for name in columns))
    return table


# --- the HTML page ------------------------------------------------------------------------------

BAR_HEIGHT = 34
CHART_WIDTH = 720
LABEL_WIDTH = 150


def _bars_svg(row: FunnelRow, title: str, css_class: str) -> str:
    """A horizontal bar per step, its width in proportion to the leads, with the count and conversion."""
    top = max(row.values["leads"], 1.0)
    height = BAR_HEIGHT * len(STEPS) + 10
    parts = [f'<svg class="{css_class}" role="img" aria-label="{html.escape(title)}" width="{CHART_WIDTH}" '
             f'height="{height}" viewBox="0 0 {CHART_WIDTH} {height}" xmlns="http://www.w3.org/2000/svg">']
    room = CHART_WIDTH - LABEL_WIDTH - 140
    for index, step in enumerate(STEPS):
        value = row.values[step]
        width = max(1.0, room * value / top) if value else 0.0
        y = 5 + index * BAR_HEIGHT
        conversion = row.conversion(step)
        note = f" ({conversion:.0%})" if conversion is not None else ""
        parts.append(f'<text x="0" y="{y + 21}" class="label">{html.escape(TITLES[step])}</text>'
                     f'<rect class="bar" data-step="{step}" data-value="{int(value)}" x="{LABEL_WIDTH}" y="{y + 4}" '
                     f'width="{width:.1f}" height="{BAR_HEIGHT - 8}" rx="3"/>'
                     f'<text x="{LABEL_WIDTH + width + 8:.1f}" y="{y + 21}" class="value">{int(value):,}{note}</text>')
    parts.append("</svg>")
    return "".join(parts)


def funnel_html(funnel: Funnel, by_source: Funnel | None = None) -> str:
    """One self-contained page: the funnel chart, a chart per source and the numbers (no external asset)."""
    total = funnel.total
    revenue = (f"<p class=\"revenue\">Revenue: Leeloo <b>{total.values['revenue']:,.2f}</b> (paid orders, in their "
               f"currencies), Neiros <b>{total.values['neiros_revenue']:,.2f}</b> (deal amounts)</p>")
    sections = []
    for row in (by_source.groups if by_source else []):
        sections.append(f'<section class="source" data-source="{html.escape(row.group)}"><h3>'
                        f'{html.escape(row.group)}</h3>{_bars_svg(row, "Funnel of " + row.group, "chart source-chart")}'
                        "</section>")
    rows = "".join(f"<tr><th>{html.escape(TITLES[name])}</th><td>{_number(name, total.values[name])}</td></tr>"
                   for name in COLUMNS)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>leadbridge: end-to-end funnel</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #1f2933; }}
.bar {{ fill: #3b82f6; }} .source-chart .bar {{ fill: #10b981; }}
.label, .value {{ font-size: 14px; fill: #1f2933; }}
table {{ border-collapse: collapse; margin-top: 1rem; }} th, td {{ padding: 2px 12px; text-align: left; }}
td {{ text-align: right; }} .sources {{ display: flex; flex-wrap: wrap; gap: 1rem; }}
</style></head>
<body>
<h1>End-to-end funnel</h1>
<p>From the first message to revenue: Leeloo people and Neiros deals, Dialog calls, Leeloo orders.
Generated {generated}.</p>
{_bars_svg(total, "End-to-end funnel", "chart funnel-chart")}
{revenue}
<table class="numbers">{rows}</table>
<h2>By source</h2>
<div class="sources">{"".join(sections) or "<p>No source yet.</p>"}</div>
</body></html>
"""

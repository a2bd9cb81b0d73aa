"""Running flows by name, and printing what they did and what the ledger holds."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from leadbridge.errors import LeadbridgeError
from leadbridge.flows import call_leads, call_results, deals_to_leeloo, revenue_to_neiros
from leadbridge.flows.config import FLOW_NAMES, WORKERS, Config, ConfigError
from leadbridge.flows.context import FlowContext
from leadbridge.flows.engine import FlowReport
from leadbridge.flows.ledger import UNIT_STATES, Ledger

FLOWS: dict[str, Callable[[FlowContext], FlowReport]] = {
    call_leads.FLOW: call_leads.run,
    call_results.FLOW: call_results.run,
    deals_to_leeloo.FLOW: deals_to_leeloo.run,
    revenue_to_neiros.FLOW: revenue_to_neiros.run,
}
LEVEL_STYLES = {"error": "red", "uncertain": "magenta", "warning": "yellow", "info": "cyan"}


def resolve_names(config: Config, names: Sequence[str], run_all: bool) -> list[str]:
    """The flows to run, in dependency order; unknown or unconfigured names are configuration errors."""
    if run_all:
        chosen = config.enabled_flows()
        if not chosen:
            raise ConfigError("flows: no flow is configured (add a [flows.<name>] section)")
        return chosen
    if not names:
        raise ConfigError(f"name a flow ({', '.join(FLOW_NAMES)}) or pass --all")
    unknown = [name for name in names if name not in FLOWS]
    if unknown:
        raise ConfigError(f"unknown flow {', '.join(unknown)} (known: {', '.join(FLOW_NAMES)})")
    for name in names:
        config.require(name)
    return [name for name in FLOW_NAMES if name in names]


def run_flows(config: Config, names: Sequence[str], *, dry_run: bool = False, console: Console | None = None,
              workers: int = WORKERS, show_progress: bool = True,
              stop: threading.Event | None = None) -> list[FlowReport]:
    """Run ``names`` one after another; a flow that stops on an error does not stop the others.

    Once ``stop`` is set no new unit is claimed: the units in flight are finished, the flows not
    started are not, and the units still claimed go back to ``pending`` for the next run.
    """
    for name in names:
        config.require(name)
    console = console or Console()
    reports: list[FlowReport] = []
    with ExitStack() as stack:
        ledger = stack.enter_context(Ledger(config.ledger.url))
        if stop is not None:
            ledger.stopping = stop
        stack.callback(ledger.release_claims)
        progress = None
        if show_progress and console.is_terminal:
            progress = stack.enter_context(Progress(
                SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), console=console, transient=True))
        ctx = FlowContext(config, ledger, dry_run=dry_run, workers=workers, progress=progress)
        stack.callback(ctx.close)
        # The history of runs the dashboard shows; a run cut short keeps exit "interrupted".
        run_id = ledger.start_run(names, dry_run=dry_run)
        stack.callback(lambda: ledger.finish_run(
            run_id, {r.flow: {k: v for k, v in r.counts.items() if v} for r in reports},
            "interrupted" if len(reports) < len(names) else "stopped by an error" if failed(reports) else "ok"))
        for name in names:
            if ledger.stopping.is_set():
                break
            started = time.monotonic()
            try:
                report = FLOWS[name](ctx)
            except (ConfigError, LeadbridgeError) as exc:
                report = ctx.report(name)
                report.count("stopped by an error")
                report.note("error", f"{name} stopped: {exc}")
            except SQLAlchemyError as exc:  # the ledger's database failed mid-run (gone, full, locked out)
                report = ctx.report(name)
                report.count("stopped by an error")
                first_line = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]
                report.note("error", f"{name} stopped: the ledger failed: {first_line[:300]}")
            ledger.flush()
            report.seconds = time.monotonic() - started
            reports.append(report)
    return reports


def render_reports(console: Console, reports: Sequence[FlowReport], max_messages: int = 20) -> None:
    dry = any(r.dry_run for r in reports)
    table = Table(title="What the flows would do (dry run)" if dry else "What the flows did", title_justify="left")
    table.add_column("flow", style="bold")
    table.add_column("what")
    table.add_column("count", justify="right")
    for report in reports:
        first = True
        for what, count in report.counts.items():
            if count == 0:
                continue
            style = "red" if what in ("failed", "stopped by an error") else \
                "magenta" if "uncertain" in what else "yellow" if what == "skipped" else None
            table.add_row(report.flow if first else "", what, f"{count:,}", style=style)
            first = False
        table.add_row(report.flow if first else "", "seconds", f"{report.seconds:.1f}", style="dim")
        table.add_section()
    console.print(table)
    for report in reports:
        groups = group_messages(report.messages)
        shown = sorted(groups, key=lambda g: list(LEVEL_STYLES).index(g[0]) if g[0] in LEVEL_STYLES else 9)
        for level, message, times in shown[:max_messages]:
            more = f" [dim](and {times - 1} more like it: `leadbridge flows status` lists them)[/]" if times > 1 else ""
            console.print(f"[{LEVEL_STYLES.get(level, 'white')}]{report.flow} {level}:[/] {escape(message)}{more}",
                          highlight=False, markup=True, soft_wrap=True)
        hidden = report.hidden_messages + sum(times for _, _, times in shown[max_messages:])
        if hidden:
            console.print(f"{report.flow}: … and {hidden} more messages "
                          "(`leadbridge flows status` lists the units needing attention)", style="dim")


# What makes `flows run` exit 1: a unit that failed (it is retried by later runs, up to its
# attempts), a campaign Dialog refused, a flow stopped by an error.
FAILURES = ("failed", "campaigns refused", "stopped by an error")


def failures(reports: Sequence[FlowReport]) -> str | None:
    """One line naming what went wrong in a run, or None when nothing did."""
    parts = []
    for what in FAILURES:
        total = sum(r.counts[what] for r in reports)
        if total:
            flows = ", ".join(r.flow for r in reports if r.counts[what])
            parts.append(f"{total:,} {'units failed' if what == 'failed' else what} ({flows})")
    return "; ".join(parts) or None


# Ids, numbers and phones vary between otherwise identical messages.
_VARYING = re.compile(r"\+?\d[\d\s()-]{3,}\d|\b[0-9a-f]{24}\b|\b[0-9a-f]{32}\b|\d+")


def group_messages(messages: Sequence[tuple[str, str]]) -> list[tuple[str, str, int]]:
    """(level, first message, how many) for each run of messages that differ only in ids and numbers."""
    groups: dict[tuple[str, str], list[Any]] = {}
    for level, message in messages:
        key = (level, _VARYING.sub("#", message))
        if key in groups:
            groups[key][2] += 1
        else:
            groups[key] = [level, message, 1]
    return [(level, message, times) for level, message, times in groups.values()]


def reports_json(reports: Sequence[FlowReport]) -> list[dict[str, Any]]:
    """What ``flows run --json`` prints: each flow's counts and messages."""
    return [{"flow": r.flow, "dry_run": r.dry_run, "counts": {k: v for k, v in r.counts.items() if v},
             "seconds": round(r.seconds, 3),
             "messages": [{"level": level, "message": message, "count": times}
                          for level, message, times in group_messages(r.messages)],
             "hidden_messages": r.hidden_messages} for r in reports]


def status_json(ledger: Ledger, limit: int = 30) -> dict[str, Any]:
    """What ``flows status --json`` prints: units by state per flow and the units needing attention."""
    return {
        "ledger": ledger.engine.url.render_as_string(hide_password=True),
        "units": [{"flow": flow, "kind": kind, **{state: states.get(state, 0) for state in UNIT_STATES}}
                  for (flow, kind), states in sorted(ledger.counts().items())],
        "attention": [{"id": u.id, "flow": u.flow, "kind": u.kind, "key": u.key, "state": u.state,
                       "error": u.error} for u in ledger.attention(limit)],
    }


def failed(reports: Sequence[FlowReport]) -> bool:
    return failures(reports) is not None


def render_status(console: Console, ledger: Ledger, limit: int = 30) -> None:
    counts = ledger.counts()
    # Fits 80 columns: one column for flow and unit, no vertical rules, headers never cut.
    table = Table(title=f"Ledger {ledger.engine.url.render_as_string(hide_password=True)}", title_justify="left",
                  box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    table.add_column("flow / unit", no_wrap=True)
    for state in UNIT_STATES:
        table.add_column(state, justify="right", no_wrap=True, min_width=len(state))
    for (flow, kind), states in sorted(counts.items()):
        table.add_row(f"[bold]{flow}[/] {kind}",
                      *(f"{states.get(s, 0):,}" if states.get(s) else "·" for s in UNIT_STATES))
    if not counts:
        console.print("The ledger is empty: no flow has run yet.")
        return
    console.print(table)
    attention = ledger.attention(limit)
    if attention:
        console.print(f"[bold]Units needing attention[/] (latest {len(attention)}):")
        for unit in attention:
            style = LEVEL_STYLES["uncertain" if unit.state == "uncertain" else "error"]
            console.print(f"  [{style}]{unit.state}[/] #{unit.id} {unit.flow}/{unit.kind} {unit.key}: {unit.error}",
                          highlight=False, soft_wrap=True)
        console.print("Uncertain units are never repeated automatically: check them on the platform, then "
                      "`leadbridge flows resolve ID --done` or `--retry` (or `--skip`).")
    render_runners(console, ledger)


def render_runners(console: Console, ledger: Ledger, limit: int = 10) -> None:
    """The runners holding claims; those gone are marked, with the units they left claimed."""
    runners = ledger.runners()
    if not runners:
        return
    console.print("[bold]Runners holding claims:[/]")
    for runner in runners:
        held = ", ".join(f"{count:,} {flow}/{kind}" for (flow, kind), count in sorted(runner.claims.items()))
        where = (f"host {runner.host}, pid {runner.pid}, started {runner.started_at:%Y-%m-%d %H:%M:%S} UTC, "
                 f"last claim {runner.seen_at:%Y-%m-%d %H:%M:%S} UTC"
                 if runner.host and runner.started_at and runner.seen_at else "not recorded")
        if runner.alive:
            console.print(f"  [green]running[/] {runner.id} ({where}): {held}", highlight=False, soft_wrap=True)
            continue
        console.print(f"  [red]gone[/] {runner.id} ({where}): {held}; the next `leadbridge flows run` takes "
                      "them back (their effects are recorded), or settle one with `flows resolve ID`",
                      highlight=False, soft_wrap=True)
        for unit in ledger.claimed_by(runner.id, limit):
            console.print(f"    claimed by a gone runner #{unit.id} {unit.flow}/{unit.kind} {unit.key}",
                          highlight=False, soft_wrap=True)

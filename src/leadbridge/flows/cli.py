"""``leadbridge flows …``: run, status, watch and resolve."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from leadbridge.flows.config import ConfigError, load_config, parse_duration

log = logging.getLogger("leadbridge.flows")
app = typer.Typer(help="The integrations between Leeloo, Neiros and Dialog (configured in leadbridge.toml).",
                  no_args_is_help=True, add_completion=False)

ConfigOption = Annotated[Path | None, typer.Option(
    "--config", "-c", envvar="LEADBRIDGE_CONFIG", help="Configuration file (default: ./leadbridge.toml)")]
NamesArgument = Annotated[list[str] | None, typer.Argument(
    help="Flows to run: call-leads, call-results, deals-to-leeloo, revenue-to-neiros", show_default=False)]
AllOption = Annotated[bool, typer.Option("--all", help="Run every flow configured in the file")]
WorkersOption = Annotated[int, typer.Option(min=1, max=64, help="Units processed at once")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables")]
# The shortest pause `watch` accepts: a zero pause would hammer the platforms in a loop.
MIN_WATCH_SECONDS = 1.0
# Pauses before retrying a watch round that failed on the ledger or the network.
WATCH_RETRY_SECONDS = (5.0, 15.0, 60.0)


def _fail(console: Console, exc: Exception) -> typer.Exit:
    console.print(f"[red]configuration error:[/] {exc}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


@app.command()
def run(
    names: NamesArgument = None,
    run_all: AllOption = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Read and plan, change nothing, print the plan")]
    = False,
    config: ConfigOption = None,
    workers: WorkersOption = 8,
    as_json: JsonOption = False,
) -> None:
    """Run flows once and print a table of what they did (or would do)."""
    from leadbridge.flows.runner import failed, render_reports, reports_json, resolve_names, run_flows

    console = Console(stderr=as_json)
    try:
        settings = load_config(config)
        chosen = resolve_names(settings, names or [], run_all)
    except ConfigError as exc:
        raise _fail(console, exc) from None
    reports = run_flows(settings, chosen, dry_run=dry_run, console=console, workers=workers,
                        show_progress=not as_json)
    if as_json:
        print(json.dumps(reports_json(reports), ensure_ascii=False, indent=2))
    else:
        render_reports(console, reports)
    raise typer.Exit(1 if failed(reports) else 0)


@app.command()
def status(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Show the ledger: units pending, done, failed, skipped and uncertain, and those needing attention."""
    from leadbridge.flows.ledger import Ledger
    from leadbridge.flows.runner import render_status, status_json

    console = Console(stderr=as_json)
    try:
        settings = load_config(config)
    except ConfigError as exc:
        raise _fail(console, exc) from None
    with Ledger(settings.ledger.url) as ledger:
        if as_json:
            print(json.dumps(status_json(ledger), ensure_ascii=False, indent=2))
        else:
            render_status(console, ledger)


@app.command()
def watch(
    names: NamesArgument = None,
    every: Annotated[str | None, typer.Option(help="Pause between runs, e.g. 30s, 5m, 1h (default: schedule.every)")]
    = None,
    config: ConfigOption = None,
    workers: WorkersOption = 8,
    runs: Annotated[int, typer.Option(min=0, help="Stop after this many runs (0: until stopped)")] = 0,
) -> None:
    """Run the flows (all configured, or those named) on a schedule until stopped (Ctrl-C)."""
    from leadbridge.flows.runner import render_reports, resolve_names, run_flows

    console = Console()
    try:
        settings = load_config(config)
        chosen = resolve_names(settings, names or [], not names)
        pause = parse_duration(every or settings.schedule.every)
        if pause.total_seconds() < MIN_WATCH_SECONDS:
            raise ValueError(f"--every {every or settings.schedule.every}: the pause between runs must be at least "
                             f"{MIN_WATCH_SECONDS:.0f}s")
    except (ConfigError, ValueError) as exc:
        raise _fail(console, exc) from None
    done = 0
    failures = 0
    try:
        while True:
            started = datetime.now(UTC)
            console.rule(f"run {done + 1} at {started:%Y-%m-%d %H:%M:%S} UTC")
            try:
                reports = run_flows(settings, chosen, console=console, workers=workers)
            except (SQLAlchemyError, OSError) as exc:
                # The ledger (or its disk or server) failed for a moment: this round is lost, the watch goes on.
                wait = WATCH_RETRY_SECONDS[min(failures, len(WATCH_RETRY_SECONDS) - 1)]
                failures += 1
                log.warning("flows watch: run %d failed on the ledger (%s); retrying in %.0fs", done + 1,
                            type(exc).__name__, wait)
                console.print(f"[yellow]run {done + 1} failed on the ledger ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0][:200]}); retrying in {wait:.0f}s[/]", highlight=False)
                time.sleep(wait)
                continue
            failures = 0
            render_reports(console, reports)
            done += 1
            if runs and done >= runs:
                return
            wake = started + pause
            console.print(f"next run at {wake:%H:%M:%S} UTC (every {every or settings.schedule.every}); "
                          "Ctrl-C to stop", style="dim")
            time.sleep(max(0.0, (wake - datetime.now(UTC)) / timedelta(seconds=1)))
    except KeyboardInterrupt:
        console.print("stopped")


@app.command()
def resolve(
    unit_id: Annotated[int, typer.Argument(help="The unit's number, as `flows status` shows it")],
    done: Annotated[bool, typer.Option("--done", help="It happened on the platform: never make it again")] = False,
    retry: Annotated[bool, typer.Option("--retry", help="It did not happen: make it again on the next run")]
    = False,
    config: ConfigOption = None,
) -> None:
    """Settle an uncertain (or failed) unit once you have checked the platform by hand."""
    from leadbridge.flows.ledger import Ledger

    console = Console()
    if done == retry:
        console.print("[red]give exactly one of --done or --retry[/]")
        raise typer.Exit(2)
    try:
        settings = load_config(config)
    except ConfigError as exc:
        raise _fail(console, exc) from None
    with Ledger(settings.ledger.url) as ledger:
        try:
            console.print(ledger.resolve(unit_id, "done" if done else "retry"))
        except (KeyError, ValueError) as exc:
            console.print(f"[red]{exc.args[0]}[/]")
            raise typer.Exit(1) from None


@app.command()
def ui(
    config: ConfigOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on")] = 8766,
) -> None:
    """Serve the flows dashboard: units by state, runs, the funnel, units needing attention."""
    import uvicorn

    from leadbridge.console.flows_ui import create_dashboard

    console = Console()
    try:
        settings = load_config(config)
    except ConfigError as exc:
        raise _fail(console, exc) from None
    console.print(f"[bold]flows dashboard[/] on http://{host}:{port}/ (ledger from {config or 'leadbridge.toml'})")
    uvicorn.run(create_dashboard(settings.ledger.url), host=host, port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    app()

"""``leadbridge flows …``: run, status, watch and resolve."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from leadbridge.flows.config import WORKERS, ConfigError, load_config, parse_duration

if TYPE_CHECKING:
    from leadbridge.flows.ledger import Ledger

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


class _StopRequest(threading.Event):
    """Set by the first SIGTERM or Ctrl-C; remembers which, for the exit status."""

    signum: int = signal.SIGTERM

    def sleep(self, seconds: float) -> None:
        """Wait up to ``seconds`` for the stop, in short sleeps. Not ``wait()``: the signal handler runs on
        this (the main) thread and sets the event, which takes the event's lock; had the signal come while
        ``wait()`` held that lock, the handler would wait for it forever."""
        deadline = time.monotonic() + seconds
        while not self.is_set() and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, 0.25))


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[_StopRequest]:
    """SIGTERM or Ctrl-C sets the event (the runner takes no new unit, finishes those in flight and hands
    back the rest); a second one interrupts at once. Signals are only caught on the main thread."""
    stop = _StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def _stop(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.signum = signum
        stop.set()
        # os.write, not the console: a handler may run while the main thread is inside a print.
        os.write(2, f"{signal.Signals(signum).name}: finishing the calls in flight, then stopping "
                    "(again to stop at once)\n".encode())

    previous = {signum: signal.signal(signum, _stop) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _stopped_code(stop: _StopRequest) -> int:
    """The shell's convention for a command ended by a signal: 128 + its number."""
    return 128 + stop.signum


def _fail(console: Console, exc: Exception) -> typer.Exit:
    """Exit 2 with one line: a configuration error (the ledger's URL or database included)."""
    console.print(f"[red]configuration error:[/] {exc}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def _open_ledger(console: Console, url: str) -> Ledger:
    from leadbridge.flows.ledger import Ledger, LedgerError

    try:
        return Ledger(url)
    except LedgerError as exc:
        raise _fail(console, exc) from None


@app.command()
def run(
    names: NamesArgument = None,
    run_all: AllOption = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Read and plan, change nothing, print the plan")]
    = False,
    config: ConfigOption = None,
    workers: WorkersOption = WORKERS,
    as_json: JsonOption = False,
) -> None:
    """Run flows once and print a table of what they did (or would do)."""
    from leadbridge.flows.ledger import LedgerError
    from leadbridge.flows.runner import failures, render_reports, reports_json, resolve_names, run_flows

    console = Console(stderr=as_json)
    try:
        settings = load_config(config)
        chosen = resolve_names(settings, names or [], run_all)
    except ConfigError as exc:
        raise _fail(console, exc) from None
    with _stop_on_signals() as stop:
        try:
            reports = run_flows(settings, chosen, dry_run=dry_run, console=console, workers=workers,
                                show_progress=not as_json, stop=stop)
        except (ConfigError, LedgerError) as exc:
            raise _fail(console, exc) from None
        except KeyboardInterrupt:
            console.print("interrupted: calls in flight may show as uncertain on the next run", style="red")
            raise typer.Exit(_stopped_code(stop)) from None
    if as_json:
        print(json.dumps(reports_json(reports), ensure_ascii=False, indent=2))
    else:
        render_reports(console, reports)
    if stop.is_set():
        console.print("stopped before the end: the units not started wait for the next run", style="yellow")
        raise typer.Exit(_stopped_code(stop))
    problem = failures(reports)
    if problem:
        console.print(f"[red]flows failed:[/] {problem}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)


@app.command()
def status(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Show the ledger: units pending, done, failed, skipped and uncertain, and those needing attention."""
    from leadbridge.flows.runner import render_status, status_json

    console = Console(stderr=as_json)
    try:
        settings = load_config(config)
    except ConfigError as exc:
        raise _fail(console, exc) from None
    with _open_ledger(console, settings.ledger.url) as ledger:
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
    workers: WorkersOption = WORKERS,
    runs: Annotated[int, typer.Option(min=0, help="Stop after this many runs (0: until stopped)")] = 0,
) -> None:
    """Run the flows (all configured, or those named) on a schedule until stopped (Ctrl-C)."""
    from leadbridge.flows.ledger import LedgerError
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
    failed_rounds = 0
    with _stop_on_signals() as stop:
        try:
            while not stop.is_set():
                started = datetime.now(UTC)
                console.rule(f"run {done + 1} at {started:%Y-%m-%d %H:%M:%S} UTC")
                try:
                    reports = run_flows(settings, chosen, console=console, workers=workers, stop=stop)
                except (ConfigError, LedgerError) as exc:
                    raise _fail(console, exc) from None
                except (SQLAlchemyError, OSError) as exc:
                    # The ledger (or its disk or server) failed for a moment: this round is lost, the watch goes on.
                    wait = WATCH_RETRY_SECONDS[min(failed_rounds, len(WATCH_RETRY_SECONDS) - 1)]
                    failed_rounds += 1
                    log.warning("flows watch: run %d failed on the ledger (%s); retrying in %.0fs", done + 1,
                                type(exc).__name__, wait)
                    console.print(f"[yellow]run {done + 1} failed on the ledger ({type(exc).__name__}: "
                                  f"{str(exc).splitlines()[0][:200]}); retrying in {wait:.0f}s[/]", highlight=False)
                    stop.sleep(wait)
                    continue
                failed_rounds = 0
                render_reports(console, reports)
                done += 1
                if runs and done >= runs:
                    return
                wake = started + pause
                console.print(f"next run at {wake:%H:%M:%S} UTC (every {every or settings.schedule.every}); "
                              "Ctrl-C to stop", style="dim")
                stop.sleep((wake - datetime.now(UTC)) / timedelta(seconds=1))
        except KeyboardInterrupt:
            pass
    console.print("stopped")


@app.command()
def resolve(
    unit_ids: Annotated[list[int], typer.Argument(min=1, max=2**63 - 1,  # the ledger's 64-bit ids
                                                  help="The units' numbers, as `flows status` shows them")],
    done: Annotated[bool, typer.Option("--done", help="It happened on the platform: never make it again")] = False,
    retry: Annotated[bool, typer.Option("--retry", help="It did not happen: make it again on the next run")]
    = False,
    skip: Annotated[bool, typer.Option("--skip", help="Never make it: record it as skipped by hand")] = False,
    config: ConfigOption = None,
) -> None:
    """Settle units that need a person (uncertain, failed, pending or claimed by a gone runner)."""
    console = Console()
    if done + retry + skip != 1:
        console.print("[red]configuration error:[/] give exactly one of --done, --retry or --skip")
        raise typer.Exit(2)
    try:
        settings = load_config(config)
    except ConfigError as exc:
        raise _fail(console, exc) from None
    action: Literal["done", "retry", "skip"] = "done" if done else "retry" if retry else "skip"
    refused = 0
    with _open_ledger(console, settings.ledger.url) as ledger:
        for unit_id in unit_ids:
            try:
                console.print(ledger.resolve(unit_id, action), highlight=False, soft_wrap=True)
            except (KeyError, ValueError) as exc:
                console.print(f"[red]{exc.args[0]}[/]", highlight=False, soft_wrap=True)
                refused += 1
    if refused:
        raise typer.Exit(1)


@app.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free port)")] = 8767,
    workers: WorkersOption = WORKERS,
    catch_up: Annotated[bool, typer.Option(
        "--catch-up/--no-catch-up", help="Also run the configured flows every schedule.every, to fill in what "
                                         "lost webhooks missed")] = True,
    every: Annotated[str | None, typer.Option(help="Pause between catch-up runs (default: schedule.every)")] = None,
) -> None:
    """Receive Leeloo webhooks (POST / or /webhooks/leeloo) and trigger the flows' units within seconds."""
    import socket

    import uvicorn

    from leadbridge.errors import LeadbridgeError
    from leadbridge.flows.ledger import LedgerError
    from leadbridge.flows.serve import LiveFlows

    console = Console(stderr=True)
    try:
        settings = load_config(config)
        pause = parse_duration(every or settings.schedule.every).total_seconds()
        if pause < MIN_WATCH_SECONDS:
            raise ValueError(f"--every: the pause between catch-up runs must be at least {MIN_WATCH_SECONDS:.0f}s")
    except (ConfigError, ValueError) as exc:
        raise _fail(console, exc) from None
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        listener.listen(2048)  # deliveries arriving while the server starts wait in the backlog
    except OSError as exc:
        console.print(f"[red]cannot listen on {host}:{port}:[/] {exc.strerror or exc}", highlight=False)
        raise typer.Exit(1) from None
    try:
        live = LiveFlows(settings, workers=workers, catch_up=catch_up, every=pause, console=console)
    except (ConfigError, LedgerError) as exc:
        listener.close()
        raise _fail(console, exc) from None
    except LeadbridgeError as exc:  # a platform could not be read at start (its tags)
        listener.close()
        console.print(f"[red]cannot start:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    bound = listener.getsockname()[1]
    # The address on stdout, flushed: scripts starting `flows serve --port 0` read it from here.
    print(f"flows serve: receiving webhooks at http://{host}:{bound}/ (and /webhooks/leeloo)", flush=True)
    server = uvicorn.Server(uvicorn.Config(live.app, log_level="warning", access_log=False, lifespan="on"))
    server.run(sockets=[listener])


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

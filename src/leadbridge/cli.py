"""The ``leadbridge`` command line."""

from __future__ import annotations

import signal
import socket
from pathlib import Path
from types import FrameType
from typing import Annotated, NoReturn

import typer

app = typer.Typer(help="leadbridge: sandbox, SDK and flows for Leeloo.ai, Neiros and Dialog.",
                  no_args_is_help=True, add_completion=False)

SANDBOX_BACKENDS = ("sqlite", "postgresql")


def _show_version(value: bool) -> None:
    if value:
        from leadbridge import __version__

        typer.echo(f"leadbridge {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_show_version, is_eager=True,
                                          help="Print the version and exit")] = False,
) -> None:
    """leadbridge: sandbox, SDK and flows for Leeloo.ai, Neiros and Dialog."""


def _refuse(message: str, code: int = 2) -> NoReturn:
    """One line on stderr and an exit code: 2 for a bad option, 1 for a problem of the machine."""
    typer.echo(f"leadbridge sandbox: {message}", err=True)
    raise typer.Exit(code)


def _check_db_url(db: str) -> str:
    """The database URL as it may be shown (password hidden); refuses what the sandbox cannot open."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(db)
    except ArgumentError:
        _refuse("--db: not a database URL (sqlite:///file, sqlite:// or postgresql://user@host/db)")
    if url.get_backend_name() not in SANDBOX_BACKENDS:
        _refuse(f"--db: {url.get_backend_name()!r} is not supported (sqlite or postgresql)")
    shown: str = url.render_as_string(hide_password=True)
    return shown


def _listen(host: str, port: int) -> socket.socket:
    """Bind the listening socket now, so a port in use is told before any seeding (uvicorn then serves it)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as exc:
        _refuse(f"--host: cannot listen on {host!r} ({exc})")
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: restart over TIME_WAIT
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        reason = "is in use" if exc.errno in (98, 48) else f"cannot be used ({exc.strerror})"
        _refuse(f"port {port} on {host} {reason}", code=1)
    return sock


@app.command()
def sandbox(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on")] = 8765,
    db: Annotated[str, typer.Option(help="Database URL: sqlite:///file, sqlite:// (memory) or postgresql://…")]
    = "sqlite:///leadbridge-sandbox.sqlite3",
    seed: Annotated[int, typer.Option(help="Seed of the demo data")] = 1,
    people: Annotated[int, typer.Option(min=0, max=1_000_000, help="Demo people in the demo company")] = 1000,
    reset: Annotated[bool, typer.Option(help="Drop existing data and seed again")] = False,
    realistic: Annotated[bool, typer.Option(help="Enforce Leeloo's rate limit (300 requests a minute per token, "
                                                 "plain-text 429); also POST /_sandbox/realistic")] = False,
    control_token: Annotated[str | None, typer.Option(
        help="Token the control API (/_sandbox) requires in X-Sandbox-Token; when --host is not loopback "
             "and none is given, one is generated and printed")] = None,
    webhook: Annotated[str | None, typer.Option(
        help="Send the demo tenant's webhooks (ORDER, SALE, SUBSCRIPTION, INCOMING_MESSAGE) to this URL; "
             "also PUT /_sandbox/webhooks")] = None,
    activity: Annotated[str | None, typer.Option(
        help="Make the world move on the sandbox clock: calm (6 events a minute), busy (400) or N a minute; "
             "deterministic from --seed")] = None,
    workers: Annotated[int, typer.Option(
        min=1, max=64, help="Processes serving the database at once (one core each); more than one needs "
                            "PostgreSQL or a SQLite file, and neither --realistic nor --activity")] = 1,
) -> None:
    """Serve the Leeloo, Neiros and Dialog sandbox (seeds demo data into an empty database).

    SIGTERM or Ctrl-C stops it gracefully: requests in flight are answered, then the database is closed.
    """
    import uvicorn
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from leadbridge.contract.sandbox import TOKEN_HEADER
    from leadbridge.sandbox.activity import parse_rate
    from leadbridge.sandbox.app import create_app
    from leadbridge.sandbox.control import control_token_for, is_loopback
    from leadbridge.sandbox.server import tenant_credentials
    from leadbridge.sandbox.state import Sandbox
    from leadbridge.sandbox.webhooks import check_url
    from leadbridge.sandbox.wire import ApiError

    shown_db = _check_db_url(db)
    try:
        if webhook is not None:
            check_url(webhook)
        if activity is not None:
            parse_rate(activity)
    except ApiError as exc:
        _refuse(f"--webhook: {exc.message}")
    except ValueError as exc:
        _refuse(f"--activity: {exc}")
    if workers > 1 and db in ("sqlite://", "sqlite:///:memory:"):
        _refuse("--workers: an in-memory database belongs to one process; use PostgreSQL or a SQLite file")
    if workers > 1 and realistic:
        _refuse("--workers: realistic mode counts each token's requests in one process; use one worker")
    if workers > 1 and activity is not None:
        _refuse("--workers: the world's activity is drawn by one process; use one worker")
    listener = _listen(host, port)
    console = Console()
    try:
        state = Sandbox(db, seed=seed, people=people, realistic=realistic, activity=activity, webhook_url=webhook)
        try:
            with state.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            state.close()
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            _refuse(f"--db: cannot open {shown_db}: {reason}")
        console.print(f"Preparing the sandbox database ({people:,} people)…")
        with Progress(TextColumn("Seeding {task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console, transient=True) as bar:
            tasks: dict[str, TaskID] = {}

            def seeding(tenant: str, done: int, total: int) -> None:
                if tenant not in tasks:
                    tasks[tenant] = bar.add_task(tenant, total=total)
                bar.update(tasks[tenant], completed=min(done, total))

            try:
                state.start(reset=reset, progress=seeding)
            except KeyboardInterrupt:
                # Ctrl-C stops seeding between two batches; what was committed is marked unfinished.
                state.close()
                console.print("Seeding stopped: the next start seeds the database again from the start.")
                raise typer.Exit(130) from None
            application = create_app(state, start=False)
        creds = tenant_credentials()
        base = f"http://{host}:{port}"
        console.print(f"[bold]leadbridge sandbox[/] on [link]{base}[/]  (docs: {base}/docs, database: {shown_db})")
        console.print(f"  Leeloo  header X-Leeloo-AuthToken: {creds.leeloo_token}")
        console.print(f"  Neiros  POST {base}/api/userapi/v1/auth/login "
                      f'{{"email": "{creds.neiros_email}", "password": "{creds.neiros_password}"}}')
        console.print(f"  Dialog  POST {base}/api/login "
                      f'{{"login": "{creds.dialog_login}", "password": "{creds.dialog_password}"}}')
        if realistic:
            console.print("  realistic mode: Leeloo allows 300 requests a minute per token")
        if webhook:
            console.print(f"  webhooks of the demo tenant go to {webhook} (log: {base}/_sandbox/ui/webhooks)")
        if state.activity is not None:
            console.print(f"  activity: {state.activity.per_minute:g} events a minute of sandbox time")
        console.print(f"  try:    curl -H 'X-Leeloo-AuthToken: {creds.leeloo_token}' '{base}/api/v2/people?limit=2'")
        state.control_token = control_token_for(host, control_token)
        if state.control_token is not None:
            console.print(f"  control {base}/_sandbox/… needs header {TOKEN_HEADER}: {state.control_token}")
        if not is_loopback(host):
            console.print(f"[bold yellow]warning:[/] listening on {host}, beyond loopback: anyone who can reach "
                          "this port can use the demo tenants' credentials printed above; the control API "
                          f"answers only requests carrying {TOKEN_HEADER}.")
        if workers > 1:
            from leadbridge.sandbox.workers import serve_workers

            console.print(f"  {workers} worker processes share the database: each answers with its own request "
                          "log (/_sandbox/requests) and webhook delivery log; the clock, the faults and the webhook "
                          "settings are the same on all")
            state.close()
            serve_workers(listener, workers=workers, db=db, seed=seed, people=people,
                          control_token=state.control_token)
            console.print("sandbox stopped")
            return
        server = uvicorn.Server(uvicorn.Config(application, log_level="warning", access_log=False))
        # uvicorn stops gracefully on SIGTERM/SIGINT, then raises the signal again under the handler it
        # found: this one, so the process ends through the clean-up below with status 0, not killed.
        stopped: list[int] = []

        def _note(signum: int, _frame: FrameType | None) -> None:
            stopped.append(signum)

        previous = {s: signal.signal(s, _note) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            server.run(sockets=[listener])
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        state.close()
        console.print("sandbox stopped" + (f" ({signal.Signals(stopped[0]).name})" if stopped else ""))
    finally:
        listener.close()


def _flows_app() -> typer.Typer:
    from leadbridge.flows.cli import app as flows

    return flows


app.add_typer(_flows_app(), name="flows")


def _register_export() -> None:
    from leadbridge.export.cli import export_command, report

    app.command("export")(export_command)
    app.add_typer(report, name="report")


_register_export()


@app.command()
def demo(
    people: Annotated[int, typer.Option(min=10, max=100_000, help="Demo people in the embedded sandbox")] = 300,
    ui: Annotated[bool, typer.Option("--ui", help="Then keep the sandbox and the flows dashboard serving")] = False,
    keep: Annotated[Path | None, typer.Option(help="Keep the demo's leadbridge.toml and ledger in this folder",
                                              file_okay=False)] = None,
) -> None:
    """Run the four flows against an embedded sandbox and print what happened (under a minute)."""
    from leadbridge.flows.demo import run_demo

    raise typer.Exit(run_demo(people=people, directory=keep, ui=ui))


if __name__ == "__main__":
    app()

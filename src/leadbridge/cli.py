"""The ``leadbridge`` command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="leadbridge: sandbox, SDK and flows for Leeloo.ai, Neiros and Dialog.",
                  no_args_is_help=True, add_completion=False)


@app.callback()
def main() -> None:
    """leadbridge: sandbox, SDK and flows for Leeloo.ai, Neiros and Dialog."""


@app.command()
def sandbox(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8765,
    db: Annotated[str, typer.Option(help="Database URL: sqlite:///file, sqlite:// (memory) or postgresql://…")]
    = "sqlite:///leadbridge-sandbox.sqlite3",
    seed: Annotated[int, typer.Option(help="Seed of the demo data")] = 1,
    people: Annotated[int, typer.Option(min=0, max=1_000_000, help="Demo people in the demo company")] = 1000,
    reset: Annotated[bool, typer.Option(help="Drop existing data and seed again")] = False,
) -> None:
    """Serve the Leeloo, Neiros and Dialog sandbox (seeds demo data into an empty database)."""
    import uvicorn
    from rich.console import Console

    from leadbridge.sandbox.app import create_app
    from leadbridge.sandbox.server import tenant_credentials
    from leadbridge.sandbox.state import Sandbox

    console = Console()
    with console.status(f"Preparing the sandbox database ({people:,} people)…"):
        state = Sandbox(db, seed=seed, people=people)
        state.start(reset=reset)
        application = create_app(state, start=False)
    creds = tenant_credentials()
    base = f"http://{host}:{port}"
    console.print(f"[bold]leadbridge sandbox[/] on [link]{base}[/]  (docs: {base}/docs, database: {db})")
    console.print(f"  Leeloo  header X-Leeloo-AuthToken: {creds.leeloo_token}")
    console.print(f"  Neiros  POST {base}/api/userapi/v1/auth/login "
                  f'{{"email": "{creds.neiros_email}", "password": "{creds.neiros_password}"}}')
    console.print(f"  Dialog  POST {base}/api/login "
                  f'{{"login": "{creds.dialog_login}", "password": "{creds.dialog_password}"}}')
    console.print(f"  try:    curl -H 'X-Leeloo-AuthToken: {creds.leeloo_token}' '{base}/api/v2/people?limit=2'")
    uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False)


def _flows_app() -> typer.Typer:
    from leadbridge.flows.cli import app as flows

    return flows


app.add_typer(_flows_app(), name="flows")


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

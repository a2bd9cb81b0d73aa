"""``leadbridge export`` and ``leadbridge report funnel``."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from leadbridge.flows.config import ConfigError, load_config

if TYPE_CHECKING:
    from leadbridge.export.pipeline import ExportResult, Platform

ConfigOption = Annotated[Path | None, typer.Option(
    "--config", "-c", envvar="LEADBRIDGE_CONFIG", help="Configuration file (default: ./leadbridge.toml)")]
ToOption = Annotated[str | None, typer.Option(
    "--to", help="Warehouse: duckdb:///file.duckdb or postgresql://… (default: [export] destination)")]

report = typer.Typer(help="Reports read from the warehouse that `leadbridge export` fills.", no_args_is_help=True,
                     add_completion=False)


def export_command(
    to: ToOption = None,
    platform: Annotated[list[str] | None, typer.Option(
        "--platform", "-p", help="leeloo, neiros or dialog (repeat it; default: [export] platforms)")] = None,
    full_refresh: Annotated[bool, typer.Option(
        "--full-refresh", help="Drop the exported tables and incremental state, and load everything again")] = False,
    config: ConfigOption = None,
) -> None:
    """Export Leeloo, Neiros and Dialog into one warehouse (DuckDB by default); a second run loads only changes."""
    console = Console()
    _require_extra(console)
    try:
        settings = load_config(config)
        chosen = _platforms(platform)
        result = export_with_progress(settings, console, to=to, platforms=chosen, full_refresh=full_refresh)
    except ConfigError as exc:
        console.print(f"[red]configuration error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    from leadbridge.export.pipeline import render_export

    render_export(console, result)


def _require_extra(console: Console) -> None:
    """Stop with the install line when the export extra is missing (the commands are always listed)."""
    try:
        import dlt  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError:
        console.print("the export needs its extra: pip install 'leadbridge[export]'")
        raise typer.Exit(2) from None


def _platforms(names: list[str] | None) -> list[Platform] | None:
    from leadbridge.export.pipeline import PLATFORMS

    if not names:
        return None
    unknown = [name for name in names if name not in PLATFORMS]
    if unknown:
        raise ConfigError(f"--platform: {', '.join(unknown)} is not one of {', '.join(PLATFORMS)}")
    return [p for p in PLATFORMS if p in names]


def export_with_progress(settings: Any, console: Console, **options: Any) -> ExportResult:
    """Run the export with one progress bar per resource (rows extracted so far)."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from leadbridge.export.pipeline import run_export

    columns = (SpinnerColumn(), TextColumn("{task.description:<16}"), BarColumn(),
               TextColumn("{task.completed:>10,.0f} rows"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        tasks: dict[str, Any] = {}

        def on_rows(resource: str, count: int) -> None:
            if resource not in tasks:
                tasks[resource] = progress.add_task(resource, total=None)
            progress.advance(tasks[resource], count)

        result = run_export(settings, on_rows=on_rows, **options)
        for task in tasks.values():
            progress.update(task, total=progress.tasks[task].completed or 1, completed=progress.tasks[task].completed
                            or 1)
    return result


def _moment(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD) or an ISO datetime",
                                 param_hint=option) from None
    if len(value) == 10:
        moment = datetime.combine(date.fromisoformat(value), time())
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@report.command("funnel")
def funnel_command(
    date_from: Annotated[str | None, typer.Option("--from", help="Leads from this day (UTC, inclusive)")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Leads before this day (UTC, exclusive)")] = None,
    by: Annotated[str, typer.Option("--by", help="Group by source, tunnel or campaign")] = "source",
    html_file: Annotated[Path | None, typer.Option("--html", help="Also write a self-contained HTML page")] = None,
    warehouse: Annotated[str | None, typer.Option("--warehouse", help="Warehouse URL (default: [export] "
                                                                     "destination)")] = None,
    config: ConfigOption = None,
) -> None:
    """The end-to-end funnel: leads → called → answered → goal → ordered → paid → revenue, per group."""
    console = Console()
    _require_extra(console)
    from leadbridge.export.funnel import render_funnel

    if by not in ("source", "tunnel", "campaign"):
        raise typer.BadParameter("use source, tunnel or campaign", param_hint="--by")
    start, end = _moment(date_from, "--from"), _moment(date_to, "--to")
    try:
        settings = load_config(config)
        funnel, by_source = report_funnel(settings, warehouse, by=by, date_from=start, date_to=end)
    except ConfigError as exc:
        console.print(f"[red]configuration error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    render_funnel(console, funnel)
    if html_file is not None:
        from leadbridge.export.funnel import funnel_html

        html_file.write_text(funnel_html(funnel, by_source), encoding="utf-8")
        console.print(f"Wrote {html_file}")


def report_funnel(settings: Any, warehouse: str | None, *, by: Any, date_from: datetime | None,
                  date_to: datetime | None, pipelines_dir: str | None = None) -> tuple[Any, Any]:
    """The funnel grouped ``by``, and grouped by source (for the HTML page's charts)."""
    from leadbridge.export.funnel import read_funnel
    from leadbridge.export.pipeline import export_config, make_pipeline

    export = export_config(settings)
    pipeline = make_pipeline(warehouse or export.destination, export.dataset, pipelines_dir or export.pipelines_dir)
    funnel = read_funnel(pipeline, by=by, date_from=date_from, date_to=date_to)
    by_source = funnel if by == "source" else read_funnel(pipeline, by="source", date_from=date_from,
                                                          date_to=date_to)
    return funnel, by_source

"""``leadbridge export``: the three sources into one warehouse, configured by ``leadbridge.toml``.

The ``[export]`` section (all keys optional)::

    [export]
    destination = "duckdb:///leadbridge.duckdb"   # or postgresql://user:password@host:5432/db
    dataset = "leadbridge"                        # the schema the tables go to
    pipelines_dir = ".leadbridge/pipelines"       # dlt's local working folder (state is also kept in the warehouse)
    concurrency = 4                               # pages of one list fetched at once
    platforms = ["leeloo", "neiros", "dialog"]

    [export.neiros]
    sites = []            # default: every site

    [export.dialog]
    campaigns = []        # campaign ids, besides those the flows' ledger recorded
    from_ledger = true
    project_id = 1        # default: flows.call-leads.project_id / start_block_id, flows.call-results.scenario_id
    scenario_id = 951
    start_block_id = 10

Credentials come from the ``[leeloo]``, ``[neiros]`` and ``[dialog]`` sections the flows use.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from leadbridge.flows.config import Config, ConfigError

Platform = Literal["leeloo", "neiros", "dialog"]
PLATFORMS: tuple[Platform, ...] = ("leeloo", "neiros", "dialog")
DEFAULT_DESTINATION = "duckdb:///leadbridge.duckdb"
# The column that marks a resource's own table among the tables it yields (its child tables lack it).
ROW_KEYS = {"dialog_results": "dialog_id", "tunnel_stats": "tunnel_id"}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NeirosExport(_Section):
    sites: list[int] = Field(default_factory=list, description="Neiros site ids (default: every site)")


class DialogExport(_Section):
    campaigns: list[int] = Field(default_factory=list, description="Campaign ids to export")
    from_ledger: bool = Field(default=True, description="Also the campaigns the flows' ledger recorded")
    project_id: int | None = None
    scenario_id: int | None = None
    start_block_id: int | None = None


class ExportConfig(_Section):
    destination: str = DEFAULT_DESTINATION
    dataset: str = Field(default="leadbridge", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    pipelines_dir: str = ".leadbridge/pipelines"
    concurrency: int = Field(default=4, ge=1, le=32)
    page_size: int = Field(default=100, ge=1, le=1000)
    platforms: list[Platform] = Field(default_factory=lambda: list(PLATFORMS))
    neiros: NeirosExport = Field(default_factory=NeirosExport)
    dialog: DialogExport = Field(default_factory=DialogExport)


def export_config(config: Config) -> ExportConfig:
    """The validated ``[export]`` section; errors name the key (``export.dialog.campaigns``)."""
    try:
        return ExportConfig.model_validate(config.export)
    except PydanticValidationError as exc:
        problems = "; ".join(f"export.{'.'.join(str(p) for p in e['loc'])}: "
                             f"{'unknown key' if e['type'] == 'extra_forbidden' else e['msg']}" for e in exc.errors())
        raise ConfigError(problems) from None


def destination_of(url: str) -> Any:
    """A dlt destination from a URL: ``duckdb:///file.duckdb`` (or a path ending .duckdb), ``postgresql://…``."""
    import dlt

    from leadbridge.export.warehouse import duckdb_destination

    scheme, _, rest = url.partition("://")
    base = scheme.split("+", 1)[0].lower()
    if base in ("postgresql", "postgres"):
        from dlt.destinations.impl.postgres.configuration import PostgresCredentials

        credentials = PostgresCredentials(f"postgresql://{rest}")
        if credentials.password is None:
            credentials.password = ""  # dlt insists on one; a server with trust or peer auth needs none
        return dlt.destinations.postgres(credentials=credentials)
    if base == "duckdb":
        return duckdb_destination(rest[1:] if rest.startswith("/") else rest)
    if not rest and url.endswith(".duckdb"):
        return duckdb_destination(url)
    raise ConfigError(f"export.destination: {url!r} is neither duckdb:///file.duckdb nor postgresql://…")


def pipeline_name(destination: str, dataset: str) -> str:
    """One dlt pipeline (and local state folder) per warehouse and dataset."""
    digest = hashlib.sha1(f"{destination}|{dataset}".encode()).hexdigest()[:10]
    return f"leadbridge_{digest}"


def make_pipeline(destination: str, dataset: str, pipelines_dir: str) -> Any:
    import dlt

    # dlt reports anonymous usage unless told not to; an export must not call anyone but the platforms.
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    return dlt.pipeline(pipeline_name(destination, dataset), destination=destination_of(destination),
                        dataset_name=dataset, pipelines_dir=pipelines_dir)


def dialog_campaigns(config: Config, settings: ExportConfig) -> Callable[[], list[Any]]:
    """The campaigns whose reports to export: configured ids, and those the flows' ledger recorded."""
    from leadbridge.export.dialog import Campaign, ledger_campaigns

    leads = config.flows.call_leads
    results = config.flows.call_results
    project_id = settings.dialog.project_id or (leads.project_id if leads else None)
    start_block_id = settings.dialog.start_block_id or (leads.start_block_id if leads else None)
    scenario_id = settings.dialog.scenario_id or (results.scenario_id if results else None)
    missing = [name for name, value in (("project_id", project_id), ("scenario_id", scenario_id),
                                        ("start_block_id", start_block_id)) if value is None]

    def campaigns() -> list[Campaign]:
        wanted = settings.dialog.campaigns or settings.dialog.from_ledger
        if not wanted:
            return []
        if missing:
            raise ConfigError(f"export.dialog: {', '.join(missing)} missing (or set them in flows.call-leads "
                              "and flows.call-results)")
        assert project_id is not None and scenario_id is not None and start_block_id is not None
        found = ledger_campaigns(config.ledger.url, project_id=project_id, scenario_id=scenario_id,
                                 start_block_id=start_block_id) if settings.dialog.from_ledger else []
        known = {c.campaign_id for c in found}
        extra = [Campaign(cid, project_id, scenario_id, start_block_id) for cid in settings.dialog.campaigns
                 if cid not in known]
        return [*found, *extra]

    return campaigns


def sources(config: Config, settings: ExportConfig, platforms: Sequence[Platform]) -> list[Any]:
    """The dlt sources of the chosen platforms, from the flows' credentials."""
    from leadbridge.export.dialog import dialog_source
    from leadbridge.export.leeloo import leeloo_source
    from leadbridge.export.neiros import neiros_source

    region = config.phones.default_region
    chosen: list[Any] = []
    for platform in platforms:
        if platform == "leeloo":
            if config.leeloo is None:
                raise ConfigError("export of leeloo needs the [leeloo] section")
            chosen.append(leeloo_source(config.leeloo.token.get_secret_value(), config.leeloo.base_url,
                                        rate_limit=config.leeloo.rate_limit, concurrency=settings.concurrency,
                                        page_size=settings.page_size, phone_region=region))
        elif platform == "neiros":
            if config.neiros is None:
                raise ConfigError("export of neiros needs the [neiros] section")
            n = config.neiros
            chosen.append(neiros_source(n.email, n.password.get_secret_value() if n.password else None,
                                        token=n.token.get_secret_value() if n.token else None, base_url=n.base_url,
                                        sites=settings.neiros.sites or None, phone_region=region,
                                        client_options=_limit(n.rate_limit)))
        else:
            if config.dialog is None:
                raise ConfigError("export of dialog needs the [dialog] section")
            d = config.dialog
            chosen.append(dialog_source(dialog_campaigns(config, settings), d.login,
                                        d.password.get_secret_value() if d.password else None,
                                        token=d.token.get_secret_value() if d.token else None, base_url=d.base_url,
                                        phone_region=region, client_options=_limit(d.rate_limit)))
    return chosen


def _limit(rate_limit: float | Literal[False] | None) -> dict[str, Any]:
    return {} if rate_limit is None else {"rate_limit": rate_limit or None}


@dataclass
class ExportResult:
    """What one export loaded: rows per table (dlt's normalize counts), the time taken, dlt's load info."""

    destination: str
    dataset: str
    rows: dict[str, int]
    seconds: float
    load_info: Any = field(repr=False, default=None)


RowCounter = Callable[[str, int], None]


def _counter(name: str, key: str, on_rows: RowCounter) -> Callable[[Any], Any]:
    # One argument only: dlt hands a map step the item's metadata when it takes a second one.
    def counted(item: Any) -> Any:
        names = getattr(item, "column_names", None)
        if names is not None and key in names:
            on_rows(name, item.num_rows)
        return item

    return counted


def _count_rows(source: Any, on_rows: RowCounter) -> None:
    """Report each resource's rows (of its own table) as they are extracted."""
    for name, resource in source.selected_resources.items():
        resource.add_map(_counter(name, ROW_KEYS.get(name, "id"), on_rows))


def run_export(config: Config, *, to: str | None = None, platforms: Sequence[Platform] | None = None,
               full_refresh: bool = False, on_rows: RowCounter | None = None,
               pipelines_dir: str | None = None) -> ExportResult:
    """Export the platforms into the warehouse; a second run loads only what changed."""
    settings = export_config(config)
    destination = to or settings.destination
    chosen = list(platforms or settings.platforms)
    pipeline = make_pipeline(destination, settings.dataset, pipelines_dir or settings.pipelines_dir)
    picked = sources(config, settings, chosen)
    if on_rows is not None:
        for source in picked:
            _count_rows(source, on_rows)
    started = time.monotonic()
    info = pipeline.run(picked, refresh="drop_sources" if full_refresh else None)
    seconds = time.monotonic() - started
    counts = pipeline.last_trace.last_normalize_info.row_counts if pipeline.last_trace else {}
    rows = {table: count for table, count in sorted(counts.items()) if not table.startswith("_dlt")}
    return ExportResult(destination, settings.dataset, rows, seconds, info)


def render_export(console: Any, result: ExportResult) -> None:
    """The summary: rows loaded per table and the time taken."""
    from rich.table import Table

    table = Table(title=f"Loaded into {result.dataset} ({_redacted(result.destination)}) in {result.seconds:.1f} s",
                  title_justify="left")
    table.add_column("table", style="bold")
    table.add_column("rows loaded", justify="right")
    for name, count in result.rows.items():
        table.add_row(name, f"{count:,}")
    if not result.rows:
        table.add_row("(nothing changed)", "0")
    console.print(table)


def _redacted(url: str) -> str:
    """A destination URL without its password."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in credentials else url
    return url

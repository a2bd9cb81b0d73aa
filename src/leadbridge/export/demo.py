"""The end of ``leadbridge demo``: export the demo's platforms into DuckDB and print the funnel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from leadbridge.export.funnel import Funnel, read_funnel, render_funnel
from leadbridge.flows.config import Config


def export_and_report(config: Config, console: Any, folder: Path) -> Funnel:
    """Export every platform of ``config`` into ``folder/warehouse.duckdb`` and print the funnel by source."""
    from leadbridge.export.cli import export_with_progress
    from leadbridge.export.pipeline import export_config, make_pipeline, render_export

    export = {**config.export, "destination": f"duckdb:///{folder / 'warehouse.duckdb'}",
              "pipelines_dir": str(folder / "pipelines")}
    settings = config.model_copy(update={"export": export})
    result = export_with_progress(settings, console)
    render_export(console, result)
    chosen = export_config(settings)
    pipeline = make_pipeline(chosen.destination, chosen.dataset, chosen.pipelines_dir)
    funnel = read_funnel(pipeline, by="source")
    render_funnel(console, funnel)
    return funnel

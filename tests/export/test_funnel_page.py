"""The funnel's HTML page opens in Chromium with every other host blocked, and shows its charts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from export_support import ExportSetup
from rich.console import Console

from leadbridge.export.demo import export_and_report
from leadbridge.export.funnel import funnel_html, read_funnel
from leadbridge.export.pipeline import export_config, make_pipeline

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "funnel.png"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def test_the_page_shows_the_funnel_chart_offline(setup: ExportSetup, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is required under CI (.ci/run installs it)")
        pytest.skip("no Chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    setup.start_campaign(people=8)
    setup.advance(86_400)
    config = setup.config()
    funnel = export_and_report(config, Console(file=open(os.devnull, "w")), tmp_path)  # noqa: SIM115
    settings = export_config(config.model_copy(update={"export": {
        **config.export, "destination": f"duckdb:///{tmp_path / 'warehouse.duckdb'}",
        "pipelines_dir": str(tmp_path / "pipelines")}}))
    pipeline = make_pipeline(settings.destination, settings.dataset, settings.pipelines_dir)
    by_source = read_funnel(pipeline, by="source")
    page_file = tmp_path / "funnel.html"
    page_file.write_text(funnel_html(funnel, by_source), encoding="utf-8")

    outside: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 900})

            def block(route: object) -> None:
                request = route.request  # type: ignore[attr-defined]
                if request.url.startswith("file://"):
                    route.continue_()  # type: ignore[attr-defined]
                else:
                    outside.append(request.url)
                    route.abort()  # type: ignore[attr-defined]

            page.route("**/*", block)
            page.goto(page_file.as_uri())
            bars = page.locator("svg.funnel-chart rect.bar")
            assert bars.count() == 6
            shown = {bars.nth(i).get_attribute("data-step"): int(bars.nth(i).get_attribute("data-value") or -1)
                     for i in range(bars.count())}
            assert shown["leads"] == int(funnel.total.values["leads"])
            assert shown["called"] == int(funnel.total.values["called"]) > 0
            assert shown["paid"] == int(funnel.total.values["paid"])
            assert float(bars.first.get_attribute("width") or 0) > 0
            charts = page.locator("section.source svg.source-chart")
            assert charts.count() == len(by_source.groups) > 0
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
    assert outside == []

"""The funnel read from the warehouse equals the same path computed here from the sandbox API."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from export_support import ExportSetup
from rich.console import Console

from leadbridge.export.demo import export_and_report
from leadbridge.flows.phones import normalise

PAID = ("RESOLVED", "SUCCESS")
WIDE = {**os.environ, "COLUMNS": "220"}  # the tables are wide; a narrow terminal would fold their cells


def api_funnel(setup: ExportSetup) -> dict[str, float]:
    """The funnel's definitions (docs/export.md), computed from what the API serves."""
    people = setup.api_people()
    orders = setup.api_orders()
    deals = setup.api_deals()
    rows = setup.api_dialog_rows()
    phone = {p.id: normalise(p.phone).e164 if p.phone else None for p in people}
    people_phones = {number for number in phone.values() if number}
    leads: list[tuple[str | None, str | None, str]] = [(p.id, phone[p.id], f"person:{p.id}") for p in people]
    deal_keys = {}
    for deal in deals:
        number = normalise(deal.phone).e164 if deal.phone else None
        if number is None or number not in people_phones:
            deal_keys.setdefault(number or f"deal:{deal.id}", number)
    leads += [(None, number, key) for key, number in deal_keys.items()]
    orders_of = defaultdict(list)
    for order in orders:
        orders_of[order.person_id].append(order)
    totals = defaultdict(float)
    for person_id, number, key in leads:
        calls = [r for r in rows if (person_id and r.get("person_id") == person_id)
                 or (number and normalise(r["phone_number"]).e164 == number)]
        mine = orders_of.get(person_id, []) if person_id else []
        matched = [d for d in deals if (number and d.phone and normalise(d.phone).e164 == number)
                   or key == f"deal:{d.id}"]
        totals["leads"] += 1
        totals["leeloo_people"] += 1 if person_id else 0
        totals["neiros_deals"] += len(matched)
        totals["called"] += 1 if calls else 0
        totals["answered"] += 1 if any(r["outcome"] == "answered" for r in calls) else 0
        totals["goal_reached"] += 1 if any(str(r["goal"]).lower() == "true" for r in calls) else 0
        totals["ordered"] += 1 if mine else 0
        totals["paid"] += 1 if any(o.status in PAID for o in mine) else 0
        totals["revenue"] += sum(o.price or 0 for o in mine if o.status in PAID)
        totals["neiros_revenue"] += sum(d.summ or 0 for d in matched)
    return dict(totals)


def test_the_funnel_matches_the_api(setup: ExportSetup, tmp_path: Path) -> None:
    setup.start_campaign(people=10)
    setup.advance(86_400)
    opened = next(o for o in setup.api_orders() if o.status == "OPENED")
    setup.leeloo.orders.update(opened.id, "RESOLVED", price=777.0)
    console = Console(record=True, width=200)
    funnel = export_and_report(setup.config(), console, tmp_path)
    expected = api_funnel(setup)
    assert expected["called"] > 0 and expected["paid"] > 0
    for name, value in expected.items():
        assert funnel.total.values[name] == pytest.approx(value), name
    assert sum(row.values["leads"] for row in funnel.groups) == expected["leads"]
    printed = console.export_text()
    assert "End-to-end funnel" in printed and f"{int(expected['called']):,}" in printed


def test_report_funnel_command_prints_and_writes_html(setup: ExportSetup, tmp_path: Path) -> None:
    setup.start_campaign(people=5)
    setup.advance(86_400)
    config = setup.write_config()
    run = [sys.executable, "-m", "leadbridge.cli"]
    exported = subprocess.run([*run, "export", "--config", str(config)], capture_output=True, text=True,
                              timeout=600, cwd=tmp_path, env=WIDE)
    assert exported.returncode == 0, exported.stderr
    assert "people" in exported.stdout and "rows loaded" in exported.stdout
    page = tmp_path / "funnel.html"
    report = subprocess.run([*run, "report", "funnel", "--config", str(config), "--by", "campaign", "--html",
                             str(page)], capture_output=True, text=True, timeout=600, cwd=tmp_path, env=WIDE)
    assert report.returncode == 0, report.stderr
    assert "By campaign" in report.stdout and str(setup.campaigns[0]) in report.stdout
    text = page.read_text(encoding="utf-8")
    assert "<svg" in text and "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    bad = subprocess.run([*run, "report", "funnel", "--config", str(config), "--by", "colour"],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path, env=WIDE)
    assert bad.returncode == 2 and "--by" in bad.stderr

"""The funnel's terminal tables read whole in 80 columns: no header or number cut short."""

from __future__ import annotations

import re

from rich.console import Console

from leadbridge.export.funnel import COLUMNS, EARLIEST, LATEST, TITLES, Funnel, FunnelRow, _number, render_funnel

VALUES = {"leads": 100_000, "leeloo_people": 99_000, "neiros_deals": 12_345, "called": 81_234, "answered": 52_345,
          "goal_reached": 12_345, "ordered": 23_456, "paid": 12_345, "revenue": 12_345_678.5,
          "neiros_revenue": 98_765_432.25}
SOURCES = ("google", "yandex", "vk", "(none)", "yandex_direct_retargeting_spring")


def funnel() -> Funnel:
    groups = [FunnelRow(name, {key: value + n for key, value in VALUES.items()}) for n, name in enumerate(SOURCES)]
    return Funnel("source", EARLIEST, LATEST, FunnelRow("(all)", dict(VALUES)), groups)


def printed(width: int) -> str:
    console = Console(width=width, record=True, color_system=None)
    render_funnel(console, funnel())
    return console.export_text()


def test_by_source_fits_80_columns_with_every_header_and_number_whole() -> None:
    text = printed(80)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text
    flat = re.sub(r"[\s│┃]+", " ", text)  # headers may wrap at their spaces: read them across lines
    for row in funnel().groups:
        for name in COLUMNS:
            assert f" {_number(name, row.values[name])} " in text, (row.group, name)
    for name in COLUMNS:
        for word in TITLES[name].split():
            assert word in flat, name
    # A long group name wraps inside its cell instead of being cut.
    joined = "".join(re.findall(r"^│ (\S+)\s*│", text, flags=re.MULTILINE))
    assert "yandex_direct_retargeting_spring" in joined


def test_a_wide_terminal_keeps_one_table_on_one_line_per_group() -> None:
    text = printed(200)
    assert "By source" in text and "the path" not in text
    header = next(line for line in text.splitlines() if "source" in line and "Leeloo people" in line)
    for name in COLUMNS:
        assert TITLES[name] in header
    assert sum(1 for line in text.splitlines() if "yandex_direct_retargeting_spring" in line) == 1

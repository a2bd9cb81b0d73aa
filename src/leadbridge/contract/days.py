"""The one end-of-day rule: a bare date given as the upper bound of a window covers that whole day.

The documents' windows are inclusive (Leeloo's ``filter[last_message][to]``, Neiros'
``date_end``, Dialog's ``analytics_filter.date_end``): an upper bound written as a bare date
means up to the day's last instant, which is the next midnight less the finest step a
``datetime`` has (1 µs), so no moment of the day falls outside. The sandbox reads bounds so,
and the SDK turns a ``date`` given as an upper bound into that instant where the API asks
for one (on the wire cut to the API's milliseconds: 23:59:59.999).
"""

from __future__ import annotations

from datetime import date, datetime, time


def end_of_day(day: date) -> datetime:
    """The last instant of ``day`` (``time.max``); a datetime keeps its tzinfo."""
    if isinstance(day, datetime):
        return datetime.combine(day.date(), time.max, tzinfo=day.tzinfo)
    return datetime.combine(day, time.max)


def is_bare_date(text: str) -> bool:
    """Whether a bound was written as ``YYYY-MM-DD`` alone (no time of day)."""
    return len(text.strip()) == 10


def upper_bound(moment: datetime, written: str) -> datetime:
    """An upper bound read from ``written``: ``moment`` itself, or the end of its day if it was a bare date."""
    return end_of_day(moment) if is_bare_date(written) else moment

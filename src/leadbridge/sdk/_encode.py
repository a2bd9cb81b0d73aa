"""Request encoding shared by every API: query pairs and UTC dates in the documented formats.

Every document asks for UTC. An aware datetime is converted to UTC; a naive one is taken
as UTC already (as the documents say dates are given), never as local time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any

DateLike = date | datetime | str
TimeLike = time | str


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; a naive one is read as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def iso_utc(value: DateLike) -> str:
    """ISO-8601 UTC with milliseconds and ``Z`` (``2020-02-04T11:46:48.803Z``); strings pass through."""
    if isinstance(value, str):
        return value
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    moment = as_utc(value)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def day(value: DateLike) -> str:
    """A calendar day ``YYYY-MM-DD``; a datetime is first converted to UTC."""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        value = as_utc(value).date()
    return value.isoformat()


def day_or_instant(value: DateLike) -> str:
    """A date as ``YYYY-MM-DD`` (as the list filters show), a datetime as full ISO UTC."""
    if isinstance(value, datetime):
        return iso_utc(value)
    return day(value)


def minutes(value: DateLike) -> str:
    """``YYYY-MM-DD HH:MM`` in UTC (Leeloo's paymentDate)."""
    if isinstance(value, str):
        return value
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return as_utc(value).strftime("%Y-%m-%d %H:%M")


def clock_time(value: TimeLike) -> str:
    """``HH:MM`` (Dialog's daily start and end times)."""
    if isinstance(value, str):
        return value
    return value.strftime("%H:%M")


def query(*pairs: tuple[str, Any]) -> list[tuple[str, str]]:
    """Query pairs in order, skipping ``None``; a list value repeats its key (``filter[tags]`` in v2)."""
    out: list[tuple[str, str]] = []
    for key, value in pairs:
        if value is None:
            continue
        if isinstance(value, list | tuple):
            out.extend((key, text(item)) for item in value)
        else:
            out.append((key, text(value)))
    return out


def text(value: Any) -> str:
    """A form or query value: booleans as ``true``/``false``, numbers and strings as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def compact(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A body without the optional fields left as ``None``."""
    return {key: value for key, value in fields.items() if value is not None}


def form(fields: Mapping[str, Any]) -> dict[str, str]:
    """A form-data body: ``None`` fields left out, the rest as text."""
    return {key: text(value) for key, value in fields.items() if value is not None}


def comma_joined(values: Iterable[str] | str | None) -> str | None:
    """``tag3,tag2`` (Leeloo v1's ``filter[tags]``)."""
    if values is None or isinstance(values, str):
        return values
    return ",".join(values)

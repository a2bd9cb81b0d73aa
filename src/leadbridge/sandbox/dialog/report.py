"""The analytics report: one row per dialog (placed call), with columns, filters, sorting and totals.

Columns (``field``: type): dialog_id, campaign_id, attempt, duration (number); phone_number,
outcome (text: answered, no_answer, busy, voicemail); started_at (datetime); goal (goal:
true when the scenario's goal was reached); transcript (dialog); and one text column per
``add_data`` key of the campaign's phone list (named by the key, or ``add_data.<key>``
where the key is also a fixed column's name).

A requested column with a ``name`` selects that column (its ``data_type`` is then only
informative: the document's example sends "number" for the text column phone_number); a
column with only a ``data_type`` selects every column of that type. No columns selects
them all. A column's ``filter_type`` keeps the rows whose value passes it (for a
``data_type`` selection, every column of the type must pass); ``sorting`` orders by the
columns in the order they are given. Text comparisons ignore case except ``equal``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadbridge.contract.dialog import FALSE_WORDS, TRUE_WORDS
from leadbridge.sandbox import schema as s
from leadbridge.sandbox.wire import ApiError, iso, parse_datetime

DataType = Literal["text", "number", "datetime", "dialog", "goal"]
FilterType = Literal["equal", "contains", "starts_with", "ends_with", "is_empty", "not_empty", "is_true", "not_true"]
Sorting = Literal["asc", "desc"]
VALUE_FILTERS = frozenset({"equal", "contains", "starts_with", "ends_with"})


@dataclass(frozen=True)
class Column:
    field: str
    display_name: str
    type: DataType


FIXED_COLUMNS = (
    Column("dialog_id", "ID диалога", "number"),
    Column("campaign_id", "ID обзвона", "number"),
    Column("phone_number", "Номер телефона", "text"),
    Column("attempt", "Попытка", "number"),
    Column("started_at", "Дата и время звонка", "datetime"),
    Column("duration", "Длительность, с", "number"),
    Column("outcome", "Результат звонка", "text"),
    Column("goal", "Цель достигнута", "goal"),
    Column("transcript", "Диалог", "dialog"),
)
FIXED_FIELDS = frozenset(column.field for column in FIXED_COLUMNS)


@dataclass(frozen=True)
class ColumnRequest:
    """One entry of the request's ``columns`` (already checked for known enum values)."""

    index: int
    name: str | None
    display_name: str | None
    data_type: DataType | None
    filter_type: FilterType | None
    filter_value: str | None
    sorting: Sorting | None


@dataclass(frozen=True)
class Window:
    campaign_id: int
    start: datetime
    end: datetime


def add_data_field(key: str) -> str:
    return f"add_data.{key}" if key in FIXED_FIELDS else key


def load_rows(session: Session, window: Window) -> tuple[list[Column], list[dict[str, Any]]]:
    """The campaign's available columns and its dialogs within the window, as raw values."""
    phones = session.execute(
        select(s.CampaignPhone.id, s.CampaignPhone.phone, s.CampaignPhone.add_data)
        .where(s.CampaignPhone.campaign_id == window.campaign_id)
        .order_by(s.CampaignPhone.position)
    ).all()
    keys: dict[str, None] = {}
    for _, _, add_data in phones:
        keys.update(dict.fromkeys(add_data or {}))
    columns = [*FIXED_COLUMNS, *(Column(add_data_field(key), key, "text") for key in keys)]
    by_phone_id = {phone_id: (phone, add_data or {}) for phone_id, phone, add_data in phones}
    calls = session.scalars(
        select(s.DialogCall)
        .where(s.DialogCall.campaign_id == window.campaign_id,
               s.DialogCall.started_at >= window.start, s.DialogCall.started_at <= window.end)
        .order_by(s.DialogCall.started_at, s.DialogCall.id)
    )
    rows = []
    for call in calls:
        phone, add_data = by_phone_id[call.campaign_phone_id]
        row: dict[str, Any] = {
            "dialog_id": call.id, "campaign_id": call.campaign_id, "phone_number": phone,
            "attempt": call.attempt, "started_at": call.started_at, "duration": call.duration,
            "outcome": call.outcome, "goal": call.goal_reached, "transcript": call.transcript,
        }
        for key in keys:
            value = add_data.get(key)
            row[add_data_field(key)] = None if value is None else str(value)
        rows.append(row)
    return columns, rows


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso(value) or ""
    return str(value)


def _equal_test(column: Column, wanted: str, field: str) -> Callable[[Any], bool]:
    if column.type == "number":
        try:
            number = float(wanted)
        except ValueError:
            raise ApiError(422, f"{field} must be a number for column {column.field}", field=field) from None
        return lambda value: value is not None and float(value) == number
    if column.type == "goal":
        word = wanted.strip().lower()
        if word not in TRUE_WORDS | FALSE_WORDS:
            raise ApiError(422, f"{field} must be true or false for column {column.field}", field=field)
        return lambda value: bool(value) == (word in TRUE_WORDS)
    if column.type == "datetime":
        moment = parse_datetime(wanted, field)
        return lambda value: value == moment
    return lambda value: as_text(value) == wanted


def value_test(column: Column, request: ColumnRequest) -> Callable[[Any], bool]:
    """The predicate of a column's filter_type."""
    kind = request.filter_type
    field = f"columns.{request.index}.filter_value"
    if kind in VALUE_FILTERS:
        if request.filter_value is None:
            raise ApiError(422, f"{field} is required with filter_type {kind}", field=field)
        wanted = request.filter_value
        if kind == "equal":
            return _equal_test(column, wanted, field)
        folded = wanted.casefold()
        if kind == "contains":
            return lambda value: folded in as_text(value).casefold()
        if kind == "starts_with":
            return lambda value: as_text(value).casefold().startswith(folded)
        return lambda value: as_text(value).casefold().endswith(folded)
    if kind == "is_empty":
        return lambda value: value is None or value == ""
    if kind == "not_empty":
        return lambda value: not (value is None or value == "")
    if kind == "is_true":
        return lambda value: bool(value)
    return lambda value: not value


def select_columns(available: list[Column], requests: list[ColumnRequest]) -> list[tuple[ColumnRequest | None, Column]]:
    """Each requested entry paired with the columns it selects, in request order."""
    if not requests:
        return [(None, column) for column in available]
    by_field = {column.field: column for column in available}
    pairs: list[tuple[ColumnRequest | None, Column]] = []
    for request in requests:
        if request.name:
            column = by_field.get(request.name)
            if column is None:
                field = f"columns.{request.index}.name"
                known = ", ".join(by_field)
                raise ApiError(422, f"{field}: unknown column {request.name!r} (known: {known})", field=field)
            pairs.append((request, column))
        elif request.data_type:
            pairs.extend((request, column) for column in available if column.type == request.data_type)
        else:
            field = f"columns.{request.index}"
            raise ApiError(422, f"{field} needs a name or a data_type", field=field)
    return pairs


def build_report(columns: list[Column], rows: list[dict[str, Any]], requests: list[ColumnRequest]) -> dict[str, Any]:
    pairs = select_columns(columns, requests)
    for request, column in pairs:
        if request is not None and request.filter_type:
            passes = value_test(column, request)
            rows = [row for row in rows if passes(row[column.field])]
    sort_keys = [(column.field, request.sorting) for request, column in pairs if request and request.sorting]
    for field, direction in reversed(sort_keys):
        # Empty values last in either direction; stable sorts compose into a multi-column order.
        present = [row for row in rows if row[field] is not None]
        missing = [row for row in rows if row[field] is None]
        present.sort(key=itemgetter(field), reverse=direction == "desc")
        rows = present + missing
    shown: dict[str, Column] = {}
    display: dict[str, str] = {}
    for request, column in pairs:
        if column.field not in shown:
            shown[column.field] = column
            display[column.field] = (request.display_name if request and request.display_name and request.name
                                     else column.display_name)
    total = sum(int(row["duration"]) for row in rows)
    average = round(total / len(rows), 2) if rows else 0
    return {
        "columns": [{"field": field, "display_name": display[field], "type": column.type}
                    for field, column in shown.items()],
        "data": [{field: render(row[field], column.type) for field, column in shown.items()} for row in rows],
        "total_duration": total,
        "avg_duration": int(average) if float(average).is_integer() else average,
        "count": len(rows),
    }


def render(value: Any, kind: DataType) -> Any:
    if kind == "datetime":
        return iso(value)
    if kind == "goal":
        return bool(value)
    return value

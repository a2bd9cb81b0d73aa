"""Dialog (Intersvyaz) analytics records."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from leadbridge.sdk.models._base import Model

DataType = Literal["text", "number", "datetime", "dialog", "goal"] | str
FilterType = Literal[
    "equal", "contains", "starts_with", "ends_with", "is_empty", "not_empty", "is_true", "not_true"
] | str


class ReportColumn(Model):
    """A column of a report answer: ``field`` is the key of that column in each row."""

    field: str
    display_name: str | None = None
    type: DataType | None = None


class Report(Model):
    """The results of a campaign: one row per dialog, keyed by column field, and totals."""

    columns: list[ReportColumn] = Field(default_factory=list)
    rows: list[dict[str, Any]] = Field(default_factory=list, validation_alias="data", serialization_alias="data")
    total_duration: float | None = None
    avg_duration: float | None = None
    count: int | None = None

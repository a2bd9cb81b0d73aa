"""Pages of records → Arrow tables that dlt loads without its row-by-row normaliser.

dlt normalises Python dicts one value at a time, which for 100k people with their
accounts and tags costs far more than reading them from the API. An Arrow table goes
straight to a Parquet file and into the warehouse, so every resource yields one table
per page. Known fields get fixed types (so a column exists even while every value is
empty); any other key a record carries (a field the API started sending) becomes a new
column of the inferred type, which dlt adds to the destination table on its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

import pyarrow as pa
from dlt.common.data_types import TDataType
from dlt.common.schema.typing import TColumnSchema

TIMESTAMP = pa.timestamp("us", tz="UTC")
Known = Sequence[tuple[str, pa.DataType]]

_DLT_TYPES: dict[str, TDataType] = {
    "string": "text", "int64": "bigint", "double": "double", "bool": "bool", "date32[day]": "date",
}


def dlt_type(arrow_type: pa.DataType) -> TDataType:
    if pa.types.is_timestamp(arrow_type):
        return "timestamp"
    return _DLT_TYPES[str(arrow_type)]


def column_hints(known: Known, *, not_null: Iterable[str] = ()) -> dict[str, TColumnSchema]:
    """dlt column hints of the known fields, so their columns exist from the first load."""
    required = set(not_null)
    return {name: {"name": name, "data_type": dlt_type(arrow_type), "nullable": name not in required}
            for name, arrow_type in known}


def schema_of(known: Known, *, not_null: Iterable[str] = ()) -> pa.Schema:
    required = set(not_null)
    return pa.schema([pa.field(name, arrow_type, nullable=name not in required) for name, arrow_type in known])


def _plain(value: Any) -> Any:
    """A value Arrow can hold in a flat column: nested values are kept as JSON text."""
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
    return value


def _inferred(values: list[Any]) -> pa.Array | None:
    """An array of an unknown column, or None when it holds no value at all (dlt cannot type it yet)."""
    if all(value is None for value in values):
        return None
    plain = [_plain(value) for value in values]
    try:
        return pa.array(plain)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        # Mixed types (a number in one record, text in the next): keep them as text.
        return pa.array([None if value is None else str(value) for value in plain], pa.string())


def build_table(rows: Sequence[Mapping[str, Any]], known: Known, *, not_null: Iterable[str] = ()) -> pa.Table:
    """One Arrow table of ``rows``: the known columns typed, every other key inferred."""
    schema = schema_of(known, not_null=not_null)
    arrays = [pa.array([row.get(name) for row in rows], field.type) for name, field in
              zip(schema.names, schema, strict=True)]
    fields = list(schema)
    names = set(schema.names)
    extra: dict[str, None] = {}
    for row in rows:
        if len(row) > len(names):
            extra.update(dict.fromkeys(key for key in row if key not in names))
    for key in extra:
        array = _inferred([row.get(key) for row in rows])
        if array is not None:
            arrays.append(array)
            fields.append(pa.field(key, array.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def extras(model: Any, *, prefix: str = "") -> dict[str, Any]:
    """The fields a record carries beyond its model (``model_extra``), ready to be columns."""
    extra = getattr(model, "model_extra", None) or {}
    return {f"{prefix}{key}": value for key, value in extra.items()}


def utc_day(moment: datetime | None = None) -> date:
    return (moment or datetime.now(UTC)).astimezone(UTC).date()


# A phone repeats within a report or a site's deals, a few pages apart; people's phones are
# mostly distinct, so a larger cache only grows with the export (about 200 bytes an entry).
@lru_cache(maxsize=8192)
def e164(raw: str | None, region: str = "RU") -> str | None:
    """The flows' E.164 form of a phone number (None when it is not a valid number)."""
    if not raw:
        return None
    from leadbridge.phones import normalise

    return normalise(raw, region).e164

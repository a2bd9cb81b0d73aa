"""The base of every response model: snake_case attributes read from the documented names."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, AliasChoices, AliasGenerator, BaseModel, ConfigDict, Field, GetCoreSchemaHandler
from pydantic.alias_generators import to_camel
from pydantic_core import CoreSchema, core_schema

from leadbridge.contract.leeloo import NOT_DEFINED

T = TypeVar("T")


def _to_utc(value: datetime) -> datetime:
    # The documents give every date in UTC; a date without an offset is therefore UTC.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class _AsUTC:
    """Validates to an aware UTC datetime.

    Dates in UTC (``…Z``), nearly all of them, are read natively by pydantic-core; only a
    date with another offset or none at all takes the Python conversion, which would
    otherwise cost more than the rest of a record's validation.
    """

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.union_schema(
            [core_schema.datetime_schema(tz_constraint=0),
             core_schema.no_info_after_validator_function(_to_utc, core_schema.datetime_schema())],
            mode="left_to_right",
            custom_error_type="datetime_type",
        )


UTCDateTime = Annotated[datetime, _AsUTC]
"""A datetime parsed to an aware UTC datetime (``utcoffset()`` is zero; its ``tzinfo`` equals
``datetime.UTC`` but may be pydantic-core's own UTC object, so compare with ``==``, not ``is``)."""


class Model(BaseModel):
    """Attributes are the snake_case of the documented names; unknown fields are kept.

    Construct or read by either name (``created_at`` or ``createdAt``); fields the API
    adds later stay available as attributes and in ``model_extra``.
    """

    # The documents mix createdAt and created_at, even within one record: each field reads
    # its camelCase alias or, by name, its snake_case (one native lookup each, cheaper than
    # a list of alias choices on every field of every record).
    model_config = ConfigDict(
        extra="allow",
        validate_by_alias=True,
        validate_by_name=True,
        alias_generator=AliasGenerator(validation_alias=to_camel, serialization_alias=to_camel),
        frozen=False,
    )


def alias(name: str, **kwargs: Any) -> Any:
    """A field documented under a name that is not a valid or not a snake_case identifier (``from``)."""
    return Field(validation_alias=AliasChoices(name), serialization_alias=name, **kwargs)

def _placeholder_as_none(value: T | None) -> T | None:
    return None if value == NOT_DEFINED else value


Undefinable = Annotated[T | None, AfterValidator(_placeholder_as_none)]
"""A field Leeloo writes as the text ``"NOT_DEFINED"`` when empty (email, phone, profile image,
gender, record link): that text reads as ``None``. A validator on the field itself, called from
pydantic-core, costs next to nothing; a per-model hook would slow every record down."""

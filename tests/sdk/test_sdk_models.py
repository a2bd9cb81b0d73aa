"""Models read both spellings the documents use, keep unknown fields and give UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from leadbridge.sdk.models.leeloo import AccountLink, Person


def test_camel_and_snake_spellings_both_fill_the_attribute() -> None:
    camel = Person.model_validate({"id": "a", "createdAt": "2021-11-01T11:55:56.358Z"})
    snake = Person.model_validate({"id": "a", "created_at": "2021-11-01T11:55:56.358Z"})
    assert camel.created_at == snake.created_at == datetime(2021, 11, 1, 11, 55, 56, 358000, tzinfo=UTC)


def test_unknown_fields_are_kept() -> None:
    person = Person.model_validate({"id": "a", "loyaltyLevel": 3})
    assert person.model_extra == {"loyaltyLevel": 3}


def test_dates_become_aware_utc() -> None:
    naive = Person.model_validate({"id": "a", "lastMessageTime": "2020-01-13T14:21:36"})
    offset = Person.model_validate({"id": "a", "lastMessageTime": "2020-01-13T17:21:36+03:00"})
    assert naive.last_message_time == offset.last_message_time == datetime(2020, 1, 13, 14, 21, 36, tzinfo=UTC)
    in_utc = Person.model_validate({"id": "a", "lastMessageTime": "2020-01-13T14:21:36Z"})
    assert in_utc.last_message_time == naive.last_message_time
    for person in (naive, offset, in_utc):
        assert person.last_message_time is not None and person.last_message_time.utcoffset() == timedelta(0)


def test_a_date_that_is_not_a_date_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        Person.model_validate({"id": "a", "createdAt": "last tuesday"})
    assert [error["loc"] for error in caught.value.errors()] == [("createdAt",)]
    assert "valid datetime" in str(caught.value)


def test_reserved_word_from_reads_and_builds() -> None:
    assert AccountLink.model_validate({"account_id": "1", "from": "TELEGRAM"}).from_ == "TELEGRAM"
    assert AccountLink(account_id="1", from_="VIBER").from_ == "VIBER"

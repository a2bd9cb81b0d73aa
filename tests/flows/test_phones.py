"""Phone numbers are normalised by libphonenumber's rules, and bad ones say why."""

from __future__ import annotations

import pytest

from leadbridge.flows.phones import normalise


@pytest.mark.parametrize(("raw", "e164"), [
    ("+7 916 123-45-67", "+79161234567"),
    ("8 (916) 123-45-67", "+79161234567"),
    ("79161234567", "+79161234567"),
    ("9161234567", "+79161234567"),
    ("+380 66 999 97 77", "+380669999777"),
])
def test_valid_numbers_become_e164(raw: str, e164: str) -> None:
    assert normalise(raw).e164 == e164


@pytest.mark.parametrize(("raw", "problem"), [
    ("12345", "is not a valid number"),
    ("+7 000 000", "is not a valid number"),
    ("call me", "cannot be read"),
    ("", "no phone number"),
    (None, "no phone number"),
])
def test_invalid_numbers_name_their_problem(raw: str | None, problem: str) -> None:
    phone = normalise(raw)
    assert phone.e164 is None and phone.problem is not None and problem in phone.problem


def test_the_region_applies_to_national_numbers_only() -> None:
    assert normalise("066 999 97 77", "UA").e164 == "+380669999777"
    assert normalise("+79161234567", "UA").e164 == "+79161234567"

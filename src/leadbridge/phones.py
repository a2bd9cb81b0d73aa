"""Phone numbers to E.164 with the ``phonenumbers`` library (libphonenumber's metadata)."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers


@dataclass(frozen=True)
class Phone:
    """A raw number and what became of it: ``e164`` when valid, else ``problem`` says why."""

    raw: str
    e164: str | None
    problem: str | None = None


def normalise(raw: str | None, region: str = "RU") -> Phone:
    """Parse ``raw`` (``+7 916 123-45-67``, ``89161234567``, ``79161234567``…) to E.164.

    Numbers written without a country code are read in ``region``. Only numbers valid
    for their country (length and prefix) pass; everything else names its problem.
    """
    text = (raw or "").strip()
    if not text:
        return Phone(raw or "", None, "no phone number")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        return Phone(text, None, f"phone number {text!r} cannot be read: {exc}")
    if not phonenumbers.is_valid_number(number):
        return Phone(text, None, f"phone number {text!r} is not a valid number")
    return Phone(text, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))

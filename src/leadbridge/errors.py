"""The errors every leadbridge client raises, one hierarchy for the three platforms.

::

    LeadbridgeError
    └── APIError                     a call failed; ``method`` and ``path`` name it
        ├── APIStatusError           the API answered with an error status (or a Leeloo ``status: 0``)
        │   ├── AuthenticationError  401 / 403, or a failed login
        │   ├── NotFoundError        404
        │   ├── ValidationError      400 / 422, with the fields the API names
        │   ├── RateLimitError       429, with ``retry_after`` seconds
        │   └── ServerError          5xx
        ├── ResponseValidationError  a success the SDK cannot read (the call probably happened)
        └── APIConnectionError       no answer: the connection failed or broke
            └── APITimeoutError      no answer in time

``APIStatusError.refused`` is true when the platform refused the request (any 4xx, or a
Leeloo error envelope on a 2xx): nothing was done, so it is safe to fix and send again.
``APIConnectionError.may_have_been_applied`` is true when the request may have reached the
server before the answer was lost: a call that is not repeatable may then have taken effect.

Messages name the method, path and status; they never contain a token or a password
(those travel in headers and bodies, which messages never quote).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Required, TypedDict, Unpack

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "LeadbridgeError",
    "NotFoundError",
    "RateLimitError",
    "ResponseValidationError",
    "ServerError",
    "ValidationError",
]


class LeadbridgeError(Exception):
    """Base class of every error raised by leadbridge clients."""


class APIError(LeadbridgeError):
    """A call failed: see the subclasses for whether the API answered and what it said."""

    def __init__(self, message: str, *, method: str, path: str, body: object = None) -> None:
        self.method = method
        self.path = path
        self.message = message
        self.body = body
        super().__init__(f"{method} {path}: {message}")


class Answer(TypedDict, total=False):
    """What an error about an answer the API gave says of it (the keyword arguments of
    :class:`APIStatusError` and :class:`ResponseValidationError`)."""

    status: Required[int]
    method: Required[str]
    path: Required[str]
    field_errors: Mapping[str, Sequence[str]] | None
    body: object


class _AnsweredError(APIError):
    """The API answered, with ``status``; ``field_errors`` maps each place the error names to
    its messages or codes, and ``fields`` lists the places."""

    def __init__(self, message: str, **answer: Unpack[Answer]) -> None:
        status, method, path = answer["status"], answer["method"], answer["path"]
        super().__init__(message, method=method, path=path, body=answer.get("body"))
        self.status = status
        field_errors = answer.get("field_errors") or {}
        self.field_errors: dict[str, list[str]] = {key: list(value) for key, value in field_errors.items()}
        # The message reads "METHOD path -> status: text", the form callers have always seen.
        self.args = (f"{method} {path} -> {status}: {message}",)

    @property
    def fields(self) -> list[str]:
        """The places ``field_errors`` names: fields of the request, or paths into the answer's body."""
        return list(self.field_errors)


class APIStatusError(_AnsweredError):
    """The API answered with an error: a 4xx/5xx status, or an error envelope on a 2xx.

    ``field_errors`` maps each field the API named to its messages or codes (Leeloo's
    ``REQUIRED``, ``INVALID``, …); ``fields`` lists the names; ``code`` is the API's own
    error code when it gives one (Leeloo's ``FORMAT_ERROR``, ``NOT_FOUND``, …).
    """

    def __init__(self, message: str, *, code: str | None = None, **answer: Unpack[Answer]) -> None:
        super().__init__(message, **answer)
        self.code = code

    @property
    def refused(self) -> bool:
        """The platform refused the request (a 4xx, or an error envelope on a 2xx): nothing was done."""
        return self.status < 500


class AuthenticationError(APIStatusError):
    """401 or 403: the token is missing, wrong or expired, or the login failed."""


class NotFoundError(APIStatusError):
    """404: no such record (or not visible to this account)."""


class ValidationError(APIStatusError):
    """400 or 422: the request was refused; ``fields`` names the offending fields."""


class RateLimitError(APIStatusError):
    """429: too many requests; ``retry_after`` is the server's advice in seconds, if given."""

    def __init__(self, message: str, *, code: str | None = None, retry_after: float | None = None,
                 **answer: Unpack[Answer]) -> None:
        super().__init__(message, code=code, **answer)
        self.retry_after = retry_after


class ServerError(APIStatusError):
    """5xx: the server failed; retried automatically for repeatable calls before surfacing."""

    @property
    def refused(self) -> bool:
        """Never: the server failed while handling the request, which may have taken effect."""
        return False


class ResponseValidationError(_AnsweredError):
    """A success status whose body is not the documented record (not JSON, a field missing
    or of another type); ``field_errors`` names the places, as paths into the body.

    The API said the call succeeded, so it probably took effect: this is not a refusal.
    """


class APIConnectionError(APIError):
    """The request did not complete: connection refused, reset or broken mid-way.

    ``may_have_been_applied`` is false only when the connection was never made (so the
    request never left); otherwise the server may have received and applied it.
    """

    def __init__(self, message: str, *, method: str, path: str, may_have_been_applied: bool = True) -> None:
        super().__init__(message, method=method, path=path)
        self.may_have_been_applied = may_have_been_applied


class APITimeoutError(APIConnectionError):
    """No answer within the client's timeout."""


def error_class_for(status: int) -> type[APIStatusError]:
    """The :class:`APIStatusError` subclass matching an HTTP status."""
    if status in (401, 403):
        return AuthenticationError
    if status == 404:
        return NotFoundError
    if status in (400, 422):
        return ValidationError
    if status == 429:
        return RateLimitError
    if status >= 500:
        return ServerError
    return APIStatusError

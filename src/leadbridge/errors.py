"""The errors every leadbridge client raises, one hierarchy for the three platforms.

::

    LeadbridgeError
    ├── APIError                 the API answered
    │   ├── APIStatusError       with an error status (or a Leeloo 200 with status != 1); ``refused``
    │   │   ├── AuthenticationError  401 / 403
    │   │   ├── NotFoundError        404
    │   │   ├── ValidationError      400 / 422, with the field names the API gives
    │   │   ├── RateLimitError       429, with ``retry_after`` seconds
    │   │   └── ServerError          5xx
    │   └── ResponseValidationError  a success the SDK cannot read (the call probably happened)
    ├── APIConnectionError       the server could not be reached or the connection broke
    │   └── APITimeoutError      no answer in time

Messages name the method, path and status; they never contain a token or a password
(those travel in headers and bodies, which messages never quote).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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
    """The API answered, with an error status or an error envelope.

    ``field_errors`` maps each field the API named to its messages; ``fields`` lists the names.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        method: str,
        path: str,
        field_errors: Mapping[str, Sequence[str]] | None = None,
        body: object = None,
    ) -> None:
        self.status = status
        self.method = method
        self.path = path
        self.message = message
        self.field_errors: dict[str, list[str]] = {key: list(value) for key, value in (field_errors or {}).items()}
        self.body = body
        super().__init__(f"{method} {path} -> {status}: {message}")

    @property
    def fields(self) -> list[str]:
        """The names of the fields the API reported as invalid."""
        return list(self.field_errors)


class APIStatusError(APIError):
    """The API answered with an error status, or with an error envelope on a success status.

    ``refused`` tells that the platform refused the request, so it did not happen: a 4xx, or
    an error envelope on a 2xx. A 5xx is not a refusal: the call may have been carried out.
    """

    @property
    def refused(self) -> bool:
        return 400 <= self.status < 500 or 200 <= self.status < 300


class AuthenticationError(APIStatusError):
    """401 or 403: the token is missing, wrong or expired, or the login failed."""


class NotFoundError(APIStatusError):
    """404: no such record (or not visible to this account)."""


class ValidationError(APIStatusError):
    """400 or 422: the request was refused; ``fields`` names the offending fields."""


class RateLimitError(APIStatusError):
    """429: too many requests; ``retry_after`` is the server's advice in seconds, if given."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        method: str,
        path: str,
        field_errors: Mapping[str, Sequence[str]] | None = None,
        body: object = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, method=method, path=path, field_errors=field_errors, body=body)
        self.retry_after = retry_after


class ServerError(APIStatusError):
    """5xx: the server failed; retried automatically for idempotent calls before surfacing."""


class ResponseValidationError(APIError):
    """A success status whose body is not the documented record (not JSON, a field missing
    or of another type); ``field_errors`` names the places, as paths into the body."""


class APIConnectionError(LeadbridgeError):
    """The request did not complete: connection refused, reset or broken mid-way."""

    def __init__(self, message: str, *, method: str, path: str) -> None:
        self.method = method
        self.path = path
        super().__init__(f"{method} {path}: {message}")


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

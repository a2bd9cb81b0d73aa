"""The wire every fake service shares: ids, UTC dates, errors in each API's style, JSON, and
request bodies read and bounded. Nothing here knows FastAPI or the sandbox's state (see
``dependencies.py`` for the FastAPI side)."""

from __future__ import annotations

import itertools
import math
import os
import random
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

Api = Literal["leeloo", "neiros", "dialog", "sandbox"]
M = TypeVar("M", bound=BaseModel)


# --- ids ---------------------------------------------------------------------------------

_counter = itertools.count(random.SystemRandom().randrange(1 << 24))
_process_bytes = os.urandom(5).hex()


_EPOCH = datetime(1970, 1, 1)
_SECOND = timedelta(seconds=1)


def new_oid(at: datetime | None = None) -> str:
    """A Mongo-style ObjectId: 4 bytes of seconds, 5 of process, 3 of counter (24 hex). ``at``:
    naive UTC, as the sandbox clock tells it (every write makes one or more)."""
    seconds = ((at or datetime.now(UTC).replace(tzinfo=None)) - _EPOCH) // _SECOND
    return _oid_prefix(seconds) + format(next(_counter) & 0xFFFFFF, "06x")


@lru_cache(maxsize=4)
def _oid_prefix(seconds: int) -> str:
    """The ids of one second share their first 18 digits: made once a second."""
    return f"{seconds & 0xFFFFFFFF:08x}{_process_bytes}"


_OID = re.compile(r"[0-9a-f]{24}")


def is_oid(value: str) -> bool:
    return _OID.fullmatch(value) is not None


# --- dates -------------------------------------------------------------------------------


def iso(value: datetime | None) -> str | None:
    """UTC ISO-8601 with milliseconds and ``Z``, as every Leeloo example shows."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    # isoformat, not strftime: a quarter of the cost, on every date of every record served.
    return value.isoformat(timespec="milliseconds") + "Z"


def iso_stored(value: str | datetime | None) -> str | None:
    """:func:`iso` of a datetime read by hand-written SQL: SQLite returns SQLAlchemy's stored
    text (``2026-11-01 10:00:00.123456``), PostgreSQL a datetime."""
    if isinstance(value, str):
        if len(value) == 26:
            return f"{value[:10]}T{value[11:23]}Z"
        return iso(datetime.fromisoformat(value))
    return iso(value)


# Every date the APIs accept lies in this window (UTC). Dates at the calendar's edges
# (0001-01-01 with an offset, 9999-12-31 plus a day) overflow Python's datetime and the
# databases' date arithmetic; no real lead, call or order is dated outside these years.
MIN_YEAR = 1970
MAX_YEAR = 2100
DATE_WINDOW = f"years {MIN_YEAR} to {MAX_YEAR} (UTC)"


def in_date_window(value: datetime | date) -> bool:
    return MIN_YEAR <= value.year <= MAX_YEAR


def to_utc_naive(text: str) -> datetime:
    """ISO-8601 (``Z`` or an offset, or none meaning UTC) to naive UTC inside the date window.

    Raises ValueError with a message fit for a client (the caller names the field).
    """
    text = text.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    if len(text) > 40:  # the longest ISO-8601 datetime with offset and microseconds is 32
        raise ValueError("is too long for a date")
    parsed = datetime.fromisoformat(text)
    # Check the naive year first: converting 0001-01-01+03:00 to UTC would itself overflow.
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ValueError(f"must be within {DATE_WINDOW}")
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    if not in_date_window(parsed):
        raise ValueError(f"must be within {DATE_WINDOW}")
    return parsed


def parse_datetime(value: str, field: str) -> datetime:
    """Parse a documented date ('2020-02-10', '2018-06-27 07:32', '…T11:46:48.803Z') to naive UTC."""
    try:
        return to_utc_naive(value)
    except ValueError as exc:
        reason = str(exc) if str(exc).startswith(("must", "is too")) else "is not a valid date"
        raise ApiError(422, f"{field} {reason}: {value[:60]!r}", field=field) from None


# --- errors ------------------------------------------------------------------------------


class ApiError(Exception):
    """A client error; rendered in the style of the API whose path was called.

    ``errors`` maps each field to its messages; ``codes`` gives each field a short code
    (``REQUIRED``, ``INVALID``, ``TOO_LONG``, ``OUT_OF_RANGE``, ``NOT_FOUND`` …) for Leeloo's
    ``error.fields``; ``details`` are FastAPI-style ``{"loc", "msg", "type"}`` items for
    Dialog's ``detail`` (derived from ``errors`` when not given); ``error_code`` overrides
    Leeloo's ``error.code`` (by default derived from the status).
    """

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        field: str | None = None,
        field_code: str | None = None,
        errors: Mapping[str, list[str]] | None = None,
        codes: Mapping[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
        error_code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.errors: dict[str, list[str]] = dict(errors or {})
        self.codes: dict[str, str] = dict(codes or {})
        if field is not None:
            self.errors.setdefault(field, []).append(message)
            self.codes.setdefault(field, field_code or _default_field_code(status_code))
        self.details = details
        self.error_code = error_code
        self.headers = dict(headers or {})


def _default_field_code(status_code: int) -> str:
    return "NOT_FOUND" if status_code == 404 else "INVALID"


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found")


def api_of(path: str) -> Api:
    if path.startswith("/api/v1/") or path.startswith("/api/v2/"):
        return "leeloo"
    if path.startswith("/api/userapi/"):
        return "neiros"
    if path.startswith("/_sandbox"):
        return "sandbox"
    return "dialog"


# Leeloo's error.code by HTTP status. FORMAT_ERROR (with authToken: REQUIRED) is observed;
# the others are our reading of the same naming (see docs/fidelity.md).
LEELOO_ERROR_CODES = {400: "FORMAT_ERROR", 401: "UNAUTHORIZED", 403: "ACCESS_DENIED", 404: "NOT_FOUND",
                      405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 413: "FORMAT_ERROR", 422: "FORMAT_ERROR",
                      429: "TOO_MANY_REQUESTS"}


def leeloo_error_code(status_code: int) -> str:
    return LEELOO_ERROR_CODES.get(status_code, "SERVER_ERROR" if status_code >= 500 else "FORMAT_ERROR")


def error_body(api: Api, status_code: int, message: str, errors: dict[str, list[str]], *,
               codes: Mapping[str, str] | None = None, details: list[dict[str, Any]] | None = None,
               error_code: str | None = None) -> dict[str, Any]:
    """Each vendor's error style.

    Leeloo: the observed envelope ``{"status": 0, "error": {"fields": {name: CODE}, "code": …}}``
    with the older ``message``/``code``/``errors`` keys beside it. Dialog: FastAPI's
    ``{"detail": [{"loc", "msg", "type"}]}`` for invalid fields, ``{"detail": "<text>"}``
    otherwise, ``message`` beside both. Neiros (and the control API): Laravel's
    ``{"message", "errors"}``.
    """
    if api == "leeloo":
        fields = {name: (codes or {}).get(name) or _default_field_code(status_code) for name in errors}
        fields.update(codes or {})
        body: dict[str, Any] = {
            "status": 0,
            "error": {"fields": fields, "code": error_code or leeloo_error_code(status_code)},
            "message": message,
            "code": status_code,
        }
        if errors:
            body["errors"] = errors
        return body
    if api == "dialog":
        if details is None and errors:
            details = [{"loc": dialog_loc(name), "msg": text, "type": "value_error"}
                       for name, texts in errors.items() for text in texts]
        return {"detail": details if details else message, "message": message}
    body = {"message": message}
    if errors:
        body["errors"] = errors
    return body


def dialog_loc(name: str) -> list[str | int]:
    """``campaign.phones.0.phone`` as FastAPI's location of a body field."""
    if name == "body":
        return ["body"]
    return ["body", *(int(part) if part.isdigit() else part for part in name.split("."))]


# pydantic error types -> Leeloo field codes (REQUIRED, TOO_LONG, OUT_OF_RANGE, INVALID …).
_FIELD_CODES = (("missing", "REQUIRED"), ("too_short", "REQUIRED"), ("too_long", "TOO_LONG"),
                ("greater_than", "OUT_OF_RANGE"), ("less_than", "OUT_OF_RANGE"), ("extra_forbidden", "UNKNOWN_FIELD"))


def field_code(error_type: str) -> str:
    for fragment, code in _FIELD_CODES:
        if fragment in error_type:
            return code
    return "INVALID"


def errors_from(items: list[Any], prefix: str = "", skip: tuple[str, ...] = ("body", "query")) -> ApiError:
    """An ApiError (422) from pydantic/FastAPI error items, keeping their locations for Dialog."""
    errors: dict[str, list[str]] = {}
    codes: dict[str, str] = {}
    details: list[dict[str, Any]] = []
    for item in items:
        loc = list(item.get("loc", ()))
        field = prefix + ".".join(str(part) for part in loc if part not in skip)
        field = field or "body"
        message = str(item.get("msg"))
        errors.setdefault(field, []).append(message)
        codes.setdefault(field, field_code(str(item.get("type", ""))))
        if not loc or loc[0] not in ("body", "query", "path", "header", "cookie"):
            loc = dialog_loc(field)
        details.append({"loc": loc, "msg": message, "type": str(item.get("type", "value_error"))})
    first = next(iter(errors))
    return ApiError(422, f"Invalid {first}: {errors[first][0]}", errors=errors, codes=codes, details=details)


def validation_error(exc: ValidationError, prefix: str = "") -> ApiError:
    return errors_from(list(exc.errors(include_url=False, include_input=False)), prefix)


# --- JSON --------------------------------------------------------------------------------


class JSON(JSONResponse):
    """orjson-encoded; a JSONResponse so the OpenAPI document describes bodies as JSON."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


# --- request bodies ----------------------------------------------------------------------


# Bounds of every request body, checked where it enters (see read_body). A body beyond
# them is refused with a 4xx naming the place, before any model or database sees it.
MAX_BODY_BYTES = 4 * 1024 * 1024  # the largest documented body (a 10,000-number campaign) is ~1 MB
MAX_DEPTH = 16  # the deepest documented body nests 4 levels
MAX_ITEMS = 10_000  # items of one list or keys of one object
MAX_STRING = 65_536  # characters of one string (message texts, comments, transcripts)
MAX_KEY = 200  # characters of one key
MAX_FORM_FIELDS = 1000
MAX_BRACKETS = 8  # form keys fold into objects: comment[0][1]... deeper than this is refused


def _path_text(path: list[str | int]) -> str:
    return ".".join(str(part) for part in path) or "body"


def check_value(value: Any, where: list[str | int] | None = None) -> None:
    """Refuse a parsed body beyond the bounds above: depth, sizes, NUL characters, non-finite
    numbers.

    Every body is walked once by :func:`within_bounds`, which only answers yes or no (a
    campaign of 10,000 numbers holds about 90,000 values); a body it says no to is walked
    again by :func:`refuse_out_of_bounds`, which finds the first value out of bounds and names its place
    (the careful walk decides: the quick one only spares it the bodies within bounds)."""
    if not within_bounds(value, len(where or ())):
        refuse_out_of_bounds(value, where)


def within_bounds(value: Any, depth: int) -> bool:
    """Whether ``value``, found ``depth`` levels deep, keeps every bound. Recursive, one level of
    Python's stack a level of the body, and it stops descending past :data:`MAX_DEPTH`: a body
    nested thousands deep is answered no at that depth."""
    kind = type(value)
    if kind is str:
        return len(value) <= MAX_STRING and "\x00" not in value
    if kind is not dict and kind is not list:
        if isinstance(value, dict | list | str):  # a subclass: the careful walk decides
            return False
        return not isinstance(value, float) or math.isfinite(value)
    if len(value) > MAX_ITEMS or (value and depth >= MAX_DEPTH):
        return False
    if kind is dict:
        for key in value:
            if len(key) > MAX_KEY or "\x00" in key:
                return False
    for child in value.values() if kind is dict else value:
        kind = type(child)
        if kind is str:
            if len(child) > MAX_STRING or "\x00" in child:
                return False
        elif (kind is dict or kind is list or kind is float) and not within_bounds(child, depth + 1):
            return False
    return True


def refuse_out_of_bounds(value: Any, where: list[str | int] | None) -> None:
    """Raise the 422 naming the first place in ``value`` beyond the bounds, if any. Iterative,
    so a body nested thousands deep cannot exhaust the stack: objects and lists go on the
    stack, their plain values are checked as they are met, and a value's place is spelled out
    only when it is refused."""
    stack: list[tuple[Any, list[str | int]]] = [(value, list(where or []))]
    while stack:
        item, path = stack.pop()
        if len(path) > MAX_DEPTH or (len(path) == MAX_DEPTH and isinstance(item, dict | list) and item):
            raise ApiError(422, f"{_path_text(path[:MAX_DEPTH])} is nested deeper than {MAX_DEPTH} levels",
                           field=_path_text(path[:MAX_DEPTH]))
        if isinstance(item, dict):
            if len(item) > MAX_ITEMS:
                raise ApiError(422, f"{_path_text(path)} has more than {MAX_ITEMS} keys", field=_path_text(path))
            for key, child in item.items():
                if len(key) > MAX_KEY or "\x00" in key:
                    shown = _path_text([*path, key[:40]])
                    raise ApiError(422, f"{shown}: a key must be at most {MAX_KEY} characters, without NUL",
                                   field=shown)
                if isinstance(child, dict | list):
                    stack.append((child, [*path, key]))
                else:
                    _check_plain(child, path, key)
        elif isinstance(item, list):
            if len(item) > MAX_ITEMS:
                raise ApiError(422, f"{_path_text(path)} has more than {MAX_ITEMS} items", field=_path_text(path))
            for index, child in enumerate(item):
                if isinstance(child, dict | list):
                    stack.append((child, [*path, index]))
                else:
                    _check_plain(child, path, index)
        elif path:
            _check_plain(item, path[:-1], path[-1])
        else:
            _check_plain(item, [], None)


def _check_plain(value: Any, parent: list[str | int], key: str | int | None) -> None:
    """A value that is neither object nor list, at ``key`` of the object or list at ``parent``."""
    if isinstance(value, str):
        if len(value) > MAX_STRING or "\x00" in value:
            check_text(value, _path_text(parent if key is None else [*parent, key]))
    elif isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        place = _path_text(parent if key is None else [*parent, key])
        raise ApiError(422, f"{place} must be a finite number", field=place)


def check_text(text: str, field: str, max_length: int = MAX_STRING) -> None:
    """A string from a client: no NUL (PostgreSQL cannot store one) and at most ``max_length``."""
    if len(text) > max_length:
        raise ApiError(422, f"{field} is longer than {max_length} characters", field=field)
    if "\x00" in text:
        raise ApiError(422, f"{field} contains a NUL character", field=field)


async def read_raw(request: Request) -> bytes:
    """The body's bytes, refused with a 413 beyond :data:`MAX_BODY_BYTES` before it is all read."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, f"body is larger than {MAX_BODY_BYTES} bytes", field="body")
    if hasattr(request, "_body"):
        return request._body
    # The ASGI messages read as Request.stream() reads them, without its generator: a write's
    # body is one message, and every write reads one.
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] != "http.request":  # http.disconnect
            # Nobody is left to read an answer; this keeps a killed client out of the server's error log.
            raise ApiError(400, "the client disconnected before sending the whole body", field="body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiError(413, f"body is larger than {MAX_BODY_BYTES} bytes", field="body")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    raw = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    request._body = raw  # later readers (request.body(), request.form(), request.stream()) get these bytes
    return raw


async def read_body(request: Request) -> dict[str, Any]:
    """The body as a dict, whether sent as JSON, form-data or urlencoded (the documents mix them).

    An empty body reads as ``{}``; malformed JSON is a 400 naming the body. Every body is
    bounded here (size, depth, lengths, NUL, finite numbers): see :func:`check_value`.
    """
    content_type = request.headers.get("content-type", "")
    raw = await read_raw(request)
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        try:
            form = await request.form(max_fields=MAX_FORM_FIELDS)
        except Exception as exc:  # multipart errors surface as several exception types
            raise ApiError(400, f"body is not valid form data: {str(exc)[:200]}", field="body") from None
        data: dict[str, Any] = {}
        for key, value in form.multi_items():
            if not isinstance(value, str):
                raise ApiError(422, f"{key[:40]} must be a text field, not a file", field=key[:40])
            if key.count("[") > MAX_BRACKETS:
                field = key.partition("[")[0][:MAX_KEY] or "body"
                raise ApiError(422, f"{field}: form keys may nest at most {MAX_BRACKETS} brackets deep",
                               field=field)
            if key.endswith("[]"):
                data.setdefault(key[:-2], []).append(value)
            else:
                data[key] = value
        check_value(data)
        return data
    if not raw.strip():
        return {}
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"body is not valid JSON: {str(exc)[:200]}", field="body") from None
    if not isinstance(parsed, dict):
        raise ApiError(422, "body must be a JSON object", field="body")
    check_value(parsed)
    return parsed


async def parse_body(request: Request, model: type[M]) -> M:
    data = await read_body(request)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None

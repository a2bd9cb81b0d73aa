"""Small pieces every fake service shares: ids, UTC dates, errors, body parsing, JSON."""

from __future__ import annotations

import itertools
import os
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import orjson
from fastapi import Header
from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse

if TYPE_CHECKING:
    from leadbridge.sandbox.schema import DialogToken, NeirosToken
    from leadbridge.sandbox.state import Sandbox

Api = Literal["leeloo", "neiros", "dialog", "sandbox"]
M = TypeVar("M", bound=BaseModel)


# --- ids ---------------------------------------------------------------------------------

_counter = itertools.count(random.SystemRandom().randrange(1 << 24))
_process_bytes = os.urandom(5).hex()


def new_oid(at: datetime | None = None) -> str:
    """A Mongo-style ObjectId: 4 bytes of seconds, 5 of process, 3 of counter (24 hex)."""
    seconds = int((at or datetime.now(UTC).replace(tzinfo=None)).replace(tzinfo=UTC).timestamp())
    return f"{seconds & 0xFFFFFFFF:08x}{_process_bytes}{next(_counter) & 0xFFFFFF:06x}"


def seeded_oid(rng: random.Random, at: datetime) -> str:
    """An ObjectId drawn from ``rng`` so demo data is the same for the same seed."""
    seconds = int(at.replace(tzinfo=UTC).timestamp())
    return f"{seconds & 0xFFFFFFFF:08x}{rng.getrandbits(64):016x}"


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
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def iso_stored(value: str | datetime | None) -> str | None:
    """:func:`iso` of a datetime read by hand-written SQL: SQLite returns SQLAlchemy's stored
    text (``2026-11-01 10:00:00.123456``), PostgreSQL a datetime."""
    if isinstance(value, str):
        if len(value) == 26:
            return f"{value[:10]}T{value[11:23]}Z"
        return iso(datetime.fromisoformat(value))
    return iso(value)


def parse_datetime(value: str, field: str) -> datetime:
    """Parse a documented date ('2020-02-10', '2018-06-27 07:32', '…T11:46:48.803Z') to naive UTC."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(422, f"{field} is not a valid date: {value!r}", field=field) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def utc_naive(value: datetime) -> datetime:
    if value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


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


async def read_body(request: Request) -> dict[str, Any]:
    """The body as a dict, whether sent as JSON, form-data or urlencoded (the documents mix them).

    An empty body reads as ``{}``; malformed JSON is a 400 naming the body.
    """
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        try:
            form = await request.form()
        except Exception as exc:  # multipart errors surface as several exception types
            raise ApiError(400, f"body is not valid form data: {exc}", field="body") from None
        data: dict[str, Any] = {}
        for key, value in form.multi_items():
            if not isinstance(value, str):
                raise ApiError(422, f"{key} must be a text field, not a file", field=key)
            if key.endswith("[]"):
                data.setdefault(key[:-2], []).append(value)
            else:
                data[key] = value
        return data
    try:
        raw = await request.body()
    except ClientDisconnect:
        # Nobody is left to read an answer; this keeps a killed client out of the server's error log.
        raise ApiError(400, "the client disconnected before sending the whole body", field="body") from None
    if not raw.strip():
        return {}
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"body is not valid JSON: {exc}", field="body") from None
    if not isinstance(parsed, dict):
        raise ApiError(422, "body must be a JSON object", field="body")
    return parsed


async def parse_body(request: Request, model: type[M]) -> M:
    data = await read_body(request)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None


# Nested body models, merged into the OpenAPI components by the app factory.
EXTRA_SCHEMAS: dict[str, Any] = {}


def body_doc(model: type[BaseModel], *, form: bool = False, example: Any = None) -> dict[str, Any]:
    """``openapi_extra`` documenting a body parsed by :func:`parse_body` (JSON and form alike)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    EXTRA_SCHEMAS.update(schema.pop("$defs", {}))
    json_content: dict[str, Any] = {"schema": schema}
    if example is not None:
        json_content["example"] = example
    content: dict[str, Any] = {"application/json": json_content}
    if form:
        content = {"multipart/form-data": {"schema": schema}, **content}
        content["application/x-www-form-urlencoded"] = {"schema": schema}
    return {"requestBody": {"required": True, "content": content}}


def monotonic_ms() -> float:
    return time.monotonic() * 1000


def sandbox_of(request: Request) -> Sandbox:
    """The sandbox serving this request (``app.state.sandbox``)."""
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def bearer_company(table: type[NeirosToken | DialogToken], description: str, *,
                   refusals: tuple[str, str] | None = None) -> Callable[..., Awaitable[str]]:
    """A route dependency: the company whose Bearer token (of ``table``) the request carries.

    ``refusals``: the 401 messages for a missing and for an unknown token, sent with
    ``WWW-Authenticate: Bearer`` (FastAPI's OAuth2 style); by default the store's own refusal.
    Asynchronous, so FastAPI calls it on the event loop rather than in a worker thread.
    """

    async def company(request: Request, authorization: str | None = Header(None, description=description)) -> str:
        try:
            company_id = sandbox_of(request).bearer_company(authorization, table)
        except ApiError:
            if refusals is None:
                raise
            missing, unknown = refusals
            raise ApiError(401, missing if not authorization else unknown,
                           headers={"WWW-Authenticate": "Bearer"}) from None
        request.state.company_id = company_id
        return company_id

    return company

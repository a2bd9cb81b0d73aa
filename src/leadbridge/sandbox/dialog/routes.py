"""Dialog (Intersvyaz) API over HTTP: login, campaigns and analytics reports."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from leadbridge.contract.days import upper_bound
from leadbridge.sandbox import schema
from leadbridge.sandbox.dependencies import bearer_company, body_doc
from leadbridge.sandbox.dialog import backend, report
from leadbridge.sandbox.dialog.backend import DialogBackend, NewCampaign, ReportFilter
from leadbridge.sandbox.wire import (
    DATE_WINDOW,
    ApiError,
    in_date_window,
    parse_body,
    parse_datetime,
    read_body,
    validation_error,
)

MAX_ID = 2**31 - 1
MAX_PHONES = 10_000

router = APIRouter(tags=["Dialog"])


# FastAPI's OAuth2PasswordBearer refuses a missing token so; an unknown one as its tutorial does.
dialog_company = bearer_company(schema.DialogToken, "Bearer <token from POST /api/login>",
                                refusals=("Not authenticated", "Could not validate credentials"))


Company = Annotated[str, Depends(dialog_company)]


def dialog_backend(request: Request) -> DialogBackend:
    """The Dialog backend of the sandbox serving this request (``app.state.dialog``): a plain call,
    not a FastAPI dependency, which would cost every request a dependency resolution."""
    bound: DialogBackend = request.app.state.dialog
    return bound




def _not_bool(value: Any) -> Any:
    """JSON true/false is not an id, although pydantic's lax mode would take it for 1/0."""
    if isinstance(value, bool):
        raise ValueError("must be an integer")
    return value


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


Id = Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=MAX_ID)]
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class LoginBody(BaseModel):
    login: str = Field(min_length=1, max_length=200, description="Also accepted as `username` (the OAuth2 form)")
    password: str = Field(min_length=1, max_length=200)


class OAuth2Form(BaseModel):
    """The observed login form (FastAPI's OAuth2PasswordRequestForm)."""

    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=200)
    grant_type: str | None = Field(default=None, description='"password" or absent')


def login_doc() -> dict[str, Any]:
    """The login body: JSON login/password (the document) or the OAuth2 form (observed)."""
    doc = body_doc(LoginBody, example=LOGIN_EXAMPLE)
    form = OAuth2Form.model_json_schema()
    content = doc["requestBody"]["content"]
    content["application/x-www-form-urlencoded"] = {"schema": form}
    content["multipart/form-data"] = {"schema": form}
    return doc


class Periods(BaseModel):
    id: Literal[1] = Field(description="Always 1")
    title: Literal["Однократно"] = Field(description='Always "Однократно" (once)')


class Attempts(BaseModel):
    id: Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=5)]
    title: Literal["1", "2", "3", "4", "5"]

    @model_validator(mode="after")
    def _title_matches_id(self) -> Attempts:
        if self.title != str(self.id):
            raise ValueError(f"title {self.title!r} does not match id {self.id}")
        return self


class ScheduleSpec(BaseModel):
    date: str = Field(description="First day, YYYY-MM-DD (UTC)")
    start_time: str = Field(description="Daily start, HH:MM (UTC)")
    end_time: str = Field(description="Daily end, HH:MM (UTC), after start_time")
    periods: Periods
    attempts: Attempts
    interval: str = Field(description="Minutes between attempts at one number (0 to 1440; the vendor's help "
                          "pages show \"0\")")

    @field_validator("date")
    @classmethod
    def _date(cls, value: str) -> str:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError("must be a date as YYYY-MM-DD")
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise ValueError("is not a valid date") from None
        # A campaign runs on the sandbox clock: a first day beyond the window could never be
        # planned (its calls would fall past the calendar's end) and would not read back.
        if not in_date_window(day):
            raise ValueError(f"must be within {DATE_WINDOW}")
        return value

    @field_validator("start_time", "end_time")
    @classmethod
    def _time(cls, value: str) -> str:
        if not HHMM.fullmatch(value):
            raise ValueError("must be a time as HH:MM")
        return value

    @field_validator("end_time")
    @classmethod
    def _after_start(cls, value: str, info: ValidationInfo) -> str:
        start = info.data.get("start_time")
        if start is not None and value <= start:
            raise ValueError(f"must be after start_time ({start})")
        return value

    @field_validator("interval", mode="before")
    @classmethod
    def _interval(cls, value: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip().isdigit() or not 0 <= int(value) <= 1440:
            raise ValueError("must be a whole number of minutes from 0 to 1440, as a string")
        return value.strip()


class CampaignSpec(BaseModel):
    project_id: Id
    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    start_block_id: Id
    schedule: ScheduleSpec
    state: Literal["Создано"] = Field(default="Создано", description='Always "Создано" (created)')
    phone_id: Id = Field(description="Caller phone id")


Scalar = str | int | float | bool | None


class PhoneSpec(BaseModel):
    phone: str = Field(min_length=1, max_length=40, pattern=r"^\+?[0-9][0-9 ()\-]{3,30}$")
    add_data: dict[str, Scalar] = Field(default_factory=dict,
                                        description="Parameters of the scenario's start block, by name")

    @field_validator("phone", mode="before")
    @classmethod
    def _phone_is_text(cls, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError("must be a string")
        return value


class CreateCampaignBody(BaseModel):
    campaign: CampaignSpec
    phones: list[PhoneSpec] = Field(min_length=1, max_length=MAX_PHONES)


class AnalyticsFilter(BaseModel):
    scenario_id: Id
    start_block_id: Id
    outgoing_campaign_id: Id
    date_start: str = Field(description="Calls started at or after (ISO-8601, UTC)")
    date_end: str = Field(description="Calls started at or before (ISO-8601, UTC; a bare date covers the day)")


class ColumnSpec(BaseModel):
    id: int | None = None
    name: str | None = Field(default=None, description="A column's field; see the endpoint's description")
    display_name: str | None = None
    column_type: str | None = Field(default=None, description='Kind of column (the document sends "field")')
    data_type: Annotated[report.DataType | None, BeforeValidator(_blank_is_none)] = None
    filter_type: Annotated[report.FilterType | None, BeforeValidator(_blank_is_none)] = None
    filter_value: str | int | float | bool | None = None
    sorting: Annotated[report.Sorting | None, BeforeValidator(_blank_is_none)] = None


class ReportBody(BaseModel):
    analytics_filter: AnalyticsFilter
    columns: list[ColumnSpec] = Field(default_factory=list, max_length=100)


LOGIN_EXAMPLE = {"login": "demo", "password": "demo"}
CAMPAIGN_EXAMPLE = {
    "campaign": {
        "project_id": 1, "name": "Обзвон клиентов", "description": "Обзвон клиентов для опроса удовлетворенности",
        "start_block_id": 10,
        "schedule": {"date": "2000-01-01", "start_time": "09:00", "end_time": "17:00",
                     "periods": {"id": 1, "title": "Однократно"}, "attempts": {"id": 1, "title": "1"},
                     "interval": "5"},
        "state": "Создано", "phone_id": 5,
    },
    "phones": [{"phone": "+79999999999", "add_data": {"name": "Иванов Иван", "time": "10:00", "phone": 123456}}],
}
REPORT_EXAMPLE = {
    "analytics_filter": {"scenario_id": 951, "start_block_id": 10, "outgoing_campaign_id": 12345,
                         "date_start": "2000-01-01T08:00:59.096Z", "date_end": "2000-01-01T18:04:59.096Z"},
    "columns": [{"id": 1, "name": "phone_number", "display_name": "Phone Number", "column_type": "field",
                 "data_type": "number", "filter_type": "contains", "filter_value": "79999999999", "sorting": "asc"}],
}


LOGIN_DESCRIPTION = """\
Both forms are served: the observed one (the OAuth2 password form that FastAPI's
`OAuth2PasswordRequestForm` reads: form-encoded `username` and `password`, posted to
`/api/login/`) and our reading of the document (`/api/login`, JSON `login` and `password`).
Either path takes either body and either field name. The answer carries `access_token` and
`token_type: "bearer"` (OAuth2) and the same token as `token`. A wrong password is a 401
`{"detail": "Incorrect username or password"}` with `WWW-Authenticate: Bearer`.
"""


async def login(request: Request) -> dict[str, Any]:
    data = await read_body(request)
    if "login" not in data and "username" in data:
        data = {**data, "login": data.pop("username")}
    try:
        body = LoginBody.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None
    company_id, token = dialog_backend(request).login(body.login, body.password)
    request.state.company_id = company_id
    return {"access_token": token, "token_type": "bearer", "token": token}


# Served on both paths directly (a 307 redirect would make some clients drop a POST body);
# the slashed twin is left out of the schema so the OpenAPI document lists the call once.
router.add_api_route("/api/login", login, methods=["POST"], summary="Log in (JSON login/password or the OAuth2 "
                     "form username/password); returns a Bearer token", description=LOGIN_DESCRIPTION,
                     openapi_extra=login_doc())
router.add_api_route("/api/login/", login, methods=["POST"], include_in_schema=False)


@router.post(
    "/api/campaigns",
    summary="Create a call campaign; it runs on the sandbox clock",
    description=backend.__doc__,
    openapi_extra=body_doc(CreateCampaignBody, example=CAMPAIGN_EXAMPLE),
)
async def create_campaign(request: Request, company: Company) -> dict[str, Any]:
    body = await parse_body(request, CreateCampaignBody)
    spec, schedule = body.campaign, body.campaign.schedule
    campaign_id = dialog_backend(request).create_campaign(company, NewCampaign(
        project_id=spec.project_id, name=spec.name, description=spec.description,
        start_block_id=spec.start_block_id, phone_id=spec.phone_id, date=schedule.date,
        start_time=schedule.start_time, end_time=schedule.end_time, attempts=schedule.attempts.id,
        interval_minutes=int(schedule.interval), phones=[(phone.phone, phone.add_data) for phone in body.phones],
    ))
    return {"campaign": {"id": campaign_id}}


@router.get("/api/campaigns/{campaign_id}",
            summary="A campaign's schedule, state and progress (sandbox extension: not in the document)")
async def get_campaign(
    request: Request, company: Company, campaign_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> dict[str, Any]:
    return {"campaign": dialog_backend(request).campaign(company, campaign_id)}


def _column_requests(columns: list[ColumnSpec]) -> list[report.ColumnRequest]:
    return [
        report.ColumnRequest(
            index=index, name=column.name or None, display_name=column.display_name, data_type=column.data_type,
            filter_type=column.filter_type,
            filter_value=None if column.filter_value is None else report.as_text(column.filter_value),
            sorting=column.sorting,
        )
        for index, column in enumerate(columns)
    ]


@router.post(
    "/api/analytics/{project_id}/report",
    summary="Dialogs (placed calls) of a campaign with chosen columns, filters, sorting and totals",
    description=report.__doc__,
    openapi_extra=body_doc(ReportBody, example=REPORT_EXAMPLE),
)
async def analytics_report(
    request: Request, company: Company, project_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> dict[str, Any]:
    body = await parse_body(request, ReportBody)
    flt = body.analytics_filter
    start = parse_datetime(flt.date_start, "analytics_filter.date_start")
    end = upper_bound(parse_datetime(flt.date_end, "analytics_filter.date_end"), flt.date_end)
    if end < start:
        raise ApiError(422, "analytics_filter.date_end must not be before date_start",
                       field="analytics_filter.date_end")
    wanted = ReportFilter(project_id, flt.scenario_id, flt.start_block_id, flt.outgoing_campaign_id, start, end)
    return dialog_backend(request).report(company, wanted, _column_requests(body.columns))

"""Dialog (Intersvyaz AI voice assistant) clients: sync :class:`Dialog`, async :class:`AsyncDialog`.

Bearer token authentication; with a login and password the client logs in on first use
(shared by concurrent calls) and again once on 401. The document gives neither the login
body nor its answer; the SDK logs in the way real clients were seen to: ``POST /api/login/``
(with the trailing slash) carrying the form-encoded ``username`` and ``password`` of an
OAuth2 password form, and reads the token from ``access_token`` (or ``token``; at the top
level or under ``data``). A login answer without a usable token raises
:class:`leadbridge.errors.ResponseValidationError`, a refused one
:class:`~leadbridge.errors.AuthenticationError` or :class:`~leadbridge.errors.ValidationError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Unpack

from leadbridge.contract.days import end_of_day
from leadbridge.contract.dialog import BASE_URL as DEFAULT_BASE_URL
from leadbridge.contract.dialog import ENDPOINTS as E
from leadbridge.sdk._client import AsyncClientMixin, BaseClient, ClientSettings, SyncClientMixin
from leadbridge.sdk._core import Async, Mode, Operation, Resource, Sync, call, endpoint
from leadbridge.sdk._encode import DateLike, TimeLike, clock_time, day, iso_utc
from leadbridge.sdk._http import Dialect
from leadbridge.sdk.models.dialog import Report

LOGIN_PATH = "/api/login/"  # the slash matters: the server redirects the path without it
DIALOG = Dialect("Dialog")
CAMPAIGN_CREATED = "Создано"
ONCE = {"id": 1, "title": "Однократно"}

Phone = str | tuple[str, Mapping[str, Any]] | Mapping[str, Any]
Column = str | Mapping[str, Any]


def _token(body: Any) -> str:
    for holder in (body, body.get("data") if isinstance(body, dict) else None):
        if isinstance(holder, dict):
            for key in ("access_token", "token"):
                value = holder.get(key)
                if isinstance(value, str) and value.strip():
                    return value.strip()
    # A LookupError: the SDK reports it as a login answer it could not read.
    raise LookupError("the Dialog login answer carries no access_token or token")


def _login(login: str, password: str) -> Operation[str]:
    entry = E["login"]  # sent to LOGIN_PATH: the table's path without its trailing slash is redirected
    return Operation(entry.method, LOGIN_PATH, _token, urlencoded={"username": login, "password": password},
                     authenticated=False, idempotent=entry.idempotent)


def _phone(item: Phone) -> dict[str, Any]:
    """``"+7999…"``, ``("+7999…", {...})`` or ``{"phone": …, "add_data": {...}}`` → the documented object."""
    if isinstance(item, str):
        return {"phone": item, "add_data": {}}
    if isinstance(item, tuple):
        number, add_data = item
        return {"phone": number, "add_data": dict(add_data)}
    if "phone" not in item:
        raise ValueError("each phone mapping needs a 'phone' key")
    return {"phone": item["phone"], "add_data": dict(item.get("add_data") or {})}


def _column(column: Column) -> dict[str, Any]:
    if isinstance(column, str):
        return {"name": column}
    return dict(column)


class Campaigns(Resource[Mode]):
    """Outbound call campaigns."""

    @endpoint
    def create(self, project_id: int, name: str, start_block_id: int, phone_id: int, phones: Sequence[Phone],
               date: DateLike, start_time: TimeLike, end_time: TimeLike, attempts: int = 1,
               interval: int | str = 5, description: str | None = None) -> Operation[int]:
        """Create a campaign calling ``phones`` once from ``date`` (UTC day) between the two times;
        returns the campaign id. ``attempts`` (1–5) per number, ``interval`` minutes apart.
        POST /api/campaigns"""
        if not 1 <= attempts <= 5:
            raise ValueError("attempts must be between 1 and 5")
        schedule = {
            "date": day(date),
            "start_time": clock_time(start_time),
            "end_time": clock_time(end_time),
            "periods": dict(ONCE),
            "attempts": {"id": attempts, "title": str(attempts)},
            "interval": str(interval),
        }
        campaign: dict[str, Any] = {"project_id": project_id, "name": name}
        if description is not None:
            campaign["description"] = description
        campaign.update({"start_block_id": start_block_id, "schedule": schedule, "state": CAMPAIGN_CREATED,
                         "phone_id": phone_id})
        body = {"campaign": campaign, "phones": [_phone(item) for item in phones]}
        # Each request creates a campaign that calls the numbers: never sent again once it may have arrived.
        return call(E["campaigns_create"], lambda b: int(b["campaign"]["id"]), json=body)


class Analytics(Resource[Mode]):
    """Results of the dialogs."""

    @endpoint
    def report(self, project_id: int, scenario_id: int, start_block_id: int, outgoing_campaign_id: int,
               date_start: DateLike, date_end: DateLike,
               columns: Sequence[Column] | None = None) -> Operation[Report]:
        """A campaign's dialogs between two instants (UTC): rows keyed by column field, durations, count.
        ``columns`` are column names or full column objects (id, name, filter_type, sorting, …).
        POST /api/analytics/{project_id}/report"""
        body: dict[str, Any] = {
            "analytics_filter": {
                "scenario_id": scenario_id,
                "start_block_id": start_block_id,
                "outgoing_campaign_id": outgoing_campaign_id,
                "date_start": iso_utc(date_start),
                # A bare date as the end covers that day (contract.days), as the sandbox reads one.
                "date_end": iso_utc(date_end if isinstance(date_end, datetime | str) else end_of_day(date_end)),
            },
        }
        if columns is not None:
            body["columns"] = [_column(column) for column in columns]
        # A POST that only reads: asking twice gives the same report.
        return call(E["analytics_report"], Report.model_validate, project_id, json=body)


class _Dialog(BaseClient[Mode]):
    dialect = DIALOG
    default_base_url = DEFAULT_BASE_URL

    def __init__(self, login: str | None = None, password: str | None = None, *, token: str | None = None,
                 base_url: str | None = None, **settings: Unpack[ClientSettings]) -> None:
        self._setup_bearer(("login", login, password), token, _login, base_url, settings)
        self.campaigns: Campaigns[Mode] = Campaigns(self._transport)
        self.analytics: Analytics[Mode] = Analytics(self._transport)


class Dialog(_Dialog[Sync], SyncClientMixin):
    """Blocking Dialog client: ``Dialog(login="…", password="…")`` or ``Dialog(token="…")``."""


class AsyncDialog(_Dialog[Async], AsyncClientMixin):
    """asyncio Dialog client: ``AsyncDialog(login="…", password="…")`` or ``AsyncDialog(token="…")``."""

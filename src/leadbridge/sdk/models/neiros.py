"""Neiros user API records. In the URLs "projects" are deals and "sites" are projects."""

from __future__ import annotations

import datetime as dt

from leadbridge.sdk.models._base import Model, UTCDateTime


class Site(Model):
    """A site (what the Neiros page calls a project)."""

    id: int
    name: str | None = None


class DealSummary(Model):
    """A deal as listed by GET /api/userapi/v1/projects."""

    id: int
    site_id: int | None = None
    date: dt.date | None = None


class Deal(Model):
    """A deal's details: visit, client, call, channel, amount and stage."""

    id: int
    neiros_visit: str | None = None
    neiros_id: str | None = None
    created_at: UTCDateTime | None = None
    phone: str | None = None
    duration: int | None = None
    record: str | None = None
    canal: str | None = None
    traffic: str | None = None
    summ: float | None = None
    status: str | None = None

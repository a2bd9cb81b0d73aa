"""Dialog (Intersvyaz) API over HTTP: login, campaigns and analytics reports."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Dialog"])
